"""Korbak et al. (2023) conditional training: control tokens from a misalignment score.

Per segment with score ``r`` (lower = better, as in the paper's toxicity/PII/PEP8 scores):
with probability ``drop_token_fraction`` no token; else ``<|aligned|>`` when ``r <= threshold``,
``<|misaligned|>`` otherwise (``higher_is_better`` flips the comparison: ``r >= threshold`` is
aligned). METHODS.md section 3; defaults: drop_token_fraction 0.01 (toxicity, PII; PEP8 used 0.1);
the threshold is task specific (toxicity 0.00056, PII 0.0) and has no default.

Segments are documents (the token goes into ``prefix_text``) or lines (the paper splits text into
sentences and code into lines; we use ``\\n``-separated lines, scores given as one list per
document). The drop draw is a seeded hash of the document id (and the line index), so it is
deterministic per document, independent of batching and workers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from curate.config import check_range, check_seed, param
from curate.text.hashing import hash_strings, splitmix64_array, unit_floats

@dataclasses.dataclass(frozen=True, kw_only=True)
class ControlSpec:
    """Which control token each segment gets, from a score column and a threshold."""

    score_column: str = param(doc="score column: float per document, or list<float> per line")
    threshold: float = param(doc="aligned when score <= threshold (>= with higher_is_better)")
    higher_is_better: bool = param(False, doc="scores where larger is better (quality) instead of worse")
    aligned_token: str = param("<|aligned|>", doc="special token for aligned segments")
    misaligned_token: str = param("<|misaligned|>", doc="special token for misaligned segments")
    drop_token_fraction: float = param(0.01, doc="fraction of segments left without a token (Korbak: 0.01)")
    seed: int = param(0, doc="seed of the per-document drop draw")

    def __post_init__(self) -> None:
        check_range("drop_token_fraction", self.drop_token_fraction, 0.0, 1.0)
        check_seed("seed", self.seed)
        if self.aligned_token == self.misaligned_token or not self.aligned_token or not self.misaligned_token:
            raise ValueError("aligned_token and misaligned_token must be distinct, non-empty special tokens")

    @property
    def tokens(self) -> list[str]:
        return [self.aligned_token, self.misaligned_token]

    def labels(self, scores: np.ndarray) -> np.ndarray:
        """0 (aligned) or 1 (misaligned) per score; -1 (no token) where the score is NaN or missing."""
        aligned = scores >= self.threshold if self.higher_is_better else scores <= self.threshold
        out = np.where(aligned, 0, 1).astype(np.int8)
        out[np.isnan(scores)] = -1
        return out


def uniform(keys: np.ndarray) -> np.ndarray:
    """Floats in [0, 1) from uint64 keys (splitmix64, then the top 53 bits)."""
    return unit_floats(splitmix64_array(keys))


def doc_keys(ids: pa.Array, seed: int) -> np.ndarray:
    """One uint64 key per document id (seeded)."""
    return hash_strings(ids, seed)


def line_keys(doc_key: np.ndarray, line_index: np.ndarray) -> np.ndarray:
    """Keys of (document, line) pairs: the document's key mixed with the line index."""
    with np.errstate(over="ignore"):
        return splitmix64_array(doc_key) ^ (line_index.astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93))


def kept(keys: np.ndarray, drop_token_fraction: float) -> np.ndarray:
    """True where the segment keeps its control token."""
    return uniform(keys) >= drop_token_fraction


def line_starts(text: str) -> np.ndarray:
    """Character offset of the first character of every ``\\n``-separated line (line 0 at 0)."""
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return np.concatenate([[0], np.flatnonzero(chars == 10) + 1]).astype(np.int64)
