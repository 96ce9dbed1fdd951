"""JSON Lines reader (plain, .gz, .zst), streaming line by line with orjson.

Each non-blank line is one record; a UTF-8 byte-order mark before the first line is skipped.
Lineage: ``input_row`` (and a quarantined record's ``line``) is the 0-based physical line index
(blank lines count as lines, so ``sed -n "$((input_row + 1))p"`` prints the record), ``byte_offset``
the record's offset in the decompressed stream. Lines that are not valid JSON or not valid UTF-8,
records that are not objects, and records whose text field is missing or not a string are
quarantined. ``format = "chat"``: records are conversations (``curate/readers/chat.py``), and
invalid ones are quarantined too. A compressed stream that ends early is quarantined once (``line`` = the line it broke
in, ``byte_offset`` = where that line starts); the records before it are kept.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import IO, Iterator

import orjson
import zstandard

from curate.readers.chat import CHAT_KEYS, chat_text
from curate.readers.chunk import DocBuilder, ReadChunk, quarantine_record
from curate.recipe import SourceSpec

_STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)
MAX_CHUNK_TEXT_BYTES = 64 * 2**20
READ_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"


class TruncatedStream(EOFError):
    """A compressed stream ended before its end-of-frame marker."""


def _zstd_blocks(raw: IO[bytes]) -> Iterator[bytes]:
    """Decompress a (multi-frame) zstd stream block by block; raise TruncatedStream at a break
    (zstandard's stream reader ends silently there)."""
    dctx = zstandard.ZstdDecompressor()
    dobj = dctx.decompressobj()
    pending = False
    while True:
        chunk = raw.read(READ_BYTES)
        if not chunk:
            break
        while chunk:
            out = dobj.decompress(chunk)
            pending = not dobj.eof
            if out:
                yield out
            chunk = dobj.unused_data if dobj.eof else b""
            if dobj.eof:
                dobj = dctx.decompressobj()
                pending = False
    if pending:
        raise TruncatedStream("zstd frame ends before its end marker")


def iter_blocks(path: Path) -> Iterator[bytes]:
    """Decompressed byte blocks of ``path`` (.gz, .zst or plain), raising at a broken stream."""
    name = path.name.lower()
    with path.open("rb") as raw:
        if name.endswith((".zst", ".zstd")):
            yield from _zstd_blocks(raw)
            return
        f = gzip.GzipFile(fileobj=raw) if name.endswith(".gz") else raw
        while block := f.read1(READ_BYTES):
            yield block


def _lines(blocks: Iterator[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(0-based line index, byte offset, line) for every line; a stream that breaks (truncated
    .gz/.zst) yields every complete line before the break and then raises. A partial line at the
    break is not yielded. Linear in the stream size: a line spanning many blocks is joined once."""
    offset = 0
    number = 0
    pending: list[bytes] = []  # blocks of a line not yet ended
    for block in blocks:
        lines = block.split(b"\n")
        rest = lines.pop()
        if lines and pending:
            pending.append(lines[0])
            lines[0] = b"".join(pending)
            pending = []
        for line in lines:
            yield number, offset, line + b"\n"
            number += 1
            offset += len(line) + 1
        if rest:
            pending.append(rest)
    if pending:
        yield number, offset, b"".join(pending)


def _parse(line: bytes, text_field: str, chat: bool = False) -> tuple[dict | None, str | None]:
    """(record, None) for a good line, (None, error) for a bad one. ``chat``: the record is a
    conversation (``curate/readers/chat.py``) and its canonical JSON becomes ``record[text_field]``."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        kind = "invalid UTF-8" if "utf-8" in str(exc).lower() else "invalid JSON"
        return None, f"{kind}: {exc}"
    if not isinstance(record, dict):
        return None, f"record is a JSON {type(record).__name__}, not an object"
    if chat:
        text, error = chat_text(record)
        if error is not None:
            return None, f"chat record: {error}"
        record = {k: v for k, v in record.items() if k not in CHAT_KEYS}
        record[text_field] = text
    text = record.get(text_field)
    if not isinstance(text, str):
        what = "missing" if text is None else f"a {type(text).__name__}, not a string"
        return None, f"text field '{text_field}' is {what}"
    return record, None


def read_jsonl(source: SourceSpec, path: Path, rel_path: str, batch_rows: int) -> Iterator[ReadChunk]:
    fields = source.fields
    chat = source.format == "chat"
    mapped = {fields.text, fields.id, fields.url, fields.timestamp} - {None}
    builder = DocBuilder(source.name, rel_path, fields.meta)
    bad: list[dict] = []
    num_bytes = consumed = records = next_line = 0
    lines = _lines(iter_blocks(path))
    while True:
        try:
            number, offset, line = next(lines)
        except StopIteration:
            break
        except _STREAM_ERRORS as exc:
            error = f"truncated or corrupt compressed stream: {type(exc).__name__}: {exc}"
            bad.append(quarantine_record(source.name, rel_path, next_line, consumed, error))
            break
        num_bytes += len(line)
        consumed += len(line)
        next_line = number + 1
        if number == 0 and line.startswith(_BOM):
            line, offset = line[len(_BOM):], offset + len(_BOM)
        if not line.strip():
            continue
        records += 1
        record, error = _parse(line, fields.text, chat)
        if error:
            bad.append(quarantine_record(source.name, rel_path, number, offset, error, line))
            continue
        if fields.meta is None:
            meta = {k: v for k, v in record.items() if k not in mapped}
        else:
            meta = {k: record[k] for k in fields.meta if k in record}
        get = record.get
        builder.add(number, record[fields.text], get(fields.id) if fields.id else None,
                    get(fields.url) if fields.url else None,
                    get(fields.timestamp) if fields.timestamp else None, meta)
        if len(builder) >= batch_rows or builder.text_bytes >= MAX_CHUNK_TEXT_BYTES:
            batch, bad_ts = builder.flush()
            yield ReadChunk(batch, bad, num_bytes, bad_ts)
            bad, num_bytes = [], 0
    if records == 0 and not bad:
        bad.append(quarantine_record(source.name, rel_path, None, 0, "empty file: no records"))
    batch, bad_ts = builder.flush()
    yield ReadChunk(batch, bad, num_bytes, bad_ts)
