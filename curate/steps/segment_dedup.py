"""Sub-document dedup, dolma/BFF style: ``line_dedup`` and ``paragraph_dedup`` remove lines or
paragraphs repeated across the corpus (boilerplate: cookie banners, navigation, footers).

Prepare (parallel): the documents' segments (``curate/text/segments.py``: lines split on ``\\n``,
paragraphs on ``\\n\\n``) and their 64-bit keys, in ``_segment_keys`` (``list<uint64>``, 0 for a
segment shorter than ``min_chars`` after stripping, which is never removed).

Resolve (global, engine phases ``seg_*``, each committed): which occurrences go
(``curate/dedup/repeats.py``): a segment occurring more
than ``max_count`` times in the corpus loses its copies after the first ``max_count`` in input order
(``keep = "first"``; ``max_count = 1`` is dolma's and datatrove's keep-the-first-copy), or all of
them (``keep = "none"``). ``method = "exact"`` counts with spill-to-disk hash partitions,
``"bloom"`` with a Bloom filter sized for ``bloom_fp_rate`` within ``bloom_max_mb``. Then, per
fragment (a ``seg_decisions`` task each), the decision file carries the rewritten ``text`` (the
kept segments joined with the separator) for every row, which the runner puts into the kept rows.
A document that had segments removed and keeps only whitespace is dropped with reason
``all_lines_duplicate`` / ``all_paragraphs_duplicate`` (its original text is kept in ``rejected/``).
Both methods are deterministic for any ``--workers``.

Stats: segments, candidates, repeated keys (exact), removed, characters removed, documents changed
and dropped. Cost: 8 bytes per segment in the prepared parts, 16 per candidate in the exact spill,
8 per removed occurrence, and the decision files hold the fragment's text once
more (the next stage reads a fragment's decisions whole).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Iterator, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.config import check_range, param
from curate.dedup import bloom, repeats
from curate.schema import TEXT
from curate.steps.step import ResolveContext, with_columns
from curate.text.segments import drop_segments, segment_keys, split_segments

KEYS_COLUMN = "_segment_keys"
DECISION_SCHEMA = pa.schema([("reason", pa.string()), ("duplicate_of", pa.string()), (TEXT, pa.large_string())])
READ_ROWS = 16384


@dataclasses.dataclass(frozen=True)
class _Decide:
    """One fragment's decision task (picklable for any engine)."""

    unit: str
    reason: str
    part: Path
    decisions: Path
    plan: repeats.Plan
    index: int


def _decide(task: _Decide) -> dict[str, int]:
    """Write the fragment's decisions (reason, duplicate_of, text) batch by batch; its counts."""
    removed = repeats.removed_mask(task.plan, task.index)
    pos, stats = 0, {"chars_removed": 0, "num_docs_changed": 0, "num_docs_dropped": 0}
    with pq.ParquetWriter(task.decisions, DECISION_SCHEMA) as writer:
        for batch in _batches(task.part, [TEXT, KEYS_COLUMN]):
            text = batch.column(0)
            pieces, offsets = split_segments(text, task.unit)
            if len(pieces) != len(batch.column(1).flatten()):
                raise RuntimeError(f"{task.part}: segments changed between prepare and resolve")
            gone = removed[pos:pos + len(pieces)]
            pos += len(pieces)
            row = np.repeat(np.arange(batch.num_rows), np.diff(offsets))
            per_row = np.bincount(row[gone], minlength=batch.num_rows)
            reason = pa.nulls(batch.num_rows, pa.string())
            if gone.any():
                new_text = drop_segments(pieces, offsets, gone, task.unit)
                blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(new_text)), 0).to_numpy(zero_copy_only=False)
                dropped = (per_row > 0) & blank
                reason = pa.array(np.where(dropped, task.reason, None), pa.string())
                text = pc.if_else(pa.array(dropped), text, new_text)
                stats["chars_removed"] += int(pc.sum(pc.utf8_length(pieces.filter(pa.array(gone)))).as_py() or 0)
                stats["num_docs_changed"] += int(((per_row > 0) & ~dropped).sum())
                stats["num_docs_dropped"] += int(dropped.sum())
            writer.write_table(pa.table([reason, pa.nulls(batch.num_rows, pa.string()), text.cast(pa.large_string())],
                                        schema=DECISION_SCHEMA))
    return stats


def _batches(path: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
    part = pq.ParquetFile(path)
    if part.metadata.num_rows:
        yield from part.iter_batches(columns=columns, batch_size=READ_ROWS)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _SegmentDedup:
    unit: ClassVar[str]
    max_count: int = param(1, doc="copies of a segment the corpus may hold; more are repeats")
    keep: Literal["first", "none"] = param(
        "first", doc="first: keep the first max_count copies (dolma); none: remove every copy of a repeat")
    min_chars: int = param(1, doc="segments shorter than this (stripped, in characters) are never removed")
    normalize: bool = param(False, doc="compare lower-cased, without punctuation, digits as 0")
    method: Literal["exact", "bloom"] = param("exact", doc="exact (spill-to-disk partitions) or bloom filter")
    bloom_fp_rate: float = param(0.001, doc="bloom: false-positive rate the filter is sized for")
    bloom_max_mb: int = param(1024, doc="bloom: memory budget of the filter in MiB (caps the size)")

    def __post_init__(self) -> None:
        check_range("max_count", self.max_count, 1, 2**62)
        if self.method == "bloom" and self.max_count > bloom.SATURATED - 1:
            raise ValueError(f"max_count={self.max_count} is above {bloom.SATURATED - 1}, the most a Bloom "
                             "counter holds; use method = 'exact' or a smaller max_count")
        check_range("min_chars", self.min_chars, 0, 2**31)
        check_range("bloom_fp_rate", self.bloom_fp_rate, 1e-12, 0.5)
        check_range("bloom_max_mb", self.bloom_max_mb, 1, 2**24)

    @property
    def reason(self) -> str:
        return f"all_{self.unit}s_duplicate"

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        pieces, offsets = split_segments(batch.column(TEXT), self.unit)
        keys = segment_keys(pieces, min_chars=self.min_chars, normalize=self.normalize)
        lists = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(keys, pa.uint64()))
        return with_columns(batch, {KEYS_COLUMN: lists})

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        plan, found = repeats.find_removals(ctx, KEYS_COLUMN, method=self.method, max_count=self.max_count,
                                            keep_first=self.keep == "first", fp_rate=self.bloom_fp_rate,
                                            max_bytes=self.bloom_max_mb * 2**20)
        tasks = [_Decide(self.unit, self.reason, part, out, plan, i)
                 for i, (part, out) in enumerate(zip(ctx.part_paths, ctx.decision_paths))]
        results = ctx.phase("seg_decisions", _decide, tasks)
        stats = {"method": self.method, **found}
        for key in ("chars_removed", "num_docs_changed", "num_docs_dropped"):
            stats[key] = sum(r[key] for r in results)
        return stats


@dataclasses.dataclass(frozen=True, kw_only=True)
class LineDedup(_SegmentDedup):
    """Remove lines repeated across the corpus (``max_count``, ``keep``); a document left blank
    is dropped (reason ``all_lines_duplicate``)."""

    name: ClassVar[str] = "line_dedup"
    unit: ClassVar[str] = "line"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ParagraphDedup(_SegmentDedup):
    """Remove paragraphs (split on blank lines) repeated across the corpus; a document left blank
    is dropped (reason ``all_paragraphs_duplicate``)."""

    name: ClassVar[str] = "paragraph_dedup"
    unit: ClassVar[str] = "paragraph"
