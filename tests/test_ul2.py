"""UL2 denoisers (train/ul2.py): exact span corruption, prefix-LM layout, masks and labels after
packing, span statistics of the R and X settings over many seeded draws, S target share, chunking
of long documents, and the error naming a missing mode or sentinel token."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.config import from_table
from curate.errors import CurateError
from train.model import document_mask, to_batch
from train.packing import IGNORE, pack_all
from train.ul2 import (UL2Config, UL2Tokens, denoise, denoise_document, noise_mask, resolve_tokens,
                       span_corrupt)

SENT = np.arange(100, 164)
IDS = UL2Tokens(mode={"r": 1, "s": 2, "x": 3}, sentinels=tuple(SENT.tolist()), eos=0)


def test_span_corrupt_exact():
    tokens = np.arange(10, 20)
    mask = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], bool)
    inputs, targets = span_corrupt(tokens, mask, SENT)
    assert inputs.tolist() == [10, 11, 100, 14, 15, 16, 101, 18, 19]
    assert targets.tolist() == [100, 12, 13, 101, 17]


def reconstruct(inputs: np.ndarray, targets: np.ndarray) -> list[int]:
    """Put every sentinel's span back into the input."""
    spans, current = {}, None
    for t in targets.tolist():
        if t in SENT:
            current = t
            spans[current] = []
        else:
            spans[current].append(t)
    return [x for t in inputs.tolist() for x in (spans[t] if t in SENT else [t])]


@settings(deadline=None, derandomize=True, max_examples=60)
@given(length=st.integers(2, 300), seed=st.integers(0, 2**32 - 1),
       setting=st.sampled_from([(3, 0.15), (8, 0.15), (3, 0.5), (8, 0.5), (64, 0.15), (64, 0.5)]))
def test_span_corruption_round_trips(length, seed, setting):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(200, 300, length)
    mask = noise_mask(rng, length, *setting, max_spans=len(SENT))
    assert mask.sum() == min(max(round(length * setting[1]), 1), length - 1) and not mask[0]
    inputs, targets = span_corrupt(tokens, mask, SENT)
    assert reconstruct(inputs, targets) == tokens.tolist()


@pytest.mark.parametrize("mean_span,rate", [(3, 0.15), (8, 0.15), (3, 0.5), (8, 0.5), (64, 0.15), (64, 0.5)])
def test_span_statistics_match_the_setting(mean_span, rate):
    rng = np.random.default_rng(0)
    length = 2048 if mean_span == 64 else 512
    noise, spans = 0, 0
    for _ in range(300):
        mask = noise_mask(rng, length, mean_span, rate)
        noise += mask.sum()
        spans += int((mask & ~np.r_[False, mask[:-1]]).sum())
    assert noise / (300 * length) == pytest.approx(rate, abs=0.005)
    assert noise / spans == pytest.approx(mean_span, rel=0.1)


def test_s_denoiser_is_a_prefix_lm_with_mean_target_share():
    cfg = UL2Config(weights={"s": 1})
    body = np.arange(10, 210)
    shares = []
    for seed in range(400):
        ids, target, bidir = denoise(body, np.array([0]), "s", np.random.default_rng(seed), cfg, IDS)
        n_in = int(bidir.sum())
        assert ids[0] == 2 and ids[1:n_in].tolist() + ids[n_in:-1].tolist() == body.tolist() and ids[-1] == 0
        assert (target == ~bidir).all() and bidir[:n_in].all() and not bidir[n_in:].any()
        shares.append((len(ids) - n_in - 1) / len(body))
    assert np.mean(shares) == pytest.approx(0.25, abs=0.02)


def test_masks_and_labels_of_two_packed_examples():
    """[R] a S0 | S0 b EOS  and  [S] c | d EOS in one row: bidirectional inside each input,
    causal on targets, nothing across documents; labels only on targets (never a segment start)."""
    ex1 = (np.array([1, 10, 100, 100, 11, 0]), np.array([0, 0, 0, 1, 1, 1], bool), np.array([1, 1, 1, 0, 0, 0], bool))
    ex2 = (np.array([2, 20, 21, 0]), np.array([0, 0, 1, 1], bool), np.array([1, 1, 0, 0], bool))
    (row,) = pack_all([ex1, ex2], 10)
    assert row.labels.tolist() == [IGNORE, IGNORE, IGNORE, 100, 11, 0, IGNORE, IGNORE, 21, 0]
    assert row.position.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]
    batch = to_batch([row])
    mask = document_mask(batch["segment"], batch["bidir"])[0, 0].int().tolist()
    assert mask == [
        [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
    ]
    assert torch.equal(document_mask(batch["segment"]), document_mask(batch["segment"], torch.zeros_like(batch["bidir"])))


def test_long_document_is_chunked_into_row_sized_examples():
    cfg = UL2Config()
    ids = UL2Tokens(mode=IDS.mode, sentinels=tuple(SENT[:8].tolist()), eos=0)
    doc = np.r_[np.arange(1000, 1500), 0]
    examples = denoise_document(doc, np.random.default_rng(1), cfg, ids, max_len=64)
    assert all(len(e[0]) <= 64 for e in examples) and len(examples) > 1
    tail = [e for e in examples if 0 in e[0].tolist()]
    assert len(tail) == 1 and tail[0] is examples[-1] and examples[-1][0][-1] == 0
    rows = pack_all(examples, 64, "whole")
    assert len(rows) == len(examples)  # one example per row, never split


def test_missing_tokens_fail_naming_what_to_add():
    cfg = from_table(UL2Config, {"weights": {"r": 1, "s": 1}}, "train.ul2")
    with pytest.raises(CurateError, match=r"mode token '\[S\]'.*special_tokens"):
        resolve_tokens(cfg, {"[R]": 5, "<extra_id_0>": 6}, None)
    with pytest.raises(CurateError, match="no sentinel token '<extra_id_0>'"):
        resolve_tokens(cfg, {"[R]": 5, "[S]": 7}, None)
    ids = resolve_tokens(cfg, {"[R]": 5, "[S]": 7, "<extra_id_0>": 8, "<extra_id_1>": 9, "<extra_id_3>": 10}, 0)
    assert ids.sentinels == (8, 9) and ids.mode == {"r": 5, "s": 7}


def test_bad_ul2_settings_fail_with_the_key():
    from curate.errors import RecipeError

    with pytest.raises(RecipeError, match="weights.q"):
        from_table(UL2Config, {"weights": {"q": 1}}, "train.ul2")
    with pytest.raises(RecipeError, match="rate"):
        from_table(UL2Config, {"r": [{"mean_span": 3, "rate": 1.5}]}, "train.ul2")


def test_mixture_weights_in_train_or_per_phase():
    from tests.train_support import phase
    from train.config import TrainConfig
    from train.plan import plan

    cfg = from_table(TrainConfig, {"seq_len": 16, "batch_rows": 2, "ul2": {"weights": {"r": 1, "x": 1}},
                                   "phases": {"b": {"ul2": {"weights": {"s": 1}}}, "c": {"no_ul2": True}}}, "train")
    segs = plan([phase("a", 64), phase("b", 64), phase("c", 64)], cfg)
    assert segs[0].ul2.weights == {"r": 1.0, "x": 1.0} and segs[1].ul2.weights == {"s": 1.0} and segs[2].ul2 is None
