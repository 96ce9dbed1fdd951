"""Model souping (OLMo 2): branches of a phase from one start, one per data-order seed, averaged.

Files in ``RUN/ckpt``: ``soup-<phase>-start.pt`` (model, optimizer and run totals at the phase
start, written by the first branch, read by the others) and ``soup-<phase>-<seed>.pt`` (each
branch's final weights). The average is uniform, computed as ``w0 + mean(wi - w0)`` in float64 so
that a soup of identical models is exactly that model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from train import checkpoint


def soup(state_dicts: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Uniform average of weights; non-float tensors are taken from the first model."""
    base = state_dicts[0]
    out = {}
    for name, w0 in base.items():
        if not torch.is_floating_point(w0):
            out[name] = w0.clone()
            continue
        delta = torch.stack([sd[name].double() - w0.double() for sd in state_dicts]).mean(0)
        out[name] = (w0.double() + delta).to(w0.dtype)
    return out


def start_path(ckpt_dir: Path, phase: str) -> Path:
    return ckpt_dir / f"soup-{phase}-start.pt"


def branch_path(ckpt_dir: Path, phase: str, seed: int) -> Path:
    return ckpt_dir / f"soup-{phase}-{seed}.pt"


def save_start(ckpt_dir: Path, phase: str, model, optimizer, global_step: int, tokens: int) -> None:
    checkpoint.save(start_path(ckpt_dir, phase), {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "global_step": global_step, "tokens": tokens})


def load_start(ckpt_dir: Path, phase: str) -> dict[str, Any]:
    return checkpoint.load(start_path(ckpt_dir, phase))


def save_branch(ckpt_dir: Path, phase: str, seed: int, model) -> None:
    checkpoint.save(branch_path(ckpt_dir, phase, seed), model.state_dict())


def average_branches(ckpt_dir: Path, phase: str, seeds: tuple[int, ...]) -> dict[str, torch.Tensor]:
    return soup([checkpoint.load(branch_path(ckpt_dir, phase, s)) for s in seeds])
