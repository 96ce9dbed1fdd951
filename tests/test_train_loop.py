"""The training loop on a build made by `curate build`, drawing through the real mixers sampler:
resume equals continue (soups, conditioning, Skill-It observe -> replan), the logged LR is the
planned curve, validation documents are never trained on, loss falls on real text, and the saved
model loads. Models are tiny (width 32, 2 layers, 32-token rows) and runs are a few steps."""

from __future__ import annotations

import json

import mixers
import orjson
import pytest
import torch

from curate.config import from_table
from curate.errors import CurateError
from tests.train_support import phase
from train import checkpoint
from train.config import TrainConfig
from train.loop import open_run, phase_sampler, train
from train.plan import lr_curves, plan

TINY = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "seq_len": 32, "batch_rows": 4,
        "holdout_frac": 0.05, "eval_docs_per_group": 4, "log_every": 1, "num_threads": 1}


def config(**kw) -> TrainConfig:
    return from_table(TrainConfig, {**TINY, **kw}, "train")


def records(run_dir) -> list[dict]:
    return [orjson.loads(line) for line in (run_dir / "log.jsonl").read_bytes().splitlines()]


def weights(run_dir) -> bytes:
    files = sorted((run_dir / "final").glob("*.safetensors"))
    assert files, f"no final weights in {run_dir}"
    return b"".join(f.read_bytes() for f in files)


def assert_resume_equals_continue(manifest, tmp_path, cfg, phases, cuts):
    """A run stopped after each of ``cuts`` steps and resumed ends with the uninterrupted run's log
    bytes and final weights."""
    full = train(manifest, phases, cfg, 0, tmp_path / "full")
    for n in cuts:
        first = not (tmp_path / "cut").exists()
        assert train(manifest, phases, cfg, 0, tmp_path / "cut", resume=not first, stop_after_steps=n)["stopped"]
    rest = train(manifest, phases, cfg, 0, tmp_path / "cut", resume=True)
    assert rest["global_step"] == full["global_step"] and rest["tokens"] == full["tokens"]
    log = (tmp_path / "full" / "log.jsonl").read_bytes()
    assert (tmp_path / "cut" / "log.jsonl").read_bytes() == log
    assert weights(tmp_path / "cut") == weights(tmp_path / "full")
    return records(tmp_path / "full")


def test_resume_equals_continue_through_phases_and_a_soup(token_build, tmp_path):
    cfg = config(eval_every=2, checkpoint_every=100, lr=3e-3,
                 phases={"a": {"schedule": "cosine", "warmup_frac": 0.2},
                         "b": {"schedule": "linear_decay", "soup_seeds": [1, 2]}})
    tps = cfg.tokens_per_step
    phases = (phase("a", 5 * tps, conditioning=True), phase("b", 3 * tps, group_by="skill"))
    # cut inside phase a, then inside soup branch 1 (5 steps of a + 2 of the branch)
    log = assert_resume_equals_continue(token_build.manifest, tmp_path, cfg, phases, cuts=[3, 4])
    assert [r["global_step"] for r in log if r["kind"] == "train"] == [1, 2, 3, 4, 5, 6, 7, 8, 6, 7, 8]
    soup = [r for r in log if r.get("branch") == "soup"]
    assert len(soup) == 1 and soup[0]["global_step"] == 8


def test_skill_it_observe_replan_checkpoint_resume_equals_continue(token_build, tmp_path):
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps({"skills": ["com", "other"], "matrix": [[1.0, 0.5], [0.0, 1.0]]}))
    cfg = config(eval_every=2, checkpoint_every=3, lr=3e-3, phases={"a": {"schedule": "constant"}})
    phases = (phase("a", 9 * cfg.tokens_per_step, group_by="skill",
                    mixture={"strategy": "skill_it", "graph": str(graph), "eta": 2.0, "window": 2}),)
    # cut at step 5: after two observe -> replan rounds, in the middle of the third
    log = assert_resume_equals_continue(token_build.manifest, tmp_path, cfg, phases, cuts=[5])
    rounds = [r["weights"] for r in log if r["kind"] == "eval" and "weights" in r]
    assert len(rounds) == 5                           # steps 2, 4, 6, 8 and the phase end
    assert len({tuple(w.values()) for w in rounds}) == 5      # every observe moved the mixture
    assert all(abs(sum(w.values()) - 1) < 1e-9 for w in rounds)


