"""Parquet reader: row-group streaming with ``ParquetFile.iter_batches``, vectorised field mapping.

Columns are mapped to the schema with pyarrow casts (no per-row Python). Pass-through columns become
the JSON ``meta`` column through polars' vectorised ``struct.json_encode`` (nulls kept as null).

Bad input, and what is quarantined (``line`` = 0-based row index in the file, as ``input_row``):

- a row whose text is null: one record per row, ``byte_offset`` null;
- a row group that does not decode (corrupt page, bad compression, truncated column chunk): one
  record for the rows of that group not yet read (``line`` = the first of them, ``byte_offset`` =
  the group's first page in the file, the error names the group and its rows); the other row groups
  are still read;
- a file whose footer does not parse, with no rows, or whose text column is missing or not a string
  type (e.g. ``list<string>``): one record for the file (``line`` null, ``byte_offset`` 0).

An ``id`` or ``url`` column whose type does not cast to string is ignored (generated ids, null URLs).
Binary pass-through values go to ``meta`` as text when UTF-8, else as base64.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Iterator

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import schema
from curate.readers.chunk import ReadChunk, quarantine_record
from curate.recipe import SourceSpec
from curate.timestamps import parse_timestamps

_DECODE_ERRORS = (OSError, pa.ArrowException)


def _fail(source: SourceSpec, rel_path: str, num_bytes: int, error: str) -> ReadChunk:
    return ReadChunk(schema.empty_docs(), [quarantine_record(source.name, rel_path, None, 0, error)], num_bytes)


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _strings(batch: pa.RecordBatch, name: str | None) -> pa.Array | None:
    """Column ``name`` as strings; None when absent or of a type that does not cast to string."""
    if name is None or name not in batch.schema.names:
        return None
    try:
        return pc.cast(batch.column(name), pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _is_binary(t: pa.DataType) -> bool:
    return (pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
            or pa.types.is_binary_view(t))


def _holds_binary(t: pa.DataType) -> bool:
    """Whether a nested type has binary values somewhere inside."""
    return _is_binary(t) or any(_holds_binary(t.field(i).type) for i in range(t.num_fields))


def _text_or_base64(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(value).decode()


def _jsonable(col: pa.Array) -> pa.Array:
    """A top-level binary column as strings: each value as text if it is UTF-8, else base64 (per
    value, so the result does not depend on how rows are batched)."""
    if not _is_binary(col.type):
        return col
    try:
        return pc.cast(col, pa.string())
    except pa.ArrowInvalid:
        return pa.array([_text_or_base64(v) for v in col.to_pylist()], pa.string())


def _meta(batch: pa.RecordBatch, columns: list[str]) -> pa.Array:
    """Pass-through columns as one JSON object per row: polars' vectorised ``json_encode``, or,
    where binary is nested inside a column (polars cannot write it), orjson row by row with
    ``str()`` of the bytes."""
    if not columns or batch.num_rows == 0:
        return pa.nulls(batch.num_rows, pa.string())
    struct = pa.StructArray.from_arrays([_jsonable(batch.column(c)) for c in columns], names=columns)
    if not _holds_binary(struct.type):
        return pl.from_arrow(struct).struct.json_encode().to_arrow().cast(pa.string())
    return pa.array([orjson.dumps(row, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
                     for row in struct.to_pylist()], pa.string())


def to_docs(batch: pa.RecordBatch, rows: pa.Array, source: SourceSpec, rel_path: str,
            meta_cols: list[str]) -> tuple[pa.RecordBatch, int]:
    """Map a batch of input columns (text known non-null and of a string type) to the document
    schema; ``rows`` are the rows' indices in the file."""
    f = source.fields
    n = batch.num_rows
    fallback = pc.binary_join_element_wise(pa.array([f"{source.name}/{rel_path}"] * n, pa.string()),
                                           pc.cast(rows, pa.string()), "/")
    ids = _strings(batch, f.id)
    ids = fallback if ids is None else pc.coalesce(ids, fallback)
    urls = _strings(batch, f.url)
    if f.timestamp and f.timestamp in batch.schema.names:
        times, bad = parse_timestamps(batch.column(f.timestamp))
    else:
        times, bad = pa.nulls(n, schema.TIMESTAMP_TYPE), 0
    arrays = [ids, pc.cast(batch.column(f.text), pa.large_string()), pa.array([source.name] * n, pa.string()),
              pa.nulls(n, pa.string()) if urls is None else urls, times, _meta(batch, meta_cols),
              pa.array([rel_path] * n, pa.string()), rows]
    return pa.RecordBatch.from_arrays(arrays, schema=schema.DOC_SCHEMA), bad


