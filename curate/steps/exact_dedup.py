"""Exact deduplication on normalised text: keep the first document (input order) of each group.

Prepare (parallel): a 64-bit hash of the normalised text (``curate/text/normalize.py``) in the
internal column ``_exact_hash``. Resolve (global, once): read the hashes of every fragment in input
order, keep each hash's first occurrence and drop the rest with reason ``exact_duplicate`` and
``duplicate_of`` = the kept document's id. Memory: 8 bytes per document plus the ids. With 64-bit
hashes the chance of any false merge among 1e9 documents is about 3%; 1e8 documents, 3e-4.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.config import param
from curate.schema import ID, TEXT
from curate.steps.step import ResolveContext, with_columns
from curate.text.hashing import hash_strings
from curate.text.normalize import normalize_text

HASH_COLUMN = "_exact_hash"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExactDedup:
    """Drop documents whose normalised text equals an earlier document's (reason
    ``exact_duplicate``, with ``duplicate_of``)."""

    name: ClassVar[str] = "exact_dedup"
    normalize: bool = param(True, doc="lower-case, strip punctuation, zero digits, collapse spaces first")

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = batch.column(TEXT)
        key = normalize_text(text) if self.normalize else text
        return with_columns(batch, {HASH_COLUMN: pa.array(hash_strings(key), pa.uint64())})

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        hashes, ids, sizes = [], [], []
        for path in ctx.part_paths:
            t = pq.read_table(path, columns=[HASH_COLUMN, ID])
            hashes.append(t.column(HASH_COLUMN).to_numpy())
            ids.append(t.column(ID))
            sizes.append(t.num_rows)
        all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
        all_ids = pa.chunked_array(ids, pa.string()).combine_chunks() if ids else pa.array([], pa.string())
        _, first, inverse = np.unique(all_hashes, return_index=True, return_inverse=True)
        first_of_row = first[inverse]
        dup = first_of_row != np.arange(len(all_hashes))
        dup_of = all_ids.take(pa.array(first_of_row))
        start = 0
        for size, out in zip(sizes, ctx.decision_paths):
            d = dup[start : start + size]
            reason = pa.array(np.where(d, 0, -1).astype(np.int32), mask=~d)
            table = pa.table(
                {
                    "reason": pa.DictionaryArray.from_arrays(reason, pa.array(["exact_duplicate"])).cast(pa.string()),
                    "duplicate_of": pa.array(dup_of.slice(start, size).to_numpy(zero_copy_only=False), pa.string(),
                                             mask=~d),
                }
            )
            pq.write_table(table, out)
            start += size
        groups = np.bincount(inverse) if len(all_hashes) else np.zeros(0, np.int64)
        return {"num_duplicate_groups": int((groups > 1).sum()), "num_duplicates": int(dup.sum())}