def test_logged_lr_is_the_planned_curve_at_every_step(token_build, tmp_path):
    cfg = config(holdout_frac=0.0, eval_every=100, lr=2e-3,
                 phases={"a": {"schedule": "cosine", "warmup_frac": 0.25},
                         "b": {"schedule": "continue"},
                         "c": {"schedule": "linear_decay", "soup_seeds": [7, 8]},
                         "d": {"schedule": "wsd", "warmup_frac": 0.25, "decay_frac": 0.5,
                               "keep_optimizer": False}})
    tps = cfg.tokens_per_step
    phases = (phase("a", 6 * tps, conditioning=True), phase("b", 3 * tps), phase("c", 3 * tps),
              phase("d", 4 * tps))
    train(token_build.manifest, phases, cfg, 0, tmp_path / "run")
    logged: dict[tuple, list[float]] = {}
    for r in records(tmp_path / "run"):
        if r["kind"] == "train":
            logged.setdefault((r["phase"], r["branch"]), []).append(r["lr"])
    curves = lr_curves(plan(phases, cfg))
    assert logged == {("a", None): curves["a"], ("b", None): curves["b"], ("c", 7): curves["c"],
                      ("c", 8): curves["c"], ("d", None): curves["d"]}
    assert curves["c"][0] == curves["b"][-1]           # linear_decay from where the span ended


def test_soup_branches_never_draw_a_validation_document(token_build, tmp_path):
    manifest = token_build.manifest
    cfg = config(holdout_frac=0.2, phases={"p": {"soup_seeds": [11, 12]}})
    whole = sum(manifest.tokens_by_source().values())
    run = open_run(manifest, (phase("p", whole),), cfg, 0, tmp_path)
    held = {(r.shard, r.row) for refs in mixers.holdout_refs(manifest, "source", 0, 0.2).values()
            for r in refs}
    num_docs = sum(manifest.docs_by_source().values())
    assert 0 < len(held) < num_docs
    for seg in run.segments:
        drawn = {(r.shard, r.row) for r in phase_sampler(run, seg)}
        assert len(drawn) > 0.7 * (num_docs - len(held)) and not drawn & held


def test_thirty_steps_on_real_text_lower_validation_loss(token_build, tmp_path):
    cfg = config(lr=1e-2, eval_every=30, log_every=10, phases={"main": {"warmup_frac": 0.1}})
    summary = train(token_build.manifest, (phase("main", 30 * cfg.tokens_per_step),), cfg, 0, tmp_path / "run")
    evals = [r for r in records(tmp_path / "run") if r["kind"] == "eval"]
    first, last = evals[0]["val"], evals[-1]["val"]
    assert evals[0]["global_step"] == 0 and evals[-1]["global_step"] == 30
    assert sorted(first) == ["skill", "source"] and sorted(first["source"]) == ["web", "wiki"]
    for grouping in ("source", "skill"):
        for group, loss in first[grouping].items():
            assert last[grouping][group] < loss - 0.3
    assert (tmp_path / "run" / "eval.png").stat().st_size > 0
    from transformers import AutoModelForCausalLM

    loaded = AutoModelForCausalLM.from_pretrained(summary["model_dir"])
    trained = checkpoint.load(tmp_path / "run" / "ckpt" / "latest.pt")["model"]
    assert all(torch.equal(v, trained[k]) for k, v in loaded.state_dict().items())
    from train.generate import generate

    kw = {"prompt": "The", "prefix": "URL: en.wikipedia.org\n\n", "max_new_tokens": 8, "seed": 0}
    text = generate(summary["model_dir"], **kw)
    assert isinstance(text, str) and text == generate(summary["model_dir"], **kw)


def test_existing_run_needs_resume_and_a_foreign_checkpoint_is_refused(token_build, tmp_path):
    cfg = config(phases={})
    phases = (phase("a", cfg.tokens_per_step),)
    train(token_build.manifest, phases, cfg, 0, tmp_path / "r")
    with pytest.raises(CurateError, match="--resume"):
        train(token_build.manifest, phases, cfg, 0, tmp_path / "r")
    checkpoint.save(tmp_path / "r" / "ckpt" / "latest.pt", {"position": {"segment": 1}})
    with pytest.raises(CurateError, match="checkpoint format None is not 3"):
        train(token_build.manifest, phases, cfg, 0, tmp_path / "r", resume=True)


def test_skill_graph_estimator_measures_loss_decrease(token_build):
    from train.skill_graph import estimate

    graph = estimate(token_build.manifest, phase("p", 1), config(lr=1e-2), seed=0, steps=3)
    assert graph.skills == ["web", "wiki"]
    assert graph.matrix.shape == (2, 2) and (graph.matrix >= 0).all()
    assert graph.matrix[0, 0] > 0 and graph.matrix[1, 1] > 0      # training on a skill helps it
