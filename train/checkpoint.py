"""One resumable checkpoint file: ``torch.save`` of tensors and plain data only.

Contents (``FORMAT`` 3): the run :class:`~train.plan.Position`, the number of log lines written,
model and optimizer state dicts, the model's RoPE base frequency (``rope_theta``, not
in the state dict: a phase may change it), the packer's carry, seq_len and packing, the sampler's (and its mixer's) state as a
JSON string ("" between segments), and the torch RNG state. Loaded with
``torch.load(weights_only=True)``: no object in a checkpoint is ever unpickled. Writes go to a
temporary file first, then an atomic rename.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson
import torch

from curate.errors import CurateError
from curate.manifest import TokenizerInfo
from train.model import rope_theta, set_rope_theta
from train.packing import Packer
from train.plan import Position
from train.state import TrainState, new_model, new_optimizer

FORMAT = 3


def save(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)


def save_checkpoint(path: Path, state: TrainState, log_lines: int) -> None:
    sampler = state.sampler.state_dict() if state.sampler is not None else None
    save(path, {
        "format": FORMAT, "position": dataclasses.asdict(state.position), "log_lines": log_lines,
        "model": state.model.state_dict(), "optimizer": state.optimizer.state_dict(),
        "rng": torch.get_rng_state(), "packer": state.packer.state_dict(),
        "rope_theta": rope_theta(state.model),
        "sampler": "" if sampler is None else orjson.dumps(
            sampler, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()})


def load_checkpoint(path: Path, cfg, tokenizer: TokenizerInfo, seed: int
                    ) -> tuple[TrainState, dict[str, Any] | None, int]:
    """(state without its sampler, the sampler's state or None, log lines written); restores
    the torch RNG. The caller rebuilds the segment's sampler and loads the state into it."""
    ckpt = load(path)
    if ckpt.get("format") != FORMAT:
        raise CurateError(f"{path}: checkpoint format {ckpt.get('format')} is not {FORMAT} (written by "
                          "another version of curate train); start a new run in another directory")
    model = new_model(cfg, tokenizer, seed)
    model.load_state_dict(ckpt["model"])
    set_rope_theta(model, float(ckpt.get("rope_theta", cfg.rope_theta)))
    optimizer = new_optimizer(model, cfg)
    optimizer.load_state_dict(ckpt["optimizer"])
    packer = Packer(cfg.seq_len)
    packer.load_state_dict(ckpt["packer"])
    torch.set_rng_state(ckpt["rng"])
    sampler = orjson.loads(ckpt["sampler"]) if ckpt["sampler"] else None
    state = TrainState(position=Position(**ckpt["position"]), model=model, optimizer=optimizer, packer=packer)
    return state, sampler, int(ckpt["log_lines"])
