"""JSON Lines reader (plain, .gz, .zst): whole windows of lines parsed by orjson, line by line only
where a window holds a bad record.

Each non-blank line is one record; a UTF-8 byte-order mark before the first line is skipped.
Lineage: ``input_row`` (and a quarantined record's ``line``) is the 0-based physical line index
(blank lines count as lines, so ``sed -n "$((input_row + 1))p"`` prints the record), ``byte_offset``
the record's offset in the decompressed stream. Lines that are not valid JSON or not valid UTF-8,
records that are not objects, and records whose text field is missing or not a string are
quarantined. ``format = "chat"``: records are conversations (``curate/readers/chat.py``), read by
the line path only, and invalid ones are quarantined too. A compressed stream that ends early is quarantined once (``line`` = the line it broke
in, ``byte_offset`` = where that line starts); the records before it are kept.

The method: the decompressed stream is cut into complete lines block by block (1 MiB reads), and
the lines are handed out in windows of at most the rows the current batch still needs. A window is
parsed with one orjson call per line in a list comprehension and mapped to columns in bulk
(``_map_records``); a window where any line fails (bad JSON, a non-object, a missing or non-string
text, a blank line) is parsed again line by line (``_line_path``), which quarantines with the exact
line and offset. Both paths use the same parser, so they give the same documents. Parse only, on
the 127 MB bench corpus, one core (benchmarks/README.md, "Reading and writing"): orjson per line
0.26 s, ``pyarrow.json`` 0.24 s, Polars ``read_ndjson`` 0.18-0.37 s. The native parsers are not
clearly faster on one core and cannot rebuild ``meta`` exactly (they infer one column type per
field, turning ``1`` into ``1.0`` beside a float, and cannot tell a missing key from a null one).

A plain file can be read in a byte range ``[start, stop)`` that begins at a line start
(``byte_range``, see ``curate/plan.py``); ``first_row`` is then the index of its first line, so
lineage stays file-global.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import IO, Iterator

import orjson
import zstandard

from curate.readers.chat import CHAT_KEYS, chat_text
from curate.readers.chunk import DocBuilder, ReadChunk, meta_json, quarantine_record
from curate.recipe import FieldMap, SourceSpec

_STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)
MAX_CHUNK_TEXT_BYTES = 64 * 2**20
READ_BYTES = 1 << 20
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


def iter_blocks(path: Path, byte_range: tuple[int, int] | None = None) -> Iterator[bytes]:
    """Decompressed byte blocks of ``path`` (.gz, .zst or plain), raising at a broken stream;
    ``byte_range`` (plain files only) reads bytes ``[start, stop)``."""
    name = path.name.lower()
    with path.open("rb") as raw:
        if byte_range is not None:
            raw.seek(byte_range[0])
            left = byte_range[1] - byte_range[0]
            while left > 0 and (block := raw.read(min(READ_BYTES, left))):
                left -= len(block)
                yield block
            return
        if name.endswith((".zst", ".zstd")):
            yield from _zstd_blocks(raw)
            return
        f = gzip.GzipFile(fileobj=raw) if name.endswith(".gz") else raw
        while block := f.read1(READ_BYTES):
            yield block


class _Lines:
    """The complete lines (without their newline) of a block stream, handed out in windows.
    Linear in the stream size: a line spanning many blocks is joined once. A stream that breaks
    (truncated .gz/.zst) ends after its last complete line, with ``error`` set; the partial line at
    the break is dropped. ``line`` and ``offset`` are the index and byte offset of the next line."""

    def __init__(self, blocks: Iterator[bytes], first_line: int, first_offset: int):
        self._blocks = blocks
        self._ready: list[bytes] = []
        self._pos = 0
        self._pending: list[bytes] = []  # pieces of a line not yet ended
        self._ended = False
        self.unterminated = False  # the last line handed out has no newline (end of stream)
        self.error: BaseException | None = None
        self.line = first_line
        self.offset = first_offset

    def _refill(self) -> None:
        while self._pos >= len(self._ready) and not self._ended:
            try:
                block = next(self._blocks)
            except StopIteration:
                self._ended = True
                self._ready, self._pos = ([b"".join(self._pending)] if self._pending else []), 0
                self.unterminated = bool(self._pending)
                return
            except _STREAM_ERRORS as exc:
                self._ended, self.error = True, exc
                self._ready, self._pos = [], 0
                return
            lines = block.split(b"\n")
            rest = lines.pop()
            if lines and self._pending:
                self._pending.append(lines[0])
                lines[0] = b"".join(self._pending)
                self._pending = []
            if rest:
                self._pending.append(rest)
            self._ready, self._pos = lines, 0

    def take(self, n: int) -> tuple[int, int, list[bytes], int] | None:
        """Up to ``n`` lines as (index of the first, its byte offset, lines, bytes they span
        including newlines); None at the end of the stream."""
        self._refill()
        if self._pos >= len(self._ready):
            return None
        lines = self._ready[self._pos:self._pos + n]
        self._pos += len(lines)
        num_bytes = sum(map(len, lines)) + len(lines)
        if self.unterminated and self._pos >= len(self._ready):
            num_bytes -= 1
        window = (self.line, self.offset, lines, num_bytes)
        self.line += len(lines)
        self.offset += num_bytes
        return window


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


def _fast_path(lines: list[bytes], text_field: str) -> list[dict] | None:
    """Every line parsed, or None when any line is not a record with a string text."""
    loads = orjson.loads
    try:
        records = [loads(line) for line in lines]
    except orjson.JSONDecodeError:
        return None
    if all(type(r) is dict and type(r.get(text_field)) is str for r in records):
        return records
    return None


def _map_records(records: list[dict], fields: FieldMap) -> tuple[list, list, list, list, list]:
    """The (texts, ids, urls, timestamps, metas) columns of parsed records. ``meta`` holds every
    unmapped field (or only ``fields.meta``); records are consumed (mapped keys are popped)."""
    n = len(records)
    texts = [r[fields.text] for r in records]
    ids = [r.get(fields.id) for r in records] if fields.id else [None] * n
    urls = [r.get(fields.url) for r in records] if fields.url else [None] * n
    times = [r.get(fields.timestamp) for r in records] if fields.timestamp else [None] * n
    if fields.meta is None:
        mapped = {fields.text, fields.id, fields.url, fields.timestamp} - {None}
        for r in records:
            for k in mapped:
                r.pop(k, None)
        metas = [meta_json(r) for r in records]
    else:
        metas = [meta_json({k: r[k] for k in fields.meta if k in r}) for r in records]
    return texts, ids, urls, times, metas


def _line_path(source: SourceSpec, rel_path: str, window: tuple[int, int, list[bytes], int], bom: bool,
               builder: DocBuilder, bad: list[dict]) -> int:
    """Parse a window line by line: documents into ``builder``, bad lines into ``bad`` with their
    line and byte offset (a stripped BOM of line 0 counts in the offsets). Returns the number of
    records (non-blank lines)."""
    number, offset, lines, num_bytes = window
    offset += len(_BOM) if bom else 0
    terminated = num_bytes == sum(map(len, lines)) + len(lines) + (len(_BOM) if bom else 0)
    rows, good = [], []
    records = 0
    for i, line in enumerate(lines):
        start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        records += 1
        record, error = _parse(line, source.fields.text, source.format == "chat")
        if error:
            excerpt = line + b"\n" if terminated or i < len(lines) - 1 else line
            bad.append(quarantine_record(source.name, rel_path, number + i, start, error, excerpt))
            continue
        rows.append(number + i)
        good.append(record)
    builder.extend(rows, *_map_records(good, source.fields))
    return records


def read_jsonl(source: SourceSpec, path: Path, rel_path: str, batch_rows: int, *,
               byte_range: tuple[int, int] | None = None, first_row: int = 0) -> Iterator[ReadChunk]:
    """Stream ``path`` (or its ``byte_range``, whose first line is line ``first_row``) as batches of
    ``batch_rows`` documents (fewer where a batch's text reaches MAX_CHUNK_TEXT_BYTES characters)."""
    fields = source.fields
    builder = DocBuilder(source.name, rel_path, fields.meta)
    bad: list[dict] = []
    num_bytes = records = 0
    lines = _Lines(iter_blocks(path, byte_range), first_row, byte_range[0] if byte_range else 0)
    while (window := lines.take(batch_rows - len(builder))) is not None:
        number, offset, chunk, window_bytes = window
        num_bytes += window_bytes
        bom = number == 0 and offset == 0 and chunk[0].startswith(_BOM)
        if bom:
            chunk = [chunk[0][len(_BOM):], *chunk[1:]]
            window = (number, offset, chunk, window_bytes)
        parsed = None if source.format == "chat" else _fast_path(chunk, fields.text)
        if parsed is None:
            records += _line_path(source, rel_path, window, bom, builder, bad)
        else:
            records += len(parsed)
            builder.extend(range(number, number + len(parsed)), *_map_records(parsed, fields))
        while k := builder.ready(batch_rows, MAX_CHUNK_TEXT_BYTES):
            batch, bad_ts = builder.flush(k)
            yield ReadChunk(batch, bad, num_bytes, bad_ts)
            bad, num_bytes = [], 0
    if lines.error is not None:
        error = f"truncated or corrupt compressed stream: {type(lines.error).__name__}: {lines.error}"
        bad.append(quarantine_record(source.name, rel_path, lines.line, lines.offset, error))
    if records == 0 and not bad and byte_range is None:
        bad.append(quarantine_record(source.name, rel_path, None, 0, "empty file: no records"))
    batch, bad_ts = builder.flush()
    yield ReadChunk(batch, bad, num_bytes, bad_ts)
