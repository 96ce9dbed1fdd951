"""Exact rank selection by a score column, shared by ``score_percentile`` and ``score_band``.

One rule for both steps:

- **Missing scores.** A null or NaN score is *missing*: it is never ranked, does not count in a
  group's ``n``, and its document is dropped with reason ``<column>_missing``.
- **Ranking.** The ``n`` present scores of a group are ranked once, ascending, ties by input
  order (of equal scores the earlier document ranks lower). The lowest ``num_low`` and the highest
  ``num_high`` ranks are cut; counts are ``floor(frac * n + 0.5)`` (round half up), so kept counts
  are exact, never the ±ε of a quantile sketch.
- **Types.** The column must be numeric (integer, floating point, decimal or boolean); another type
  is a one-line error naming the column and its type, never its values.

``score_percentile`` keeping the top ``keep_frac`` cuts ``num_low = n - round(keep_frac * n)``
(bottom: ``num_high``); ``score_band`` cuts ``round(drop_bottom_frac * n)`` and
``round(drop_top_frac * n)``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import CurateError

KEPT, MISSING, LOW, HIGH = -1, 0, 1, 2


def round_count(frac: float, n: int) -> int:
    """``floor(frac * n + 0.5)``, at most ``n``: the number of documents a fraction selects."""
    return min(int(np.floor(frac * n + 0.5)), n)


def check_numeric(kind: pa.DataType, name: str, step: str) -> None:
    """Raise :class:`CurateError` naming the column and its type (never its values) unless the
    type is numeric."""
    numeric = (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
               or pa.types.is_boolean(kind) or pa.types.is_null(kind))
    if not numeric:
        raise CurateError(f"{step}: column {name!r} has type {kind}, not a number; give a numeric score "
                          "column (e.g. written by fasttext_score, lm_score or word_list_score)")


def numeric_scores(column: pa.Array | pa.ChunkedArray, name: str, step: str) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, present) of a score column; missing = null or NaN (value 0 there)."""
    check_numeric(column.type, name, step)
    score = pc.cast(column, pa.float64())
    present = pc.is_valid(score).to_numpy(zero_copy_only=False).copy()
    values = pc.fill_null(score, 0.0).to_numpy(zero_copy_only=False).copy()
    nan = np.isnan(values)
    present &= ~nan
    values[nan] = 0.0
    return values, present


def rank_codes(scores: np.ndarray, num_low: int, num_high: int) -> np.ndarray:
    """Per score: ``LOW`` among the ``num_low`` lowest, ``HIGH`` among the ``num_high`` highest
    (after the lowest are taken), else ``KEPT``; one ascending ranking, ties by position."""
    n = len(scores)
    num_low = min(num_low, n)
    num_high = min(num_high, n - num_low)
    order = np.lexsort((np.arange(n), scores))
    codes = np.full(n, KEPT, np.int32)
    codes[order[:num_low]] = LOW
    codes[order[n - num_high:]] = HIGH
    return codes


def group_codes(groups: pa.Array | None, n: int) -> tuple[list[str], np.ndarray]:
    """(group names, int code per row): one group ``all`` when ``groups`` is None."""
    if groups is None:
        return ["all"], np.zeros(n, np.int32)
    encoded = pc.dictionary_encode(groups)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


def select_ranked(values: np.ndarray, present: np.ndarray, groups: pa.Array | None,
                  cuts: Callable[[int], tuple[int, int]]) -> tuple[np.ndarray, dict[str, Any]]:
    """Decision code per row (``MISSING``, ``LOW``, ``HIGH`` or ``KEPT``) and per-group stats
    (``scored``, ``kept``, ``low_score`` / ``high_score`` = lowest / highest kept score).
    ``cuts(n)`` gives (num_low, num_high) to cut from a group of ``n`` present scores."""
    names, codes = group_codes(groups, len(values))
    decision = np.full(len(values), MISSING, np.int32)
    stats: dict[str, Any] = {}
    for g, name in enumerate(names):
        rows = np.flatnonzero((codes == g) & present)
        n = len(rows)
        decision[rows] = rank_codes(values[rows], *cuts(n))
        kept = values[rows[decision[rows] == KEPT]]
        stats[name] = {"scored": n, "kept": len(kept),
                       "low_score": float(kept.min()) if len(kept) else None,
                       "high_score": float(kept.max()) if len(kept) else None}
    return decision, stats
