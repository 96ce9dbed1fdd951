"""Filter on any numeric column (a fastText score, a toxicity rate, a year...) by absolute bounds.

Keep rows with ``min_score <= column <= max_score``; either bound may be left out. Setting only
``max_score`` is the inverse filter (keep the lowest-scoring documents), which the Pretrainer's
Guide tests for quality and toxicity (METHODS.md 6). Rows whose score is missing (null or NaN, the
rule of ``curate/steps/ranking.py``) are kept or dropped by ``missing``; a non-numeric column is a
one-line error naming the column and its type. Reasons: ``<column>_below_min``, ``<column>_above_max``, ``<column>_missing``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

import pyarrow as pa

from curate.config import param
from curate.errors import RecipeError
from curate.steps.ranking import numeric_scores
from curate.steps.step import first_reason


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScoreFilter:
    """Keep documents whose score column lies in [min_score, max_score] (inverse: only max_score)."""

    name: ClassVar[str] = "score_filter"
    column: str = param(doc="numeric column to test (written by an earlier step)")
    min_score: float | None = param(None, doc="drop rows below this; none = no lower bound")
    max_score: float | None = param(None, doc="drop rows above this; none = no upper bound")
    missing: Literal["keep", "drop"] = param("keep", doc="rows whose score is null: keep or drop")

    def __post_init__(self) -> None:
        if self.min_score is None and self.max_score is None:
            raise ValueError("set min_score, max_score or both")
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise ValueError(f"min_score={self.min_score!r} > max_score={self.max_score!r}")

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        if self.column not in batch.schema.names:
            raise RecipeError(f"score_filter: column {self.column!r} is missing; "
                              "add the step that writes it first")
        score, valid = numeric_scores(batch.column(self.column), self.column, self.name)
        rules = []
        if self.missing == "drop":
            rules.append((f"{self.column}_missing", ~valid))
        if self.min_score is not None:
            rules.append((f"{self.column}_below_min", valid & (score < self.min_score)))
        if self.max_score is not None:
            rules.append((f"{self.column}_above_max", valid & (score > self.max_score)))
        return first_reason(rules, batch.num_rows)
