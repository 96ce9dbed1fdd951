"""manifest.json: typed fields, one constructor, one reader and writer, the on-disk format kept;
artefacts (the trained tokenizer) published by the runner and bound into later steps explicitly."""

from __future__ import annotations

import dataclasses

import orjson
import pyarrow as pa
import pytest

from curate.build import build
from curate.errors import CurateError, RecipeError
from curate.manifest import MANIFEST_NAME, Manifest, RecipeRef, ShardEntry, TokenizerInfo, make_manifest
from curate.recipe import parse_recipe
from curate.steps.step import bind_artefacts
from curate.steps.tokenize import Tokenize
from curate.tokens.tokenizer import file_sha256
from curate.writers import ShardWriter
from tests.mix_fixtures import write_build
from tests.tokens_helpers import REPO, WEB_SAMPLE, small_tokenizer

KEYS_V1 = ["columns", "format_version", "inputs", "recipe", "shards", "sources", "tokenizer", "tool"]


def test_constructor_derives_sources_and_columns_and_round_trips(tmp_path):
    manifest = write_build(tmp_path, {"a": [3, 4, 5], "b": [6]}, shard_rows=2)
    assert [(s.source, s.num_docs, s.num_tokens) for s in manifest.shards] == [("a", 2, 7), ("a", 1, 5), ("b", 1, 6)]
    assert {n: (s.num_docs, s.num_shards, s.num_tokens) for n, s in manifest.sources.items()} == \
        {"a": (3, 2, 12), "b": (1, 1, 6)}
    assert [c.name for c in manifest.columns] == ["id", "text", "source", "url", "tokens", "num_tokens"]
    data = orjson.loads((tmp_path / MANIFEST_NAME).read_bytes())
    assert sorted(data) == KEYS_V1 and data["format_version"] == 1 and data["tokenizer"] is None
    assert Manifest.load(tmp_path) == manifest


def test_sources_without_shards_are_listed_with_null_tokens(tmp_path):
    writer = ShardWriter(tmp_path / "shards", "part-00000", max_shard_rows=10, max_shard_bytes=2**20, row_group_rows=4)
    writer.write(pa.RecordBatch.from_pydict({"id": ["x"], "text": pa.array(["t"], pa.large_string())}))
    (info,) = writer.close()
    entry = ShardEntry(path=f"shards/{info.path}", source="web", num_docs=1, num_bytes=info.num_bytes)
    m = make_manifest(tmp_path, recipe=RecipeRef(name="r", fingerprint="f", path="", seed=0), shards=[entry],
                      source_names=["web", "empty"])
    assert m.sources["empty"].num_docs == 0 and m.sources["empty"].num_tokens is None
    assert m.sources["web"].num_tokens is None  # no token counts in the shard


@pytest.mark.parametrize("text, message", [
    (b'{"format_version": 1, "shards": [', "not valid JSON"),
    (b'[1, 2]', "format_version None is not supported"),
    (b'{"format_version": 2}', "format_version 2 is not supported"),
    (b'{"format_version": 1, "recipe": {"name": "r"}}', "manifest.recipe: missing key 'fingerprint'"),
    (b'{"format_version": 1, "recipe": {"name": "r", "fingerprint": "f", "path": "", "seed": 0}, '
     b'"sources": {}, "shards": [{"path": 3}]}', r"manifest.shards\[0\].path: got 3; expected string"),
])
def test_odd_manifests_are_one_line_errors(tmp_path, text, message):
    (tmp_path / MANIFEST_NAME).write_bytes(text)
    with pytest.raises(CurateError, match=message) as info:
        Manifest.load(tmp_path)
    assert "\n" not in str(info.value) and str(tmp_path) in str(info.value)


def test_bind_artefacts_fills_only_unset_fields(tmp_path):
    tok = small_tokenizer(tmp_path / "tokenizer.json")
    other = small_tokenizer(tmp_path / "other.json", vocab_size=300)
    assert bind_artefacts(Tokenize(), {"tokenizer.json": tok}).tokenizer == tok
    assert bind_artefacts(Tokenize(tokenizer=other), {"tokenizer.json": tok}).tokenizer == other
    assert bind_artefacts(Tokenize(), {}).tokenizer is None
    step = Tokenize(add_bos=False)
    assert bind_artefacts(step, {"unrelated.bin": tok}) is step


