"""train/ parts: loss mask, packing without cross-document attention, schedules and the plan, soup
maths, config parsing, LEGO data, bf16. Training runs are in test_train_loop.py. Models are tiny."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from curate.config import from_table
from tests.train_support import phase
from train.config import PhaseTrainConfig, TrainConfig
from train.data import TokenStore, insert_controls
from train.model import build_model, document_mask, to_batch, token_losses
from train.packing import IGNORE, Packer, pack_all
from train.plan import lr_curves, plan
from train.schedules import Schedule, make_schedule
from train.soup import soup

TINY = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "seq_len": 64, "batch_rows": 4,
        "holdout_frac": 0.1, "eval_docs_per_group": 4, "log_every": 1, "num_threads": 1}


def config(**kw) -> TrainConfig:
    return from_table(TrainConfig, {**TINY, **kw}, "train")


# ---------------- loss mask and packing ----------------

def test_conditioned_example_masks_exactly_the_prefix(token_build):
    store = TokenStore(token_build.manifest)
    import pyarrow.parquet as pq

    t = pq.read_table(token_build.manifest.shard_paths()[0], columns=["tokens", "prefix_tokens"])
    for row in range(5):
        tokens = np.asarray(t.column("tokens")[row].as_py())
        prefix = np.asarray(t.column("prefix_tokens")[row].as_py())
        assert len(prefix) > 3 and len(tokens) > len(prefix)
        ids, targets = store.example(0, row, conditioning=True)
        assert ids.tolist() == prefix.tolist() + tokens.tolist()
        assert targets.tolist() == [False] * len(prefix) + [True] * len(tokens)
        plain, plain_targets = store.example(0, row, conditioning=False)
        assert plain.tolist() == tokens.tolist() and plain_targets.all()


def test_control_tokens_are_inserted_and_masked():
    ids, targets = insert_controls(np.array([10, 11, 12, 13]), np.array([0, 2]), np.array([1, 2]))
    assert ids.tolist() == [1, 10, 11, 2, 12, 13]
    assert targets.tolist() == [False, True, True, False, True, True]


def test_packed_labels_mask_prefix_and_document_starts():
    a = (np.array([5, 6, 7, 8]), np.array([False, False, True, True]))    # 2 prefix tokens
    b = (np.array([9, 10, 11, 12, 13]), np.ones(5, bool))
    docs = iter([a, b])
    packer = Packer(6)
    row = packer.row(lambda: next(docs, None))
    assert row.input_ids.tolist() == [5, 6, 7, 8, 9, 10]
    assert row.labels.tolist() == [IGNORE, IGNORE, 7, 8, IGNORE, 10]
    assert row.segment.tolist() == [0, 0, 0, 0, 1, 1]
    assert row.position.tolist() == [0, 1, 2, 3, 0, 1]
    state = packer.state_dict()
    assert [p["tokens"] for p in state["pending"]] == [[11, 12, 13]]
    rest = packer.row(lambda: next(docs, None), pad=True)
    assert rest.input_ids[:3].tolist() == [11, 12, 13] and (rest.labels[3:] == IGNORE).all()


def test_no_attention_across_documents():
    """Logits of documents packed in one row equal those of each document alone."""
    cfg = config()
    model = build_model(cfg, 512, seed=0)
    rng = np.random.default_rng(0)
    docs = [(rng.integers(0, 512, n), np.ones(n, bool)) for n in (20, 30, 14)]
    (row,) = pack_all(docs, 64)
    batch = to_batch([row])
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], attention_mask=document_mask(batch["segment"]),
                       position_ids=batch["position"]).logits[0]
        start = 0
        for tokens, _ in docs:
            alone = model(input_ids=torch.from_numpy(tokens)[None]).logits[0]
            torch.testing.assert_close(packed[start:start + len(tokens)], alone, atol=1e-5, rtol=1e-5)
            start += len(tokens)


# ---------------- schedules ----------------

def test_schedules_match_formulas():
    peak, T = 1e-3, 100
    cos = Schedule(kind="cosine", total_steps=T, peak_lr=peak, warmup_steps=10, min_lr_ratio=0.1)
    assert cos.lr(0) == pytest.approx(peak / 10)
    assert cos.lr(9) == pytest.approx(peak)
    assert cos.lr(55) == pytest.approx(0.1 * peak + 0.9 * peak * 0.5)          # halfway: mean
    assert cos.lr(10 + 30) == pytest.approx(1e-4 + 9e-4 * 0.5 * (1 + math.cos(math.pi * 30 / 90)))
    wsd = Schedule(kind="wsd", total_steps=T, peak_lr=peak, warmup_steps=5, decay_steps=20, min_lr_ratio=0.0)
    assert wsd.lr(50) == peak and wsd.lr(79) == peak
    assert wsd.lr(90) == pytest.approx(peak * (1 - 10 / 20))
    lin = Schedule(kind="linear_decay", total_steps=T, peak_lr=peak, start_lr=6e-5)
    assert lin.lr(0) == 6e-5 and lin.lr(25) == pytest.approx(6e-5 * 0.75) and lin.lr(99) > 0
    inf = Schedule(kind="infinite", total_steps=T, peak_lr=peak, warmup_steps=10, cooldown_steps=20,
                   decay_steps=20, const_lr_ratio=0.25, anneal_min_lr_ratio=0.01)
    assert inf.lr(20) == pytest.approx(0.25 * peak + 0.75 * peak / 2)           # mid cosine
    assert inf.lr(30) == inf.lr(79) == pytest.approx(0.25 * peak)               # constant
    assert inf.lr(90) == pytest.approx(0.25 * peak * 0.01 ** 0.5)              # mid anneal: geometric mean
    re = Schedule(kind="rewarm", total_steps=T, peak_lr=peak, start_lr=1e-4, warmup_steps=10)
    assert re.lr(4) == pytest.approx(1e-4 + 9e-4 * 5 / 10) and re.lr(9) == pytest.approx(peak)


def test_linear_decay_starts_from_previous_lr_and_continue_spans_phases():
    cfg = config(lr=1e-3, phases={"a": {"schedule": "cosine", "warmup_frac": 0.1},
                                  "b": {"schedule": "continue"}, "c": {"schedule": "linear_decay"}})
    tps = cfg.tokens_per_step
    phases = (phase("a", 90 * tps), phase("b", 10 * tps), phase("c", 20 * tps))
    curves = lr_curves(plan(phases, cfg))
    whole = make_schedule(cfg.phase("a"), 100, 1e-3, None)
    assert curves["a"] + curves["b"] == [whole.lr(s) for s in range(100)]
    assert curves["c"][0] == curves["b"][-1]
    assert curves["c"][10] == pytest.approx(curves["b"][-1] * 0.5)


def test_phase_config_rejects_bad_values():
    with pytest.raises(ValueError):
        PhaseTrainConfig(warmup_frac=0.6, decay_frac=0.6)
    with pytest.raises(ValueError):
        PhaseTrainConfig(soup_seeds=(1, 1))


# ---------------- soup, resume, training ----------------

def test_soup_of_identical_models_is_the_model():
    sd = build_model(config(), 512, seed=3).state_dict()
    out = soup([sd, {k: v.clone() for k, v in sd.items()}, sd])
    assert all(torch.equal(out[k], sd[k]) for k in sd)
    other = build_model(config(), 512, seed=4).state_dict()
    mixed = soup([sd, other])
    name = "model.layers.0.mlp.up_proj.weight"
    torch.testing.assert_close(mixed[name], (sd[name] + other[name]) / 2)


def test_train_section_parses_from_a_recipe(tmp_path):
    from curate.errors import RecipeError
    from curate import load_recipe

    text = """