def _group_offset(meta: pq.FileMetaData, group: int) -> int:
    """File offset of the first page of row group ``group``."""
    col = meta.row_group(group).column(0)
    return col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset


def read_parquet(source: SourceSpec, path: Path, rel_path: str, batch_rows: int, *,
                 row_groups: tuple[int, int] | None = None, first_row: int = 0) -> Iterator[ReadChunk]:
    """Stream the row groups ``row_groups`` (default: all) of ``path``; see the module doc for what
    is quarantined."""
    size = path.stat().st_size
    try:
        pf = pq.ParquetFile(path)
        meta, arrow_schema = pf.metadata, pf.schema_arrow
    except _DECODE_ERRORS as exc:
        yield _fail(source, rel_path, size, f"unreadable Parquet file (footer): {type(exc).__name__}: {exc}")
        return
    yield from _read_groups(source, pf, meta, arrow_schema, size, rel_path, batch_rows,
                            row_groups or (0, meta.num_row_groups), first_row)


def _read_groups(source: SourceSpec, pf: pq.ParquetFile, meta: pq.FileMetaData, arrow_schema: pa.Schema,
                 size: int, rel_path: str, batch_rows: int, groups: tuple[int, int],
                 first_row: int) -> Iterator[ReadChunk]:
    fields = source.fields
    names = arrow_schema.names
    if fields.text not in names:
        yield _fail(source, rel_path, size, f"text column '{fields.text}' not in file; columns: {names}")
        return
    text_type = arrow_schema.field(fields.text).type
    if not _is_text(text_type):
        yield _fail(source, rel_path, size, f"text column '{fields.text}' is {text_type}, not a string: "
                                            "no document can be read from this file")
        return
    if meta.num_rows == 0:
        yield _fail(source, rel_path, size, "empty file: no records")
        return
    mapped = {fields.text, fields.id, fields.url, fields.timestamp} - {None}
    meta_cols = [n for n in names if n not in mapped] if fields.meta is None else [n for n in fields.meta if n in names]
    bytes_per_row = size / meta.num_rows
    row = first_row
    for g in range(*groups):
        group_end = row + meta.row_group(g).num_rows
        try:
            for rb in pf.iter_batches(batch_size=batch_rows, row_groups=[g]):
                yield _chunk(rb, row, source, rel_path, meta_cols, bytes_per_row)
                row += rb.num_rows
        except _DECODE_ERRORS as exc:
            error = (f"corrupt row group {g} (rows {row}-{group_end - 1} not read): "
                     f"{type(exc).__name__}: {exc}")
            record = quarantine_record(source.name, rel_path, row, _group_offset(meta, g), error)
            yield ReadChunk(schema.empty_docs(), [record], int((group_end - row) * bytes_per_row))
        row = group_end


def _chunk(rb: pa.RecordBatch, row: int, source: SourceSpec, rel_path: str, meta_cols: list[str],
           bytes_per_row: float) -> ReadChunk:
    """Documents of one decoded batch whose first row is ``row``; null texts quarantined."""
    text = source.fields.text
    ok = pc.is_valid(rb.column(text))
    bad = [quarantine_record(source.name, rel_path, row + int(i), None, f"text column '{text}' is null")
           for i in np.flatnonzero(~ok.to_numpy(zero_copy_only=False))]
    rows = pa.array(np.arange(row, row + rb.num_rows, dtype=np.int64)).filter(ok)
    docs, bad_ts = to_docs(rb.filter(ok), rows, source, rel_path, meta_cols)
    return ReadChunk(docs, bad, int(rb.num_rows * bytes_per_row), bad_ts)
