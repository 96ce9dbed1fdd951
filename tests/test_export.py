"""Exports read back by independent readers equal the build's shard tokens, document by document."""

from __future__ import annotations

import json
import struct
import warnings

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.build import build
from curate.cli import main
from curate.export.sequences import join_prefix
from curate.manifest import Manifest
from curate.text.hashing import holdout_mask
from curate.tokens.tokenizer import file_sha256
from curate.recipe import parse_recipe
from tests.mds_streaming import INSTALL, read_and_rewrite, streaming_installed
from tests.tokens_helpers import REPO, WEB_SAMPLE

RECIPE = {
    "recipe": {"name": "export-test", "seed": 3},
    "sources": [{"name": "web", "paths": [str(WEB_SAMPLE)]}],
    "steps": [
        {"use": "length", "min_words": 50},
        {"use": "lang_id", "languages": [], "min_score": 0.0},
        {"use": "train_tokenizer", "vocab_size": 700, "sample_docs": 150},
        {"use": "prefix", "kind": "control", "control": {"score_column": "lang_score", "threshold": 0.9,
                                                          "higher_is_better": True, "drop_token_fraction": 0.2}},
        {"use": "prefix", "kind": "url_domain", "append": True},
        {"use": "tokenize"},
    ],
    "output": {"dir": "out", "max_shard_rows": 60},
}


def make_build(root, workers=1) -> Manifest:
    recipe = parse_recipe(RECIPE | {"output": RECIPE["output"] | {"dir": str(root)}}, REPO / "recipes" / "x.toml")
    return build(recipe, workers=workers)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return make_build(tmp_path_factory.mktemp("build") / "out")


def shard_docs(manifest: Manifest, with_prefix: bool) -> list[tuple[str, list[int]]]:
    """(id, expected sequence) per document, straight from the shards."""
    out = []
    for path in manifest.shard_paths():
        for r in pq.read_table(path).to_pylist():
            seq = r["tokens"]
            if with_prefix:
                seq = list(seq)
                for p, i in sorted(zip(r["control_positions"], r["control_ids"]), key=lambda x: -x[0]):
                    seq.insert(p, i)
                seq = (r["prefix_tokens"] or []) + seq
            out.append((r["id"], seq))
    return out


def export(manifest, fmt, tmp_path, with_prefix):
    out = tmp_path / f"{fmt}-{with_prefix}"
    args = ["export", str(manifest.root), "--format", fmt, "--out", str(out)] + (["--with-prefix"] * with_prefix)
    assert main(args) == 0
    info = orjson.loads((out / "export.json").read_bytes())
    lineage = pq.read_table(out / "lineage.parquet").to_pylist()
    assert info["with_prefix"] is with_prefix and info["format"] == fmt
    return out, info, lineage


def test_manifest_and_build_determinism(built, tmp_path):
    tok = built.tokenizer
    assert tok.path == "tokenizer.json" and tok.dtype == "uint16" and tok.vocab_size == 700
    assert tok.eos_id == 0 and tok.special_tokens == {"<|endoftext|>": 0, "<|aligned|>": 1, "<|misaligned|>": 2}
    assert tok.sha256 == file_sha256(built.root / "tokenizer.json")
    assert sum(built.tokens_by_source().values()) > 0
    prefixes = pq.read_table(built.shard_paths()[0], columns=["prefix_text"]).column("prefix_text").to_pylist()
    assert any(p.startswith("<|aligned|>URL: ") for p in prefixes) and any(p.startswith("URL: ") for p in prefixes)
    other = make_build(tmp_path / "w2", workers=2)
    assert (other.root / "tokenizer.json").read_bytes() == (built.root / "tokenizer.json").read_bytes()
    for a, b in zip(built.shard_paths(), other.shard_paths(), strict=True):
        assert a.read_bytes() == b.read_bytes()


