"""Data age: a ``year`` column and a date-range filter on the parsed ``timestamp`` column.

The Pretrainer's Guide (Longpre et al. 2024, METHODS.md 6) finds that a temporal gap between
pretraining and evaluation data hurts and that fine-tuning does not fully close it, so the age of a
document is worth keeping (``year``: conditioning metadata, e.g. a MeCo-style prefix) and
filtering on (``date_range``). Timestamps are parsed once at read time (``curate/timestamps.py``);
values that do not parse are null there and counted as ``bad_timestamps`` in stats.json.

Documents without a timestamp are kept by ``date_range`` unless ``missing = "drop"`` (reason
``no_timestamp``): most web sources lack dates for part of their pages, and dropping them silently
would bias the corpus toward dated sites.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc

from curate.schema import TIMESTAMP, TIMESTAMP_TYPE
from curate.config import param
from curate.steps.step import first_reason, with_columns
from curate.timestamps import parse_timestamps


@dataclasses.dataclass(frozen=True, kw_only=True)
class Year:
    """Add the document's year (UTC) from ``timestamp`` as an int16 column; null when undated."""

    name: ClassVar[str] = "year"
    column: str = param("year", doc="name of the column to write")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        years = pc.cast(pc.year(batch.column(TIMESTAMP)), pa.int16())
        return with_columns(batch, {self.column: years})


def parse_bound(name: str, value: str | None) -> pa.Scalar | None:
    """A recipe date bound (any format ``parse_timestamps`` accepts) as a UTC timestamp scalar."""
    if value is None:
        return None
    parsed, bad = parse_timestamps(pa.array([value], pa.string()))
    if bad:
        raise ValueError(f"{name}={value!r} is not a date; use e.g. '2019-01-01' or '2019-01-01T00:00:00Z'")
    return parsed[0]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DateRange:
    """Keep documents dated in [min_date, max_date) (UTC). Reasons: ``too_old``, ``too_new``,
    ``no_timestamp`` (only with missing = "drop")."""

    name: ClassVar[str] = "date_range"
    min_date: str | None = param(None, doc="earliest kept date, inclusive (e.g. '2019-01-01'); none = none")
    max_date: str | None = param(None, doc="first date no longer kept, exclusive; none = no bound")
    missing: Literal["keep", "drop"] = param("keep", doc="documents without a timestamp: keep or drop")

    def __post_init__(self) -> None:
        lo, hi = parse_bound("min_date", self.min_date), parse_bound("max_date", self.max_date)
        if lo is not None and hi is not None and lo.value >= hi.value:
            raise ValueError(f"min_date={self.min_date!r} must be before max_date={self.max_date!r}")

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        ts = pc.cast(batch.column(TIMESTAMP), TIMESTAMP_TYPE)
        micros = pc.fill_null(pc.cast(ts, pa.int64()), 0).to_numpy(zero_copy_only=False)
        dated = pc.is_valid(ts).to_numpy(zero_copy_only=False)
        rules = []
        if self.missing == "drop":
            rules.append(("no_timestamp", ~dated))
        lo, hi = parse_bound("min_date", self.min_date), parse_bound("max_date", self.max_date)
        if lo is not None:
            rules.append(("too_old", dated & (micros < lo.value)))
        if hi is not None:
            rules.append(("too_new", dated & (micros >= hi.value)))
        return first_reason(rules, batch.num_rows)
