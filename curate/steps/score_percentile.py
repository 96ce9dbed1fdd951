"""Keep the top (or bottom) fraction of documents per source by a score column, exactly.

The Pretrainer's Guide (METHODS.md 6) removes documents below quality-score percentiles and also
tests the inverse (keep the lowest). A percentile needs the whole source, so this is a global step:
the parallel pass only carries the score column (written by an earlier step, e.g.
``fasttext_score``) into the prepared parts; ``resolve`` reads that column and ``source`` from every
part, sorts each group's scores and keeps exactly ``round(keep_frac * n)`` documents of a group of
``n`` scored documents (round half up). So the kept fraction is exact, not the ±ε of a quantile
sketch, and a threshold is never "fuzzy" on ties. Ranking, ties and missing scores follow
``curate/steps/ranking.py``, the rule ``score_band`` uses too: one ascending ranking, equal scores
ranked by input order (the earlier lower; so with ``keep = "top"`` the later of tied documents at
the cut is kept), and a null or NaN score is *missing*: never ranked, not counted in ``n``, dropped
with reason ``<column>_missing``. A non-numeric column is a one-line error.

Memory: resolve runs as one engine task (``resolve_in_one_task``), never in the driver; there it
takes about 20 bytes per document (float64 score, int32 group code, int64 sort index; the source
strings only while they are encoded): 10^8 documents need ~2 GB. Beyond that a t-digest or
KLL sketch (rank error ~1%) would do; exactness was preferred because corpora that fit one machine
fit this.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.schema import SOURCE
from curate.steps.ranking import HIGH, KEPT, LOW, check_numeric, numeric_scores, round_count, select_ranked
from curate.steps.step import ResolveContext, resolve_in_one_task


def read_column(ctx: ResolveContext, columns: list[str]) -> tuple[dict[str, pa.Array], list[int]]:
    """Concatenate ``columns`` of every prepared part (input order); also return part sizes."""
    parts = [pq.read_table(p, columns=columns) for p in ctx.part_paths]
    sizes = [t.num_rows for t in parts]
    out = {}
    for c in columns:
        chunks = [chunk for t in parts for chunk in t.column(c).chunks]
        out[c] = pa.chunked_array(chunks, parts[0].schema.field(c).type).combine_chunks()
    return out, sizes


def write_decisions(ctx: ResolveContext, sizes: list[int], codes: np.ndarray, reasons: list[str],
                    extra: dict[str, np.ndarray | pa.Array] | None = None) -> None:
    """Write one decision Parquet per part: ``reason`` = reasons[code] (code -1 = keep) plus
    ``extra`` columns (numpy or Arrow, nulls kept), sliced row for row."""
    start = 0
    for size, out in zip(sizes, ctx.decision_paths):
        c = codes[start : start + size].astype(np.int32)
        reason = pa.DictionaryArray.from_arrays(pa.array(c, mask=c < 0), pa.array(reasons, pa.string()))
        cols = {"reason": reason.cast(pa.string()), "duplicate_of": pa.nulls(size, pa.string())}
        for name, values in (extra or {}).items():
            piece = values[start : start + size]
            cols[name] = piece if isinstance(piece, pa.Array) else pa.array(piece)
        pq.write_table(pa.table(cols), out)
        start += size


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScorePercentile:
    """Keep exactly the top (or bottom) keep_frac of each source by a score column (global)."""

    name: ClassVar[str] = "score_percentile"
    column: str = param(doc="numeric column to rank by (written by an earlier step)")
    keep_frac: float = param(doc="fraction of each group to keep, e.g. 0.7 drops the lowest 30%")
    keep: Literal["top", "bottom"] = param("top", doc="keep the highest scores, or the lowest (inverse)")
    group_by: Literal["source", "all"] = param("source", doc="rank within each source, or over all")

    def __post_init__(self) -> None:
        check_range("keep_frac", self.keep_frac, 0.0, 1.0)

    def cuts(self, n: int) -> tuple[int, int]:
        """(lowest, highest) ranks to drop from a group of ``n``: all but ``round(keep_frac * n)``."""
        cut = n - round_count(self.keep_frac, n)
        return (cut, 0) if self.keep == "top" else (0, cut)

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.column not in batch.schema.names:
            raise RecipeError(f"score_percentile: column {self.column!r} is missing; "
                              "add the step that writes it first")
        check_numeric(batch.schema.field(self.column).type, self.column, self.name)
        return batch

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        return resolve_in_one_task(self, ctx)

    def select(self, ctx: ResolveContext) -> dict[str, Any]:
        cols, sizes = read_column(ctx, [self.column, SOURCE])
        values, present = numeric_scores(cols[self.column], self.column, self.name)
        groups = cols[SOURCE] if self.group_by == "source" else None
        decision, groups_stats = select_ranked(values, present, groups, self.cuts)
        decision[decision == HIGH] = LOW  # one reason: not in the kept fraction
        stats = {name: {"scored": g["scored"], "kept": g["kept"],
                        "cut_score": g["low_score"] if self.keep == "top" else g["high_score"]}
                 for name, g in groups_stats.items()}
        reasons = [f"{self.column}_missing", f"{self.column}_not_in_{self.keep}_frac"]
        write_decisions(ctx, sizes, decision, reasons)
        return {"num_scored": int(present.sum()), "num_kept": int((decision == KEPT).sum()), "groups": stats}