def read_megatron_idx(prefix):
    """Independent reader of the documented IndexedDataset layout (not curate's writer)."""
    idx = (prefix.parent / (prefix.name + ".idx")).read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00" and struct.unpack("<Q", idx[9:17])[0] == 1
    dtype = {8: np.uint16, 4: np.int32}[idx[17]]
    n, docs = struct.unpack("<QQ", idx[18:34])
    lengths = np.frombuffer(idx, np.int32, n, 34)
    pointers = np.frombuffer(idx, np.int64, n, 34 + 4 * n)
    data = np.fromfile(prefix.parent / (prefix.name + ".bin"), dtype)
    return [data[p // dtype().itemsize: p // dtype().itemsize + n_].tolist() for p, n_ in zip(pointers, lengths)]


@pytest.mark.parametrize("with_prefix", [False, True])
def test_megatron(built, tmp_path, with_prefix):
    out, info, lineage = export(built, "megatron", tmp_path, with_prefix)
    expected = shard_docs(built, with_prefix)
    assert read_megatron_idx(out / "data") == [seq for _, seq in expected]
    assert [r["id"] for r in lineage] == [i for i, _ in expected]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        indexed = pytest.importorskip("megatron.core.datasets.indexed_dataset",
                                      reason="megatron-core is in the dev extra: pip install -e '.[dev]'")
    ds = indexed.IndexedDataset(str(out / "data"))
    assert len(ds) == len(expected)
    for i, (_, seq) in enumerate(expected):
        assert ds[i].tolist() == seq


@pytest.mark.parametrize("with_prefix", [False, True])
def test_nanogpt(built, tmp_path, with_prefix):
    out, info, lineage = export(built, "nanogpt", tmp_path, with_prefix)
    files = {name: np.memmap(out / name, dtype=np.uint16, mode="r") for name in ("train.bin", "val.bin")}
    expected = dict(shard_docs(built, with_prefix))
    val = {i for i, m in zip(expected, holdout_mask(pa.array(list(expected)), 3, 0.01)) if m}
    assert val and [r["id"] for r in lineage] == [i for i in expected if i not in val] + [i for i in expected if i in val]
    for r in lineage:
        assert r["file"] == ("val.bin" if r["id"] in val else "train.bin")
        assert files[r["file"]][r["offset"]: r["offset"] + r["num_tokens"]].tolist() == expected[r["id"]]
    for name, data in files.items():
        assert data[-1] == 0 and len(data) == info["file_tokens"][name]  # EOS after every document
    assert sum(r["num_tokens"] for r in lineage) == info["num_tokens"] == sum(len(d) for d in files.values())


def read_mds(out):
    """Independent MDS reader from the documented layout (streaming's format docs)."""
    index = json.loads((out / "index.json").read_text())
    samples = []
    for shard in index["shards"]:
        raw = (out / shard["raw_data"]["basename"]).read_bytes()
        n = struct.unpack("<I", raw[:4])[0]
        offsets = np.frombuffer(raw, np.uint32, n + 1, 4)
        names, encs, sizes = shard["column_names"], shard["column_encodings"], shard["column_sizes"]
        for a, b in zip(offsets[:-1], offsets[1:]):
            blob = raw[a:b]
            var = [s is None for s in sizes]
            head = np.frombuffer(blob, np.uint32, sum(var), 0).tolist()
            pos, sample = 4 * sum(var), {}
            for name, enc, size in zip(names, encs, sizes):
                size = head.pop(0) if size is None else size
                field = blob[pos:pos + size]
                pos += size
                if enc == "str":
                    sample[name] = field.decode()
                elif enc == "int32":
                    sample[name] = int(np.frombuffer(field, np.int32)[0])
                else:
                    shape_dtype = [np.uint8, np.uint16, np.uint32, np.uint64][field[0] & 3]
                    width = np.dtype(shape_dtype).itemsize
                    (length,) = np.frombuffer(field, shape_dtype, field[0] >> 2, 1)
                    sample[name] = np.frombuffer(field, enc.split(":")[1], int(length), 1 + width).tolist()
            samples.append(sample)
    return samples


@pytest.mark.parametrize("with_prefix", [False, True])
def test_mds(built, tmp_path, with_prefix):
    out, info, lineage = export(built, "mds", tmp_path, with_prefix)
    expected = shard_docs(built, with_prefix)
    got = read_mds(out)
    assert [(s["id"], s["tokens"]) for s in got] == expected
    assert [s["num_prefix_tokens"] for s in got] == [r["num_prefix_tokens"] for r in lineage]
    if not streaming_installed():
        pytest.skip(f"mosaicml-streaming not installed: {INSTALL}")
    theirs = read_and_rewrite(out, tmp_path / "theirs")  # the real StreamingDataset and MDSWriter
    assert theirs == got
    for name in info["files"]:
        assert (tmp_path / "theirs" / name).read_bytes() == (out / name).read_bytes()


@pytest.mark.parametrize("with_prefix", [False, True])
def test_hf(built, tmp_path, with_prefix):
    datasets = pytest.importorskip("datasets")
    out, info, lineage = export(built, "hf", tmp_path, with_prefix)
    ds = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf-cache"))  # README.md configs, no arguments
    assert list(ds) == ["train"]
    assert list(zip(ds["train"]["id"], ds["train"]["input_ids"])) == shard_docs(built, with_prefix)


def test_export_refuses_non_empty_dir(built, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    assert main(["export", str(built.root), "--format", "hf", "--out", str(tmp_path / "x")]) == 2


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.lists(st.integers(3, 99), max_size=6), st.lists(st.integers(3, 99), max_size=3),
                          st.lists(st.tuples(st.integers(0, 6), st.integers(1, 2)), max_size=3)), max_size=5))
def test_join_prefix_matches_per_document_reference(docs):
    def parts(lists, dtype):
        flat = np.array([x for lst in lists for x in lst], dtype)
        return flat, np.array([len(lst) for lst in lists], np.int64)

    tokens = parts([d[0] for d in docs], np.uint16)
    prefix = parts([d[1] for d in docs], np.uint16)
    ctrl = [sorted((min(p, len(d[0])), i) for p, i in d[2]) for d in docs]
    c_pos, c_len = parts([[p for p, _ in c] for c in ctrl], np.int64)
    c_ids, _ = parts([[i for _, i in c] for c in ctrl], np.int64)
    flat, lengths = join_prefix(tokens, prefix, (c_pos, c_ids, c_len))
    expected = []
    for d, c in zip(docs, ctrl):
        seq = list(d[0])
        for p, i in reversed(c):
            seq.insert(p, i)
        expected.append(d[1] + seq)
    got = [x.tolist() for x in np.split(flat, np.cumsum(lengths)[:-1])] if docs else []
    assert got == expected and lengths.tolist() == [len(e) for e in expected]


def test_export_of_an_untokenized_build_is_a_one_line_error(tmp_path, capsys):
    recipe = parse_recipe(RECIPE | {"steps": RECIPE["steps"][:1], "output": {"dir": str(tmp_path / "b")}},
                          REPO / "recipes" / "x.toml")
    build(recipe)
    assert main(["export", str(tmp_path / "b"), "--format", "nanogpt"]) == 2
    assert "add a tokenize step" in capsys.readouterr().err
