"""Keep the middle band of each source by a score column: drop the lowest and the highest fractions.

SALT's data selection (Rawat et al. 2024, METHODS.md 11, [MEM]) keeps "challenging yet learnable"
sequences under a small LM: not the easiest (lowest loss: boilerplate, repeated text) and not the
noisiest (highest loss: garbled or foreign text). With ``lm_score`` writing ``lm_loss``, this step
drops exactly ``round(drop_bottom_frac * n)`` lowest and ``round(drop_top_frac * n)`` highest of a
group of ``n`` scored documents (round half up), ties broken by input order in one ascending
ranking, so the two cuts never overlap and the kept count is exact. The paper's thresholds are
unknown; the defaults (drop 10% at each end) are documented, overridable guesses.

Like ``score_percentile``, this is a global step with exact ranks (~20 bytes per document in
``resolve``) and the same rule (``curate/steps/ranking.py``): a null or NaN score is *missing*,
never ranked, not counted in ``n``, dropped with reason ``<column>_missing``; a non-numeric column
is a one-line error. ``resolve`` runs as one engine task, not in the driver.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.schema import SOURCE
from curate.steps.score_percentile import read_column, write_decisions
from curate.steps.ranking import KEPT, check_numeric, numeric_scores, rank_codes, round_count, select_ranked
from curate.steps.step import ResolveContext, resolve_in_one_task


def band_codes(scores: np.ndarray, drop_bottom_frac: float, drop_top_frac: float) -> np.ndarray:
    """Per score: 1 = among the lowest ``floor(drop_bottom_frac*n+0.5)``, 2 = among the highest
    ``floor(drop_top_frac*n+0.5)`` (after the lowest are taken), -1 = kept (``ranking.rank_codes``)."""
    n = len(scores)
    return rank_codes(scores, round_count(drop_bottom_frac, n), round_count(drop_top_frac, n))


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

    def cuts(self, n: int) -> tuple[int, int]:
        """(lowest, highest) ranks to drop from a group of ``n``."""
        return round_count(self.drop_bottom_frac, n), round_count(self.drop_top_frac, n)

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.column not in batch.schema.names:
            raise RecipeError(f"score_band: column {self.column!r} is missing; add the step that writes it first")
        check_numeric(batch.schema.field(self.column).type, self.column, self.name)
        return batch

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        return resolve_in_one_task(self, ctx)

    def select(self, ctx: ResolveContext) -> dict[str, Any]:
        cols, sizes = read_column(ctx, [self.column, SOURCE])
        values, present = numeric_scores(cols[self.column], self.column, self.name)
        groups = cols[SOURCE] if self.group_by == "source" else None
        decision, stats = select_ranked(values, present, groups, self.cuts)
        reasons = [f"{self.column}_missing", f"{self.column}_below_band", f"{self.column}_above_band"]
        write_decisions(ctx, sizes, decision, reasons)
        return {"num_scored": int(present.sum()), "num_kept": int((decision == KEPT).sum()), "groups": stats}
