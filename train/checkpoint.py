"""One resumable checkpoint file: ``torch.save`` of tensors and plain data only.

Contents: model and optimizer state dicts, the run position (segment, step, global step, tokens,
last LR, log lines written), the packer's carry, the sampler's (and its mixer's) state as a JSON
string, and the torch RNG state. Loaded with ``torch.load(weights_only=True)``: no object in a
checkpoint is ever unpickled. Writes go to a temporary file first, then an atomic rename.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import torch


def save(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)


def encode_json(state: Any) -> str:
    """A sampler state as JSON text (numpy arrays become lists)."""
    return orjson.dumps(state, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


def decode_json(text: str) -> Any:
    return orjson.loads(text)
