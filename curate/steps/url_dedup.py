"""One document per normalised URL: ``url_dedup`` (recrawls of a page, http/https twins).

Prepare (parallel): ``_url_key``, the 64-bit hash of :func:`curate.text.urls.url_key` (scheme,
``www.``, host case, default ports, userinfo, ``#fragment`` and trailing slashes ignored; null
for a document without a host, which is never a duplicate), and for the ``newest`` and
``longest`` rules ``_url_rank`` (the timestamp in microseconds, or the text length in characters).

Resolve (global, once): per key, the kept document is chosen by ``rule``:

- ``first``: the first in input order;
- ``newest``: the latest ``timestamp``; an undated document ranks below every dated one;
- ``longest``: the most characters of ``text``;

ties go to the earliest in input order. The others are dropped with reason ``url_duplicate`` and
``duplicate_of`` = the kept document's id. Memory: 16 bytes per document plus the ids of the kept
documents of repeated URLs; with 64-bit keys, the chance of any false merge among 1e8 distinct
URLs is about 3e-4. Identical for any ``--workers``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.config import param
from curate.dedup.resolve import lookup_ids
from curate.schema import ID, TEXT, TIMESTAMP, URL
from curate.steps.step import ResolveContext, with_columns
from curate.text.hashing import hash_strings
from curate.text.urls import url_key

KEY_COLUMN = "_url_key"
RANK_COLUMN = "_url_rank"
REASON = "url_duplicate"
MISSING_RANK = -(2**62)  # below every timestamp (years 1-9999) and length


def _rank(batch: pa.RecordBatch, rule: str) -> pa.Array:
    if rule == "newest":
        ts = batch.column(TIMESTAMP) if TIMESTAMP in batch.schema.names else pa.nulls(batch.num_rows)
        micros = pc.cast(pc.cast(ts, pa.timestamp("us", tz="UTC")), pa.int64())
        return pc.fill_null(micros, MISSING_RANK)
    return pc.cast(pc.utf8_length(batch.column(TEXT)), pa.int64())


@dataclasses.dataclass(frozen=True, kw_only=True)
class UrlDedup:
    """Keep one document per normalised URL (``rule``: first, newest or longest); drop the others
    (reason ``url_duplicate``, with ``duplicate_of``)."""

    name: ClassVar[str] = "url_dedup"
    rule: Literal["first", "newest", "longest"] = param(
        "first", doc="document kept per URL: first (input order), newest (timestamp) or longest (text)")

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        urls = batch.column(URL) if URL in batch.schema.names else pa.nulls(batch.num_rows, pa.string())
        key = url_key(urls)
        hashed = pa.array(hash_strings(key), pa.uint64(), mask=pc.is_null(key).to_numpy(zero_copy_only=False))
        columns = {KEY_COLUMN: hashed}
        if self.rule != "first":
            columns[RANK_COLUMN] = _rank(batch, self.rule)
        return with_columns(batch, columns)

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        columns = [KEY_COLUMN] + ([RANK_COLUMN] if self.rule != "first" else [])
        tables = [pq.read_table(path, columns=columns) for path in ctx.part_paths]
        sizes = [t.num_rows for t in tables]
        n = sum(sizes)
        keys = pa.chunked_array([t.column(KEY_COLUMN) for t in tables], pa.uint64())
        has_url = pc.is_valid(keys).to_numpy(zero_copy_only=False)
        key = pc.fill_null(keys, 0).to_numpy()
        rank = (np.concatenate([t.column(RANK_COLUMN).to_numpy() for t in tables]) if self.rule != "first"
                else np.zeros(n, np.int64)) if n else np.zeros(0, np.int64)
        del tables
        rows = np.flatnonzero(has_url)
        order = rows[np.lexsort((rows, -rank[rows], key[rows]))]  # key, then rank descending, then input order
        kept_of = np.arange(n)
        if len(order):
            sorted_keys = key[order]
            starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
            group = np.cumsum(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) - 1
            kept_of[order] = order[starts][group]
        removed = kept_of != np.arange(n)
        needed = np.unique(kept_of[removed])
        ids = lookup_ids(needed, (b.column(0) for p in ctx.part_paths
                                  for b in pq.ParquetFile(p).iter_batches(columns=[ID], batch_size=65536)))
        ids = pa.concat_arrays([ids, pa.array([None], pa.string())])
        start = 0
        for size, out in zip(sizes, ctx.decision_paths):
            gone = removed[start:start + size]
            pos = np.searchsorted(needed, kept_of[start:start + size])
            pos[~gone] = len(needed)
            pq.write_table(pa.table({"reason": pa.array(np.where(gone, REASON, None), pa.string()),
                                     "duplicate_of": ids.take(pa.array(pos))}), out)
            start += size
        return {"rule": self.rule, "num_docs": n, "num_without_url": int(n - has_url.sum()),
                "num_duplicate_groups": len(needed), "num_duplicates": int(removed.sum())}
