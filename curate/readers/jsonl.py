"""JSON Lines reader (plain, .gz, .zst), streaming line by line with orjson.

Each non-blank line is one record. Lines that are not valid JSON or not valid UTF-8, records that are
not objects, and records whose text field is missing or not a string are quarantined with their line
number (1-based) and byte offset in the decompressed stream. A compressed stream that ends early is
quarantined once, with the offset where it broke; the records before it are kept.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import IO, Iterator

import orjson
import zstandard

from curate.readers.chunk import DocBuilder, ReadChunk, quarantine_record
from curate.recipe import SourceSpec

_STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)
MAX_CHUNK_TEXT_BYTES = 64 * 2**20


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading bytes, decompressing .gz and .zst on the fly."""
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith((".zst", ".zstd")):
        raw = path.open("rb")
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return io.BufferedReader(reader, buffer_size=1 << 20)
    return path.open("rb")


def _lines(f: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(1-based line number, byte offset, line) for every line; raises on a broken stream."""
    offset = 0
    for number, line in enumerate(f, start=1):
        yield number, offset, line
        offset += len(line)


def read_jsonl(source: SourceSpec, path: Path, rel_path: str, batch_rows: int) -> Iterator[ReadChunk]:
    fields = source.fields
    mapped = {fields.text, fields.id, fields.url, fields.timestamp} - {None}
    builder = DocBuilder(source.name, rel_path, fields.meta)
    bad: list[dict] = []
    num_bytes = 0
    num_records = 0
    row = 0
    consumed = 0
    with open_binary(path) as f:
        lines = _lines(f)
        while True:
            try:
                number, offset, line = next(lines)
            except StopIteration:
                break
            except _STREAM_ERRORS as exc:
                bad.append(
                    quarantine_record(
                        source.name, rel_path, None, consumed,
                        f"truncated or corrupt compressed stream: {type(exc).__name__}: {exc}",
                    )
                )
                break
            num_bytes += len(line)
            consumed += len(line)
            if not line.strip():
                continue
            num_records += 1
            this_row = row
            row += 1
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                kind = "invalid UTF-8" if "utf-8" in str(exc).lower() else "invalid JSON"
                bad.append(quarantine_record(source.name, rel_path, number, offset, f"{kind}: {exc}", line))
                continue
            if not isinstance(record, dict):
                bad.append(
                    quarantine_record(
                        source.name, rel_path, number, offset,
                        f"record is a JSON {type(record).__name__}, not an object", line,
                    )
                )
                continue
            text = record.get(fields.text)
            if not isinstance(text, str):
                what = "missing" if text is None else f"a {type(text).__name__}, not a string"
                bad.append(
                    quarantine_record(
                        source.name, rel_path, number, offset, f"text field '{fields.text}' is {what}", line
                    )
                )
                continue
            if fields.meta is None:
                meta = {k: v for k, v in record.items() if k not in mapped}
            else:
                meta = {k: record[k] for k in fields.meta if k in record}
            builder.add(
                this_row,
                text,
                record.get(fields.id) if fields.id else None,
                record.get(fields.url) if fields.url else None,
                record.get(fields.timestamp) if fields.timestamp else None,
                meta,
            )
            if len(builder) >= batch_rows or builder.text_bytes >= MAX_CHUNK_TEXT_BYTES:
                batch, bad_ts = builder.flush()
                yield ReadChunk(batch, bad, num_bytes, bad_ts)
                bad, num_bytes = [], 0
    if num_records == 0 and not bad:
        bad.append(quarantine_record(source.name, rel_path, None, 0, "empty file: no records"))
    batch, bad_ts = builder.flush()
    yield ReadChunk(batch, bad, num_bytes, bad_ts)
