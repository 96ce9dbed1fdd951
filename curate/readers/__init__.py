"""Readers: stream one input file as document record batches, in bounded memory.

``read_file(source, path, rel_path, batch_rows)`` yields :class:`ReadChunk` objects: a batch in the
document schema (see ``curate/schema.py``) plus the quarantined records met on the way (bad JSON,
invalid UTF-8, missing or non-string text, empty file, truncated compressed stream, corrupt Parquet
row group, lost WARC record), each with the file, ``line`` and byte offset. Nothing is dropped here
without a quarantine record.

Lineage, one convention for every format: a document's ``input_row`` and a quarantined record's
``line`` are the same 0-based index of the record's unit in its file: the physical line of a JSONL
file (blank lines count), the row of a Parquet file, the record of a WARC file (warcinfo and
requests count). ``line`` is null only for a record that stands for the whole file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from curate.errors import RecipeError
from curate.readers.chunk import ReadChunk
from curate.recipe import SourceSpec


COMPRESSED_SUFFIXES = (".gz", ".zst", ".zstd")


def detect_format(path: Path) -> str:
    """``jsonl`` | ``parquet`` | ``warc`` from the file name."""
    name = path.name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".warc"):
        return "warc"
    raise RecipeError(
        f"cannot tell the format of {path}; set format = \"jsonl\" | \"parquet\" | \"warc\" in its source"
    )


def read_file(source: SourceSpec, path: Path, rel_path: str, batch_rows: int, *,
              row_groups: tuple[int, int] | None = None, byte_range: tuple[int, int] | None = None,
              first_row: int = 0) -> Iterator[ReadChunk]:
    """Stream ``path`` as :class:`ReadChunk` batches (lazy: nothing is read until iterated).
    ``row_groups`` (Parquet) or ``byte_range`` (plain JSONL, starting at a line start) restricts
    reading to that range, whose first row (line) is ``first_row``."""
    fmt = source.format or detect_format(path)
    if fmt in ("jsonl", "chat"):
        from curate.readers.jsonl import read_jsonl

        return read_jsonl(source, path, rel_path, batch_rows, byte_range=byte_range, first_row=first_row)
    if fmt == "parquet":
        from curate.readers.parquet import read_parquet

        return read_parquet(source, path, rel_path, batch_rows, row_groups=row_groups, first_row=first_row)
    from curate.readers.warc import read_warc

    return read_warc(source, path, rel_path, batch_rows)


__all__ = ["COMPRESSED_SUFFIXES", "ReadChunk", "detect_format", "read_file"]