def _build(root, steps):
    data = {"recipe": {"name": "m", "seed": 1}, "sources": [{"name": "web", "paths": [str(WEB_SAMPLE)]}],
            "steps": [{"use": "length", "min_words": 50}, *steps], "output": {"dir": str(root)}}
    return build(parse_recipe(data, REPO / "recipes" / "x.toml"))


def test_trained_tokenizer_is_published_by_the_runner_and_recorded(tmp_path):
    m = _build(tmp_path / "out", [{"use": "train_tokenizer", "vocab_size": 400, "sample_docs": 50}, {"use": "tokenize"}])
    path = tmp_path / "out" / "tokenizer.json"
    assert m.tokenizer == TokenizerInfo(path="tokenizer.json", sha256=file_sha256(path), vocab_size=400,
                                        dtype="uint16", special_tokens=m.tokenizer.special_tokens,
                                        eos_id=0, origin=str(path))
    assert m.tokenizer.special_tokens == {"<|endoftext|>": 0, "<|aligned|>": 1, "<|misaligned|>": 2}
    assert not (tmp_path / "out" / "work").exists() and sum(m.tokens_by_source().values()) > 0
    stats = orjson.loads((tmp_path / "out" / "stats.json").read_bytes())
    assert stats["global_steps"]["1:train_tokenizer"]["artefacts"] == ["tokenizer.json"]
    assert sorted(orjson.loads((tmp_path / "out" / MANIFEST_NAME).read_bytes())) == KEYS_V1


def test_external_tokenizer_is_copied_next_to_the_shards(tmp_path):
    tok = small_tokenizer(tmp_path / "mine.json", vocab_size=300)
    m = _build(tmp_path / "out", [{"use": "tokenize", "tokenizer": str(tok)}])
    assert (tmp_path / "out" / "tokenizer.json").read_bytes() == tok.read_bytes()
    assert dataclasses.replace(m.tokenizer, origin=None).sha256 == file_sha256(tok) and m.tokenizer.vocab_size == 300


def test_a_step_whose_artefact_nobody_makes_fails_at_parse_time():
    data = {"recipe": {"name": "m"}, "sources": [{"name": "web", "paths": [str(WEB_SAMPLE)]}],
            "steps": [{"use": "tokenize"}, {"use": "train_tokenizer"}], "output": {"dir": "out"}}
    with pytest.raises(RecipeError, match=r"^steps\[0\] \(tokenize\): no `tokenizer` given and no earlier step "
                                          r"makes tokenizer.json; put train_tokenizer before it, or set tokenizer = PATH$"):
        parse_recipe(data, REPO / "recipes" / "x.toml")


def test_resume_binds_the_artefact_recorded_by_the_finished_resolve(tmp_path, monkeypatch):
    """Killed after every stage ran (reports not written): the rerun skips all work, takes the
    tokenizer from the resolve marker, and ends with the uninterrupted build's manifest and shards."""
    import curate.report

    steps = [{"use": "train_tokenizer", "vocab_size": 400, "sample_docs": 50}, {"use": "tokenize"}]
    reference = _build(tmp_path / "ref", steps)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    real = curate.report.write_reports
    monkeypatch.setattr(curate.report, "write_reports", killed)
    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path / "out", steps)
    assert (tmp_path / "out" / "work" / "d0" / "resolve.done.json").is_file()
    monkeypatch.setattr(curate.report, "write_reports", real)
    resumed = _build(tmp_path / "out", steps)
    assert dataclasses.replace(resumed.tokenizer, origin=None) == dataclasses.replace(reference.tokenizer, origin=None)
    assert [s.path for s in resumed.shards] == [s.path for s in reference.shards]
    for a, b in zip(resumed.shard_paths(), reference.shard_paths(), strict=True):
        assert a.read_bytes() == b.read_bytes()
