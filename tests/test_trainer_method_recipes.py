"""The shipped long_context, ul2 and dmt recipes built and trained at reduced size (``--set`` on
the shipped files), and a UL2 + sequence-length + RoPE-change run whose resume equals continuing.

Asserts: the RoPE base of the saved phase models and of the checkpoint (10,000 before the
boundary, 500,000 from it), both DMT stages trained with the chat build's ``loss_mask``, UL2
examples trained then a plain phase, and bit-identical weights after a resume across the boundary."""

from __future__ import annotations

import json

import pytest
import torch

from curate.cli import main
from curate.config import from_table
from curate.manifest import Manifest
from tests.test_shipped_recipes import RECIPES, REFERENCE, TINY_MODEL, TINY_TOKENIZER, WEB, phases_trained, sets
from tests.test_train_loop import assert_resume_equals_continue
from tests.train_support import phase
from train.config import TrainConfig

TINY = [m for m in TINY_MODEL if not m.startswith("train.seq_len")] + ["train.seq_len=32"]


def run(*argv, overrides=()) -> None:
    assert main([*argv, *sets(list(overrides))]) == 0, argv


def log_of(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def rope_of(model_dir) -> float:
    return json.loads((model_dir / "config.json").read_text())["rope_parameters"]["rope_theta"]


@pytest.fixture(scope="module")
def ul2_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("ul2") / "build"
    run("build", str(RECIPES / "ul2.toml"), "--no-progress",
        overrides=[f"output.dir={out}", f"sources.web.paths=[{str(WEB)!r}]", "steps.train_tokenizer.vocab_size=320",
                   "steps.train_tokenizer.sample_docs=200", "steps.length.max_chars=2000"])
    return out


def test_long_context_recipe_switches_seq_len_and_rope_at_the_boundary(tmp_path):
    build, run_dir = tmp_path / "build", tmp_path / "run"
    run("build", str(RECIPES / "long_context.toml"), "--no-progress",
        overrides=[f"output.dir={build}", f"sources.web.paths=[{str(WEB)!r}]", *TINY_TOKENIZER,
                   "steps.length.max_chars=1500"])
    manifest = Manifest.load(build)
    assert "length_bucket" in {c.name for c in manifest.columns}
    run("train", str(RECIPES / "long_context.toml"), "--out", str(run_dir),
        overrides=[f"output.dir={build}", *TINY, "train.phases.long.seq_len=64",
                   "phases.short.num_tokens=256", "phases.long.num_tokens=512"])
    log = log_of(run_dir)
    assert phases_trained(log) == ["short", "long"]
    tokens = [r["tokens"] for r in log if r.get("kind") == "train"]
    assert tokens == [64 * (i + 1) for i in range(4)] + [256 + 128 * (i + 1) for i in range(4)]
    assert rope_of(run_dir / "phases" / "short") == 10000.0 and rope_of(run_dir / "phases" / "long") == 500000.0
    ckpt = torch.load(run_dir / "ckpt" / "latest.pt", weights_only=True)
    assert ckpt["rope_theta"] == 500000.0 and ckpt["packer"]["seq_len"] == 64


def test_ul2_recipe_trains_denoisers_then_plain(ul2_build, tmp_path):
    run("train", str(RECIPES / "ul2.toml"), "--out", str(tmp_path / "run"),
        overrides=[f"output.dir={ul2_build}", *TINY, "train.seq_len=48", "phases.ul2.num_tokens=384",
                   "phases.plain.num_tokens=96"])
    log = log_of(tmp_path / "run")
    assert phases_trained(log) == ["ul2", "plain"]
    assert all(r["loss"] > 0 for r in log if r.get("kind") == "train")


def test_ul2_long_context_resume_equals_continue(ul2_build, tmp_path):
    manifest = Manifest.load(ul2_build)
    cfg = from_table(TrainConfig, {
        "hidden_size": 32, "num_layers": 1, "num_heads": 2, "seq_len": 48, "batch_rows": 2, "packing": "whole",
        "holdout_frac": 0.05, "eval_docs_per_group": 2, "log_every": 1, "num_threads": 1, "eval_every": 3,
        "checkpoint_every": 100, "ul2": {},
        "phases": {"b": {"seq_len": 64, "rope_theta": 500000.0, "schedule": "continue"}}}, "train")
    phases = [phase("a", 48 * 2 * 4), phase("b", 64 * 2 * 3)]
    log = assert_resume_equals_continue(manifest, tmp_path, cfg, phases, cuts=[2, 3])
    assert [r["phase"] for r in log if r.get("kind") == "train"] == ["a"] * 4 + ["b"] * 3


def test_dmt_recipe_trains_both_stages_on_assistant_turns(tmp_path):
    data, build, run_dir = tmp_path / "sft", tmp_path / "build", tmp_path / "run"
    run("sft-toy", str(data), "--num-records", "300")
    run("build", str(RECIPES / "dmt.toml"), "--no-progress",
        overrides=[f"output.dir={build}", f"sources.math.paths=[{str(data / 'math.jsonl')!r}]",
                   f"sources.general.paths=[{str(data / 'general_sharegpt.jsonl')!r}, "
                   f"{str(data / 'general_alpaca.jsonl')!r}]", "steps.train_tokenizer.vocab_size=300"])
    manifest = Manifest.load(build)
    assert {c.name for c in manifest.columns} >= {"loss_mask", "tokens"}
    assert manifest.sources["general"].num_docs == 600
    run("train", str(RECIPES / "dmt.toml"), "--out", str(run_dir),
        overrides=[f"output.dir={build}", *TINY, "train.seq_len=64", "phases.specialised.num_tokens=512",
                   "phases.mixed.num_tokens=512", "phases.mixed.mixture.fractions={math = 0.01}"])
    log = log_of(run_dir)
    assert phases_trained(log) == ["specialised", "mixed"]
    weights = [r["weights"] for r in log if r.get("kind") == "eval" and "weights" in r]
    assert weights[0] == {"general": 0.0, "math": 1.0}
    assert 0 < weights[-1]["math"] < 0.5 < weights[-1]["general"]