[recipe]
name = "t"
[[sources]]
name = "web"
paths = ["x.jsonl"]
[output]
dir = "out"
[[phases]]
name = "anneal"
num_tokens = 100
[train]
hidden_size = 64
lr = 2e-3
[train.phases.anneal]
schedule = "linear_decay"
soup_seeds = [42, 42069, 666]
"""
    (tmp_path / "r.toml").write_text(text)
    cfg = load_recipe(tmp_path / "r.toml").section("train")
    assert cfg.hidden_size == 64 and cfg.phase("anneal").soup_seeds == (42, 42069, 666)
    assert cfg.phase("other").schedule == "cosine"
    (tmp_path / "r.toml").write_text(text.replace('"linear_decay"', '"exponential"'))
    with pytest.raises(RecipeError, match="train.phases.anneal.schedule"):
        load_recipe(tmp_path / "r.toml")


def test_lego_answers_resolve_the_chain():
    from train.lego import lego_documents

    for skill in (1, 3, 5):
        for doc in lego_documents(skill, 5, num_vars=5, seed=1):
            rules = dict(c.split("=") for c in doc["question"].removesuffix(" ?").split())
            var, answer = doc["text"].strip().split("=")

            def value(v):
                rhs = rules[v]
                sign = 1 if rhs[0] == "+" else -1
                return sign if rhs[1:] == "1" else sign * value(rhs[1:])

            assert value(var) == int(answer)
            depth, v = 1, var
            while rules[v][1:] != "1":
                v, depth = rules[v][1:], depth + 1
            assert depth == skill


def test_bf16_autocast_loss_is_close_to_fp32():
    cfg = config()
    model = build_model(cfg, 512, seed=0)
    rng = np.random.default_rng(0)
    rows = pack_all([(rng.integers(0, 512, 50), np.ones(50, bool)) for _ in range(3)], 64)
    batch = to_batch(rows)
    with torch.no_grad():
        fp32 = token_losses(model, batch).sum() / (batch["labels"][:, 1:] != IGNORE).sum()
        bf16 = token_losses(model, batch, bf16=True).sum() / (batch["labels"][:, 1:] != IGNORE).sum()
    assert abs(float(fp32) - float(bf16)) < 0.05


def test_cli_train_without_build_is_a_one_line_error(tmp_path, capsys):
    from curate.cli import main

    (tmp_path / "r.toml").write_text('[recipe]\nname = "t"\n[[sources]]\nname = "w"\npaths = ["x"]\n'
                                     '[output]\ndir = "out"\n[train]\n')
    assert main(["train", str(tmp_path / "r.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("curate train: error:") and err.count("\n") == 1
