"""Exports used the way their tools use them: nanoGPT's train.py data path, Megatron's --data-path
blends, Hugging Face load_dataset(DIR). On the session's token build (tests/train_support.py: sources
web and wiki, a skill column, phases pretrain and cooldown, a [train] section)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.manifest import Manifest
from curate.text.hashing import holdout_mask

# What nanoGPT's train.py does with data/<dataset>/ (karpathy/nanoGPT train.py: meta.pkl -> vocab_size,
# get_batch over np.memmap(uint16) of train.bin / val.bin), with its defaults: only --dataset is set.
NANOGPT = r"""
import json, os, pickle, sys
import numpy as np, torch
dataset = sys.argv[1].split("=", 1)[1]
data_dir = os.path.join("data", dataset)
block_size, batch_size = 1024, 12
meta_path = os.path.join(data_dir, "meta.pkl")
meta_vocab_size = None
if os.path.exists(meta_path):
    with open(meta_path, "rb") as f:
        meta = pickle.load(f)
    meta_vocab_size = meta["vocab_size"]
torch.manual_seed(1337)
def get_batch(split):
    data = np.memmap(os.path.join(data_dir, "train.bin" if split == "train" else "val.bin"), dtype=np.uint16, mode="r")
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy((data[i:i+block_size]).astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy((data[i+1:i+1+block_size]).astype(np.int64)) for i in ix])
    return x, y
emb = torch.nn.Embedding(meta_vocab_size, 8)
head = torch.nn.Linear(8, meta_vocab_size)
losses = {}
for split in ("train", "val"):
    x, y = get_batch(split)
    losses[split] = float(torch.nn.functional.cross_entropy(head(emb(x)).view(-1, meta_vocab_size), y.view(-1)))
