"""One document per normalised URL: ``url_dedup`` (recrawls of a page, http/https twins).

Prepare (parallel): ``_url_key``, the 64-bit hash of :func:`curate.text.urls.url_key` (scheme,
``www.``, host case, default ports, userinfo, ``#fragment`` and trailing slashes ignored; null
for a document without a host, which is never a duplicate), and for the ``newest`` and
``longest`` rules ``_url_rank`` (the timestamp in microseconds, or the text length in characters).

Resolve (global): the hash-partitioned group-by of ``exact_dedup`` (``curate/dedup/exact.py``),
as engine phases ``url_hashes`` / ``url_groups`` / ``url_decisions``, with the rank as the sort
key after the URL hash; per key, the kept document is chosen by ``rule``:

- ``first``: the first in input order;
- ``newest``: the latest ``timestamp``; an undated document ranks below every dated one;
- ``longest``: the most characters of ``text``;

ties go to the earliest in input order. The others are dropped with reason ``url_duplicate`` and
``duplicate_of`` = the kept document's id. The driver holds no bytes per document; shuffle files
hold ~(24 + id length) bytes per document with a URL; a reduce task one hash partition. With 64-bit keys, the chance of any false merge among 1e8 distinct
URLs is about 3e-4. Identical for any ``--workers``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.dedup.exact import planned_phases, resolve_exact
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

    def planned_phases(self, num_parts: int, num_docs: int) -> list[tuple[str, int, int]]:
        return planned_phases(num_parts, num_docs)

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        stats = resolve_exact(ctx, key_column=KEY_COLUMN, rank_column=RANK_COLUMN if self.rule != "first" else None,
                              reason=REASON, prefix="url")
        return {"rule": self.rule, "num_docs": stats["num_docs"], "num_without_url": stats["num_without_key"],
                "num_duplicate_groups": stats["num_duplicate_groups"], "num_duplicates": stats["num_duplicates"]}
