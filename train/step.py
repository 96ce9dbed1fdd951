"""One optimizer step: ``grad_accum`` micro-batches of ``batch_rows`` packed rows drawn from the
segment's sampler, loss = mean over all the step's target tokens (so accumulation equals one large
batch), AdamW at the given LR, gradient clipping at ``grad_clip`` (0 = off).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch

from train.data import TokenStore
from train.model import num_targets, to_batch, token_losses
from train.state import TrainState


@dataclasses.dataclass
class StepTimes:
    """Seconds spent drawing and packing data, and in whole steps (data included)."""

    data_s: float = 0.0
    step_s: float = 0.0


def next_micro_batches(state: TrainState, store: TokenStore, cfg, conditioning: bool,
                       transform: Callable | None = None) -> list | None:
    """The next step's micro-batches, or None when the sampler runs dry first. ``transform(ref,
    example)`` rewrites each document's example before packing (UL2: :func:`train.ul2.denoise`)."""
    def next_example():
        ref = next(state.sampler, None)
        if ref is None:
            return None
        example = store.example(ref.shard, ref.row, conditioning)
        return example if transform is None else transform(ref, example)

    micro = []
    for _ in range(cfg.grad_accum):
        rows = []
        for _ in range(cfg.batch_rows):
            row = state.packer.row(next_example)
            if row is None:
                return None
            rows.append(row)
        micro.append(to_batch(rows))
    return micro


def optimizer_step(state: TrainState, micro: list, lr: float, cfg) -> float:
    """Update the model on ``micro``; returns the step's mean target-token loss."""
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    total = sum(num_targets(b) for b in micro)
    loss_sum = 0.0
    for batch in micro:
        loss = token_losses(state.model, batch, cfg.precision == "bf16").sum() / max(1, total)
        loss.backward()
        loss_sum += float(loss.detach())
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(state.model.parameters(), cfg.grad_clip)
    state.optimizer.step()
    state.optimizer.zero_grad(set_to_none=True)
    return loss_sum


def train_step(state: TrainState, store: TokenStore, cfg, conditioning: bool, lr: float,
               times: StepTimes, transform: Callable | None = None) -> float | None:
    """Draw, pack and train one step; None (nothing trained) when the data runs out."""
    t0 = time.perf_counter()
    micro = next_micro_batches(state, store, cfg, conditioning, transform)
    if micro is None:
        return None
    t1 = time.perf_counter()
    loss = optimizer_step(state, micro, lr, cfg)
    times.data_s += t1 - t0
    times.step_s += time.perf_counter() - t0
    return loss
