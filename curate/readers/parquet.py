"""Parquet reader: row-group streaming with ``ParquetFile.iter_batches``, vectorised field mapping.

Columns are mapped to the schema with pyarrow casts (no per-row Python). Rows whose text is null are
quarantined (``line`` = 0-based row index in the file). Pass-through columns become the JSON
``meta`` column through polars' vectorised ``struct.json_encode`` (nulls kept as null).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import schema
from curate.readers.chunk import ReadChunk, quarantine_record
from curate.recipe import SourceSpec
from curate.timestamps import parse_timestamps


def _fail(source: SourceSpec, path: Path, rel_path: str, error: str) -> ReadChunk:
    empty = pa.RecordBatch.from_pylist([], schema=schema.DOC_SCHEMA)
    return ReadChunk(empty, [quarantine_record(source.name, rel_path, None, 0, error)], path.stat().st_size)


def _strings(batch: pa.RecordBatch, name: str | None) -> pa.Array:
    if name is None or name not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    return pc.cast(batch.column(name), pa.string())


def _meta(batch: pa.RecordBatch, columns: list[str]) -> pa.Array:
    if not columns or batch.num_rows == 0:
        return pa.nulls(batch.num_rows, pa.string())
    struct = pa.StructArray.from_arrays([batch.column(c) for c in columns], names=columns)
    return pl.from_arrow(struct).struct.json_encode().to_arrow().cast(pa.string())


def to_docs(batch: pa.RecordBatch, rows: pa.Array, source: SourceSpec, rel_path: str,
            meta_cols: list[str]) -> tuple[pa.RecordBatch, int]:
    """Map a batch of input columns (text known non-null) to the document schema; ``rows`` are
    the rows' indices in the file."""
    f = source.fields
    n = batch.num_rows
    fallback = pc.binary_join_element_wise(pa.array([f"{source.name}/{rel_path}"] * n, pa.string()),
                                           pc.cast(rows, pa.string()), "/")
    ids = pc.coalesce(_strings(batch, f.id), fallback)
    if f.timestamp and f.timestamp in batch.schema.names:
        times, bad = parse_timestamps(batch.column(f.timestamp))
    else:
        times, bad = pa.nulls(n, schema.TIMESTAMP_TYPE), 0
    arrays = [ids, pc.cast(batch.column(f.text), pa.large_string()), pa.array([source.name] * n, pa.string()),
              _strings(batch, f.url), times, _meta(batch, meta_cols), pa.array([rel_path] * n, pa.string()),
              rows]
    return pa.RecordBatch.from_arrays(arrays, schema=schema.DOC_SCHEMA), bad


def read_parquet(source: SourceSpec, path: Path, rel_path: str, batch_rows: int, *,
                 row_groups: tuple[int, int] | None = None, first_row: int = 0) -> Iterator[ReadChunk]:
    fields = source.fields
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        yield _fail(source, path, rel_path, f"unreadable Parquet file: {exc}")
        return
    names = pf.schema_arrow.names
    if fields.text not in names:
        yield _fail(source, path, rel_path, f"text column '{fields.text}' not in file; columns: {names}")
        return
    if pf.metadata.num_rows == 0:
        yield _fail(source, path, rel_path, "empty file: no records")
        return
    mapped = {fields.text, fields.id, fields.url, fields.timestamp} - {None}
    meta_cols = [n for n in names if n not in mapped] if fields.meta is None else [n for n in fields.meta if n in names]
    bytes_per_row = path.stat().st_size / pf.metadata.num_rows
    row = first_row
    groups = list(range(*row_groups)) if row_groups else None
    for rb in pf.iter_batches(batch_size=batch_rows, row_groups=groups):
        text = rb.column(fields.text)
        ok = pc.is_valid(text) if pa.types.is_string(text.type) or pa.types.is_large_string(text.type) \
            else pa.array(np.zeros(rb.num_rows, dtype=bool))
        bad = [quarantine_record(source.name, rel_path, row + int(i), None,
                                 f"text column '{fields.text}' is {'null' if text[int(i)].as_py() is None else text.type}")
               for i in np.flatnonzero(~ok.to_numpy(zero_copy_only=False))]
        rows = pa.array(np.arange(row, row + rb.num_rows, dtype=np.int64)).filter(ok)
        docs, bad_ts = to_docs(rb.filter(ok), rows, source, rel_path, meta_cols)
        row += rb.num_rows
        yield ReadChunk(docs, bad, int(rb.num_rows * bytes_per_row), bad_ts)
