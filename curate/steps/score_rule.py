"""``score_rule``: a linear rule over indicator columns (Instruction Mining, METHODS.md 13).

``score = intercept + sum(w_c * column_c)`` per row, float64 arithmetic, written as float32; a row
with a null or NaN indicator gets a null score (``score_filter`` / ``score_percentile`` then treat
it as missing). Selection is left to those steps: Instruction Mining's rule predicts the
fine-tuned model's (log) evaluation loss, lower is better, so keep the best pairs with
``score_percentile`` ``keep = "bottom"`` (an exact fraction) or ``score_filter`` ``max_score``.

The coefficients have no defaults. Fit them on your own (indicators, observed loss) rows with
``curate fit-rule`` (:func:`fit_linear_rule`: ordinary least squares with an intercept). The paper's
fitted rule, as remembered in METHODS.md 13 and **unverified** (over dataset-level means of
indicators computed with a reward model and SentenceBERT that this project does not ship):
``log L_eval = 1.0694 - 0.1498 Reward + 8.257e-5 OutputLen - 0.9350 KNN6``. It is documentation,
not a default.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa

from curate.config import param
from curate.errors import RecipeError
from curate.steps.ranking import numeric_scores
from curate.steps.step import with_columns


@dataclasses.dataclass(frozen=True)
class LinearFit:
    """Least-squares rule ``target ~ intercept + coefficients . x`` and its in-sample R^2."""

    coefficients: dict[str, float]
    intercept: float
    r2: float
    num_rows: int


def fit_linear_rule(x: np.ndarray, y: np.ndarray, names: list[str]) -> LinearFit:
    """Ordinary least squares (``numpy.linalg.lstsq``: minimum-norm when columns are collinear) of
    ``y`` on the columns of ``x`` plus an intercept, over the rows where every value is finite."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(y) < x.shape[1] + 1:
        raise RecipeError(f"fit-rule: {len(y)} complete rows for {x.shape[1]} columns + intercept; "
                          f"need at least {x.shape[1] + 1}")
    design = np.column_stack([np.ones(len(y)), x])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    resid = y - design @ beta
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / total if total > 0 else 1.0
    return LinearFit(dict(zip(names, map(float, beta[1:]))), float(beta[0]), r2, int(len(y)))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScoreRule:
    """Adds ``column`` (float32) = intercept + sum of coefficient x indicator column."""

    name: ClassVar[str] = "score_rule"
    coefficients: dict[str, float] = param(doc="indicator column -> weight, e.g. {response_words = 8e-5}")
    intercept: float = param(0.0, doc="constant term of the rule")
    column: str = param("rule_score", doc="float32 column to write (null where an indicator is missing)")

    def __post_init__(self) -> None:
        if not self.coefficients:
            raise ValueError("coefficients: empty; give {column = weight, ...} (fit them with `curate fit-rule`)")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        score = np.full(batch.num_rows, self.intercept)
        valid = np.ones(batch.num_rows, bool)
        for col, weight in self.coefficients.items():
            if col not in batch.schema.names:
                raise RecipeError(f"score_rule: column {col!r} is missing; add the indicator step that writes "
                                  "it first (pair_length, mtld, lm_score, knn_distance)")
            values, present = numeric_scores(batch.column(col), col, self.name)
            valid &= present
            score += weight * np.where(present, values, 0.0)
        return with_columns(batch, {self.column: pa.array(score.astype(np.float32), mask=~valid)})