print(json.dumps({"vocab_size": meta_vocab_size, "losses": losses, "max_id": int(x.max())}))
"""


@pytest.fixture
def build_dir(token_build):
    return token_build.manifest.root


def _shard_ids(manifest: Manifest, column: str | None = None) -> list[tuple[str, str, list[int]]]:
    out = []
    for entry, path in zip(manifest.shards, manifest.shard_paths()):
        t = pq.read_table(path)
        groups = t.column(column).to_pylist() if column else [entry.source] * t.num_rows
        out += list(zip(t.column("id").to_pylist(), groups, t.column("tokens").to_pylist()))
    return out


def test_nanogpt_train_py_runs_on_the_export(build_dir, tmp_path):
    manifest = Manifest.load(build_dir)
    out = tmp_path / "nanoGPT" / "data" / "curated"
    assert main(["export", str(build_dir), "--format", "nanogpt", "--out", str(out)]) == 0
    info = orjson.loads((out / "export.json").read_bytes())
    assert info["val_frac"] == 0.05 and info["split_seed"] == 3  # the recipe's [train] holdout_frac and seed
    docs = _shard_ids(manifest)
    ids = pa.array([d[0] for d in docs])
    val = holdout_mask(ids, 3, 0.05)
    for name, chosen in (("train.bin", ~val), ("val.bin", val)):
        expected = [t for (_, _, t), c in zip(docs, chosen) if c]
        assert np.fromfile(out / name, np.uint16).tolist() == [x for t in expected for x in t]
    assert info["file_tokens"]["val.bin"] > 1024  # enough for nanoGPT's default block_size
    run = subprocess.run([sys.executable, "-c", NANOGPT, "--dataset=curated"], cwd=tmp_path / "nanoGPT",
                         capture_output=True, text=True, check=True)
    result = json.loads(run.stdout)
    assert result["vocab_size"] == manifest.tokenizer.vocab_size == 512 and result["max_id"] < 512
    assert all(np.isfinite(v) for v in result["losses"].values())


def test_nanogpt_split_follows_val_frac_and_seed(build_dir, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["export", str(build_dir), "--format", "nanogpt", "--out", str(a), "--val-frac", "0.1"]) == 0
    assert main(["export", str(build_dir), "--format", "nanogpt", "--out", str(b), "--val-frac", "0.2",
                 "--seed", "3"]) == 0
    val = {p: set(pq.read_table(p / "lineage.parquet").filter(pa.compute.equal(
        pa.compute.field("file"), "val.bin")).column("id").to_pylist()) for p in (a, b)}
    assert val[a] < val[b]  # same seed (the recipe's), a larger fraction holds out a superset


def test_megatron_blends_per_phase(build_dir, tmp_path, capsys):
    manifest = Manifest.load(build_dir)
    out = tmp_path / "meg"
    assert main(["export", str(build_dir), "--format", "megatron", "--out", str(out),
                 "--phase", "pretrain", "--phase", "cooldown"]) == 0
    printed = capsys.readouterr().out.splitlines()
    info = orjson.loads((out / "export.json").read_bytes())
    assert info["data_prefixes"] == ["skill-com", "skill-other", "source-web", "source-wiki"]
    assert printed[-1] == ("  note: phase pretrain has conditioning = true: export it with --with-prefix "
                           "for the form `curate train` uses")
    assert main(["mix", "plan", str(manifest.recipe.path), "--json"]) == 0
    plans = {p["phase"]: p["groups"] for p in orjson.loads(capsys.readouterr().out)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        utils = pytest.importorskip("megatron.core.datasets.utils", reason="megatron-core is in the dev extra")
        indexed = pytest.importorskip("megatron.core.datasets.indexed_dataset")
    for phase, group_by, column in (("pretrain", "source", None), ("cooldown", "skill", "skill")):
        blend = info["blends"][phase]
        assert f"  {phase} (phase of {blend['num_tokens']:,} tokens): --data-path {blend['data_path']}" in printed
        prefixes, weights = utils.get_blend_from_list(blend["data_path"].split())
        shares = {r["group"]: r["share"] for r in plans[phase] if r["requested"]}
        assert [p.rsplit("/", 1)[1] for p in prefixes] == [f"{group_by}-{g}" for g in sorted(shares)]
        assert weights == pytest.approx([shares[g] for g in sorted(shares)], abs=1e-6)
        docs = _shard_ids(manifest, column)
        for prefix, group in zip(prefixes, sorted(shares)):
            ds = indexed.IndexedDataset(prefix)
            assert [ds[i].tolist() for i in range(len(ds))] == [t for _, g, t in docs if g == group]


def test_megatron_natural_blend_and_wrong_flags(build_dir, tmp_path, capsys):
    out = tmp_path / "nat"
    assert main(["export", str(build_dir), "--format", "megatron", "--out", str(out), "--blend-by", "source"]) == 0
    info = orjson.loads((out / "export.json").read_bytes())
    words = info["blends"]["source"]["data_path"].split()
    tokens = info["group_tokens"]["source"]
    assert [w.rsplit("/", 1)[1] for w in words[1::2]] == ["source-web", "source-wiki"]
    assert [float(w) for w in words[::2]] == pytest.approx(
        [tokens["web"] / sum(tokens.values()), tokens["wiki"] / sum(tokens.values())], abs=1e-6)
    capsys.readouterr()
    assert main(["export", str(build_dir), "--format", "hf", "--out", str(tmp_path / "x"), "--phase", "p"]) == 2
    assert main(["export", str(build_dir), "--format", "megatron", "--out", str(tmp_path / "y"),
                 "--phase", "nope"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "curate export: error: --phase and --blend-by make Megatron blends; not with --format hf"
    assert err[1].startswith("curate export: error: --phase 'nope': no such phase in ")
    assert not (tmp_path / "y").exists()


def test_hf_load_dataset_dir_with_validation_split(build_dir, tmp_path):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "hf"
    assert main(["export", str(build_dir), "--format", "hf", "--out", str(out), "--val-frac", "0.1"]) == 0
    assert (out / "README.md").read_text().startswith(
        '---\nconfigs:\n- config_name: default\n  data_files:\n  - split: "train"\n    path: "data/train-*.parquet"\n'
        '  - split: "validation"\n    path: "data/validation-*.parquet"\n---\n')
    ds = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    docs = _shard_ids(Manifest.load(build_dir))
    val = holdout_mask(pa.array([d[0] for d in docs]), 3, 0.1)
    assert ds["validation"]["id"] == [d[0] for d, v in zip(docs, val) if v]
    assert list(zip(ds["train"]["id"], ds["train"]["input_ids"])) == [(d[0], d[2]) for d, v in zip(docs, val) if not v]
