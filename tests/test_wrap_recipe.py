"""recipes/wrap.toml end to end at reduced size: rephrase with the model `curate train` made in the
session, then a 1:1 real:synthetic `group_by = "style"` phase trained a few steps."""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.cli import main
from curate.manifest import Manifest
from tests.conftest import REPO

WEB = REPO / "tests" / "data" / "web_sample.jsonl.zst"
TINY = ["train.hidden_size=16", "train.num_layers=1", "train.num_heads=2", "train.seq_len=32",
        "train.batch_rows=2", "train.eval_every=4", "train.eval_docs_per_group=4", "train.num_threads=1",
        "train.log_every=1", "phases.pretrain.num_tokens=512"]


def sets(items):
    return [a for item in items for a in ("--set", item)]


def test_wrap_recipe_builds_and_trains_one_to_one(trained_model, tmp_path):
    recipe = str(REPO / "recipes" / "wrap.toml")
    common = [f"output.dir={tmp_path / 'build'}", f"sources.web.paths=[{str(WEB)!r}]",
              "steps.length.max_chars=400", f"steps.rephrase.model={trained_model}",
              "steps.rephrase.max_new_tokens=6", f"steps.rephrase.cache_dir={tmp_path / 'cache'}",
              "steps.train_tokenizer.vocab_size=300"]
    assert main(["build", recipe, "--no-progress", *sets(common)]) == 0
    manifest = Manifest.load(tmp_path / "build")
    styles = pc.value_counts(pq.read_table([tmp_path / "build" / s.path for s in manifest.shards][0]
                                           ).column("style")).to_pylist()
    assert {s["values"] for s in styles} == {"original", "medium", "qa"}
    assert main(["train", recipe, "--out", str(tmp_path / "run"), *sets(common + TINY)]) == 0
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert any(r.get("kind") == "train" and r["phase"] == "pretrain" for r in log)
    assert (tmp_path / "run" / "final" / "config.json").is_file()
