"""Parquet reader: row-group streaming with ``ParquetFile.iter_batches``; fields mapped to the schema.

Rows whose text is null are quarantined (line = 0-based row index). Pass-through columns are
serialised into the JSON ``meta`` column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from curate.readers.chunk import DocBuilder, ReadChunk, quarantine_record
from curate.recipe import SourceSpec


def read_parquet(source: SourceSpec, path: Path, rel_path: str, batch_rows: int) -> Iterator[ReadChunk]:
    fields = source.fields
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        yield ReadChunk(DocBuilder(source.name, rel_path, None).flush()[0],
                        [quarantine_record(source.name, rel_path, None, 0, f"unreadable Parquet file: {exc}")],
                        path.stat().st_size)
        return
    names = pf.schema_arrow.names
    if fields.text not in names:
        yield ReadChunk(DocBuilder(source.name, rel_path, None).flush()[0],
                        [quarantine_record(source.name, rel_path, None, 0,
                                           f"text column '{fields.text}' not in file; columns: {names}")],
                        path.stat().st_size)
        return
    mapped = {fields.text, fields.id, fields.url, fields.timestamp} - {None}
    meta_cols = [n for n in names if n not in mapped] if fields.meta is None else [n for n in fields.meta if n in names]
    total_rows = max(pf.metadata.num_rows, 1)
    bytes_per_row = path.stat().st_size / total_rows
    builder = DocBuilder(source.name, rel_path, fields.meta)
    row = 0
    if pf.metadata.num_rows == 0:
        yield ReadChunk(builder.flush()[0], [quarantine_record(source.name, rel_path, None, 0, "empty file: no records")], 0)
        return
    for rb in pf.iter_batches(batch_size=batch_rows):
        cols = rb.to_pydict()
        bad = []
        texts = cols[fields.text]
        for i, text in enumerate(texts):
            r = row + i
            if not isinstance(text, str):
                what = "null" if text is None else f"a {type(text).__name__}"
                bad.append(quarantine_record(source.name, rel_path, r, None, f"text column '{fields.text}' is {what}"))
                continue
            meta = {k: cols[k][i] for k in meta_cols}
            builder.add(
                r,
                text,
                cols[fields.id][i] if fields.id in cols else None,
                cols[fields.url][i] if fields.url in cols else None,
                cols[fields.timestamp][i] if fields.timestamp in cols else None,
                {k: v for k, v in meta.items() if v is not None},
            )
        row += rb.num_rows
        batch, bad_ts = builder.flush()
        yield ReadChunk(batch, bad, int(rb.num_rows * bytes_per_row), bad_ts)
