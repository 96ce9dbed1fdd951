"""``mtld``: lexical diversity of a text column (MTLD, McCarthy & Jarvis 2010; an Instruction
Mining indicator, METHODS.md 13). The method, its word split and the edge cases are in
``curate/text/mtld.py``; the score is float32, null for a text without words."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.steps.step import with_columns
from curate.text.mtld import MTLD_THRESHOLD, mtld


@dataclasses.dataclass(frozen=True, kw_only=True)
class Mtld:
    """Adds ``<column>_mtld`` (float32): bidirectional MTLD of a text column."""

    name: ClassVar[str] = "mtld"
    column: str = param("response", doc="text column to measure (e.g. `response` from instruction_pair)")
    threshold: float = param(MTLD_THRESHOLD, doc="TTR factor threshold (paper: 0.72)")
    out_column: str | None = param(None, doc="float32 column to write; default <column>_mtld")

    def __post_init__(self) -> None:
        check_range("threshold", self.threshold, 0.0, 0.999)

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.column not in batch.schema.names:
            raise RecipeError(f"mtld: column {self.column!r} is missing; add instruction_pair (or the step "
                              "that writes it) first, or set column")
        score = mtld(batch.column(self.column), self.threshold)
        out = self.out_column or f"{self.column}_mtld"
        return with_columns(batch, {out: pa.array(score.astype(np.float32), mask=np.isnan(score))})
