"""Keep the middle band of each source by a score column: drop the lowest and the highest fractions.

SALT's data selection (Rawat et al. 2024, METHODS.md 11, [MEM]) keeps "challenging yet learnable"
sequences under a small LM: not the easiest (lowest loss: boilerplate, repeated text) and not the
noisiest (highest loss: garbled or foreign text). With ``lm_score`` writing ``lm_loss``, this step
drops exactly ``round(drop_bottom_frac * n)`` lowest and ``round(drop_top_frac * n)`` highest of a
group of ``n`` scored documents (round half up), ties broken by input order in one ascending
ranking, so the two cuts never overlap and the kept count is exact. The paper's thresholds are
unknown; the defaults (drop 10% at each end) are documented, overridable guesses.

Like ``score_percentile`` (whose column reader and decision writer it reuses), this is a global step
with exact ranks: ~20 bytes per document in ``resolve``, which runs as one engine task, not in the
driver. Null scores are dropped (``<column>_missing``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.schema import SOURCE
from curate.steps.score_percentile import read_column, write_decisions
from curate.steps.step import ResolveContext, resolve_in_one_task


def band_codes(scores: np.ndarray, drop_bottom_frac: float, drop_top_frac: float) -> np.ndarray:
    """Per score: 1 = among the lowest ``floor(drop_bottom_frac*n+0.5)``, 2 = among the highest
    ``floor(drop_top_frac*n+0.5)`` (after the lowest are taken), -1 = kept. One ascending ranking,
    ties broken by position (earlier ranks lower)."""
    n = len(scores)
    num_bottom = min(int(np.floor(drop_bottom_frac * n + 0.5)), n)
    num_top = min(int(np.floor(drop_top_frac * n + 0.5)), n - num_bottom)
    order = np.lexsort((np.arange(n), scores))
    codes = np.full(n, -1, np.int32)
    codes[order[:num_bottom]] = 1
    codes[order[n - num_top:]] = 2
    return codes


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScoreBand:
    """Drop the lowest and highest fractions of each source by a score column (global, exact)."""

    name: ClassVar[str] = "score_band"
    column: str = param(doc="numeric column to rank by (e.g. lm_loss from lm_score)")
    drop_bottom_frac: float = param(0.1, doc="fraction of each group with the lowest scores to drop")
    drop_top_frac: float = param(0.1, doc="fraction of each group with the highest scores to drop")
    group_by: Literal["source", "all"] = param("source", doc="rank within each source, or over all")

    def __post_init__(self) -> None:
        check_range("drop_bottom_frac", self.drop_bottom_frac, 0.0, 1.0)
        check_range("drop_top_frac", self.drop_top_frac, 0.0, 1.0)
        if self.drop_bottom_frac + self.drop_top_frac > 1.0:
            raise ValueError(f"drop_bottom_frac + drop_top_frac = {self.drop_bottom_frac + self.drop_top_frac!r} "
                             "is out of range; allowed: <= 1")

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.column not in batch.schema.names:
            raise RecipeError(f"score_band: column {self.column!r} is missing; add the step that writes it first")
        return batch

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        return resolve_in_one_task(self, ctx)

    def select(self, ctx: ResolveContext) -> dict[str, Any]:
        cols, sizes = read_column(ctx, [self.column, SOURCE])
        score = pc.cast(cols[self.column], pa.float64())
        valid = pc.is_valid(score).to_numpy(zero_copy_only=False)
        values = pc.fill_null(score, 0.0).to_numpy(zero_copy_only=False)
        valid &= ~np.isnan(values)
        if self.group_by == "source":
            groups = pc.dictionary_encode(cols[SOURCE])
            names, codes = groups.dictionary.to_pylist(), groups.indices.to_numpy(zero_copy_only=False)
        else:
            names, codes = ["all"], np.zeros(len(values), np.int32)
        decision = np.where(valid, -1, 0).astype(np.int32)  # 0 missing, 1 below, 2 above, -1 keep
        stats: dict[str, Any] = {}
        for g, name in enumerate(names):
            rows = np.flatnonzero((codes == g) & valid)
            band = band_codes(values[rows], self.drop_bottom_frac, self.drop_top_frac)
            decision[rows] = band
            kept = values[rows[band < 0]]
            stats[name] = {"scored": len(rows), "kept": len(kept),
                           "low_score": float(kept.min()) if len(kept) else None,
                           "high_score": float(kept.max()) if len(kept) else None}
        reasons = [f"{self.column}_missing", f"{self.column}_below_band", f"{self.column}_above_band"]
        write_decisions(ctx, sizes, decision, reasons)
        return {"num_scored": int(valid.sum()), "num_kept": int((decision < 0).sum()), "groups": stats}
