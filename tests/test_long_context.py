"""Long context: packing rules (split / whole / truncate: exact rows, positions, labels), packer
resume, per-phase seq_len and rope_theta carried in the plan, the RoPE change recomputing the
rotary tables (equal to a model built with the new base), the length_bucket step and a mixture
that upsamples the long bucket."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import torch

from curate.config import from_table
from tests.train_support import phase
from train.config import TrainConfig
from train.model import build_model, document_mask, rope_theta, set_rope_theta
from train.packing import IGNORE, Packer, pack_all
from train.plan import plan


def doc(start: int, n: int):
    return np.arange(start, start + n), np.ones(n, bool)


DOCS = [doc(10, 3), doc(20, 4), doc(30, 9), doc(40, 2)]


def rows_of(packing: str, seq_len: int = 5):
    return pack_all(DOCS, seq_len, packing)


def test_split_packing_fills_rows_and_splits_at_row_ends():
    rows = rows_of("split")
    assert [r.input_ids.tolist() for r in rows] == [[10, 11, 12, 20, 21], [22, 23, 30, 31, 32],
                                                    [33, 34, 35, 36, 37], [38, 40, 41, 0, 0]]
    assert rows[1].position.tolist() == [0, 1, 0, 1, 2]


def test_whole_packing_never_splits_a_document_that_fits():
    rows = rows_of("whole")
    assert [r.input_ids.tolist() for r in rows] == [[10, 11, 12, 0, 0], [20, 21, 22, 23, 0],
                                                    [30, 31, 32, 33, 34], [35, 36, 37, 38, 0],
                                                    [40, 41, 0, 0, 0]]
    # the 9-token document is the only one cut: pieces of seq_len, positions restarting at 0
    assert rows[2].position.tolist() == [0, 1, 2, 3, 4] and rows[3].position.tolist() == [0, 1, 2, 3, 0]
    assert rows[0].labels.tolist() == [IGNORE, 11, 12, IGNORE, IGNORE]
    assert rows[0].segment.tolist() == [0, 0, 0, 1, 1]


def test_whole_packing_keeps_every_document_in_one_row_when_all_fit():
    rng = np.random.default_rng(0)
    docs = [doc(int(s), int(n)) for s, n in zip(rng.integers(1, 900, 60), rng.integers(1, 17, 60))]
    rows = pack_all(docs, 16, "whole")
    placed = [r.input_ids[r.segment == s].tolist() for r in rows for s in np.unique(r.segment)]
    assert [d[0].tolist() for d in docs] == [p for p in placed if any(p)][:len(docs)]


def test_truncate_packing_cuts_long_documents_and_counts_the_cut():
    packer = Packer(5, "truncate")
    it = iter(DOCS)
    rows = []
    while (row := packer.row(lambda: next(it, None), pad=True)) is not None:
        rows.append(row)
    assert [r.input_ids.tolist() for r in rows] == [[10, 11, 12, 0, 0], [20, 21, 22, 23, 0],
                                                    [30, 31, 32, 33, 34], [40, 41, 0, 0, 0]]
    assert packer.truncated_tokens == 4


@pytest.mark.parametrize("packing", ["split", "whole", "truncate"])
def test_packer_state_resume_equals_continue(packing):
    def stream():
        return iter([doc(100 * i, n) for i, n in enumerate([3, 11, 2, 7, 5, 1, 9])])

    whole = pack_all(stream(), 4, packing)
    it, packer, rows = stream(), Packer(4, packing), []
    for _ in range(3):
        rows.append(packer.row(lambda: next(it, None)))
    resumed = Packer(8, "split")
    resumed.load_state_dict(packer.state_dict())
    while (row := resumed.row(lambda: next(it, None), pad=True)) is not None:
        rows.append(row)
    assert [r.input_ids.tolist() for r in rows] == [r.input_ids.tolist() for r in whole]
    assert [r.position.tolist() for r in rows] == [r.position.tolist() for r in whole]


def config(**kw) -> TrainConfig:
    base = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "seq_len": 16, "batch_rows": 2}
    return from_table(TrainConfig, {**base, **kw}, "train")


def test_phase_seq_len_and_rope_theta_carry_forward_in_the_plan():
    cfg = config(phases={"mid": {"seq_len": 64, "rope_theta": 500000.0}})
    phases = [phase("short", 16 * 2 * 10), phase("mid", 64 * 2 * 5), phase("cool", 64 * 2 * 3)]
    segs = plan(phases, cfg)
    assert [(s.seq_len, s.rope_theta, s.num_steps, s.tokens_per_step) for s in segs] == [
        (16, 10000.0, 10, 32), (64, 500000.0, 5, 128), (64, 500000.0, 3, 128)]


def test_rope_change_recomputes_the_tables_like_a_model_built_with_the_new_base():
    old = build_model(config(), 64, seed=0)
    new = build_model(config(rope_theta=500000.0), 64, seed=0)
    ids = torch.arange(16)[None] % 64
    segment, pos = torch.zeros(1, 16, dtype=torch.long), torch.arange(16)[None]
    before = old(input_ids=ids, attention_mask=document_mask(segment), position_ids=pos).logits
    set_rope_theta(old, 500000.0)
    after = old(input_ids=ids, attention_mask=document_mask(segment), position_ids=pos).logits
    ref = new(input_ids=ids, attention_mask=document_mask(segment), position_ids=pos).logits
    d = 32 // 2
    expected = 1.0 / (500000.0 ** (torch.arange(0, d, 2, dtype=torch.float) / d))
    assert rope_theta(old) == 500000.0 and torch.equal(old.model.rotary_emb.inv_freq, expected)
    assert torch.equal(after, ref)
    assert torch.equal(before[0, 0], after[0, 0]) and not torch.allclose(before[0, 1:], after[0, 1:])


def test_length_bucket_step_buckets_by_num_tokens():
    from curate.steps.length_bucket import LengthBucket

    batch = pa.RecordBatch.from_pydict({"num_tokens": pa.array([0, 99, 100, 255, 256, 5000], pa.int32())})
    out = LengthBucket(boundaries=(100, 256)).annotate(batch)
    assert out.column("length_bucket").to_pylist() == ["0-99", "0-99", "100-255", "100-255", "256+", "256+"]
    with pytest.raises(Exception, match="strictly increasing"):
        from_table(LengthBucket, {"boundaries": [256, 100]}, "steps[0]")


def test_length_bucket_weight_upsamples_long_documents():
    from mixers.plan import plan_phase

    available = {"0-255": 30_000, "256+": 10_000}
    natural = plan_phase(phase("p", 8_000, group_by="length_bucket"), available).segments[0].budgets
    upsampled = plan_phase(phase("p", 8_000, group_by="length_bucket",
                                 mixture={"weights": {"0-255": 1, "256+": 3}}), available).segments[0].budgets
    assert natural == {"0-255": 6_000, "256+": 2_000}
    assert upsampled == {"0-255": 4_000, "256+": 4_000}
