"""One optimizer step: the step's ``batch_rows * grad_accum`` packed rows drawn from the segment's
sampler, loss = mean over all the step's target tokens (so accumulation equals one large batch),
AdamW at the given LR, gradient clipping at ``grad_clip`` (0 = off).

Under torchrun (:mod:`train.dist`) every rank packs all the step's rows and trains on its own
contiguous block of them, in micro-batches of at most ``batch_rows`` rows; gradients are all-reduced
once per step (DDP ``no_sync`` on the other micro-batches).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable

import torch

from train.data import TokenStore
from train.dist import Dist, use_bf16
from train.model import num_targets, to_batch, token_losses
from train.packing import Row
from train.state import TrainState


@dataclasses.dataclass
class StepTimes:
    """Seconds spent drawing and packing data, and in whole steps (data included); tokens trained
    (all ranks) in those steps."""

    data_s: float = 0.0
    step_s: float = 0.0
    tokens: int = 0


def next_rows(state: TrainState, store: TokenStore, cfg, conditioning: bool,
              transform: Callable | None = None) -> list[Row] | None:
    """The next step's rows (all ranks'), or None when the sampler runs dry first. ``transform(ref,
    example)`` rewrites each document's example before packing (UL2: :func:`train.ul2.denoise`)."""
    def next_example():
        ref = next(state.sampler, None)
        if ref is None:
            return None
        example = store.example(ref.shard, ref.row, conditioning)
        return example if transform is None else transform(ref, example)

    rows = []
    for _ in range(cfg.batch_rows * cfg.grad_accum):
        row = state.packer.row(next_example)
        if row is None:
            return None
        rows.append(row)
    return rows


def optimizer_step(state: TrainState, rows: list[Row], lr: float, cfg, dist: Dist | None = None) -> float:
    """Update the model on the step's ``rows`` (this rank's block of them); returns the step's mean
    target-token loss over all ranks."""
    dist = dist or Dist()
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    total = max(1, num_targets(to_batch(rows)))
    mine = dist.my_rows(rows)
    micro = [to_batch(mine[i:i + cfg.batch_rows]) for i in range(0, len(mine), cfg.batch_rows)]
    model, bf16 = dist.wrap(state.model), use_bf16(cfg.precision, dist.device)
    loss_sum = 0.0
    for k, batch in enumerate(micro):
        sync = dist.world_size == 1 or k == len(micro) - 1
        with contextlib.nullcontext() if sync else model.no_sync():
            # x world_size: DDP averages gradients over ranks, the step's loss is their sum
            loss = token_losses(model, batch, bf16).sum() / total * dist.world_size
            loss.backward()
        loss_sum += float(loss.detach())
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(state.model.parameters(), cfg.grad_clip)
    state.optimizer.step()
    state.optimizer.zero_grad(set_to_none=True)
    return dist.sum(loss_sum) / dist.world_size


def train_step(state: TrainState, store: TokenStore, cfg, conditioning: bool, lr: float,
               times: StepTimes, dist: Dist | None = None, transform: Callable | None = None) -> float | None:
    """Draw, pack and train one step; None (nothing trained) when the data runs out."""
    t0 = time.perf_counter()
    rows = next_rows(state, store, cfg, conditioning, transform)
    if rows is None:
        return None
    t1 = time.perf_counter()
    loss = optimizer_step(state, rows, lr, cfg, dist)
    times.data_s += t1 - t0
    times.step_s += time.perf_counter() - t0
    times.tokens += len(rows) * len(rows[0].input_ids)
    return loss
