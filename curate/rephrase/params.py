"""Generation settings shared by every backend, and what a backend returns per prompt."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class GenParams:
    """``temperature = 0``: greedy. Otherwise nucleus sampling with ``top_p``, seeded per prompt
    (the WRAP reproductions used 0.8 / 0.95, not confirmed as the paper's values)."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Generation:
    """One prompt's outcome: ``text`` (None on failure) or ``error`` (a short kind: ``timeout``,
    ``http_503``, ``connection``, ``bad_response``, ``model_error``)."""

    text: str | None
    error: str | None = None
