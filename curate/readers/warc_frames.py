"""WARC record framing with resynchronisation: every record is read whole or reported lost.

``frames(raw)`` splits a WARC file (plain, or gzip with one member per record, as the WARC standard
recommends; a whole-file gzip member works too, held in memory) into :class:`Frame` objects, numbered
0, 1, 2, ... in file order (warcinfo and request records included). A record is whole when its
header block ends in a blank line, names a ``Content-Length``, and that many bytes later come
exactly the standard's two CRLFs and then the next ``WARC/`` header or the end of the data (of the
gzip member, in a .warc.gz). Anything else is a bad frame
with the reason, and reading resumes at the next ``WARC/1.x`` line that starts a parseable header
(within the data read so far; in gzip files also at the next gzip member). Each bad frame stands for
one lost record, so a loss is counted, never silent:

- a record whose ``Content-Length`` is wrong (too short or too long);
- a record cut by the end of the file (truncated) or by a corrupt gzip member (zlib error); after a
  corrupt member, reading resumes at the next gzip member whose data starts with ``WARC/`` (a file
  cut only inside a member's 8-byte gzip trailer still holds the whole record: it is kept);
- bytes that are not a WARC record (garbage between records, trailing junk).

``Frame.offset`` is the file offset where the record starts: the start of its gzip member in a
gzipped file (as in CDX indexes), the start of its header in a plain one. ``raw`` and ``frames``
only read forward, except that resynchronising after a corrupt gzip member seeks.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from typing import BinaryIO, Iterator

READ_BYTES = 1 << 16
SCAN_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 16
EXCERPT_BYTES = 200
_GZIP_MAGIC = b"\x1f\x8b\x08"
_TRAILER = b"\r\n\r\n"
_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d{1,18})[ \t]*\r?$")


@dataclasses.dataclass(frozen=True)
class Frame:
    """One WARC record (``raw``: header block + content block, without the trailing CR/LFs) or,
    when it could not be read whole, ``error`` and an ``excerpt`` of its first bytes."""

    index: int
    offset: int
    raw: bytes | None
    error: str | None = None
    excerpt: bytes = b""


@dataclasses.dataclass(frozen=True)
class _Member:
    offset: int
    data: bytes
    error: str | None
    exact: bool  # positions in data are file offsets (plain file)


def _content_length(header: bytes) -> int | None:
    m = _LENGTH.search(header)
    return int(m.group(1)) if m else None


def _skip_newlines(data, i: int) -> int:
    while data[i:i + 1] in (b"\r", b"\n"):
        i += 1
    return i


def _starts_record(data) -> bool:
    i = _skip_newlines(data, 0)
    return data[i:i + 5] == b"WARC/"


def _next_header(data, start: int) -> int:
    """Position of the next ``WARC/1.`` at a line start whose header block names a length; -1."""
    i = start
    while (i := data.find(b"WARC/1.", i)) != -1:
        if i == 0 or data[i - 1:i] == b"\n":
            end = data.find(b"\r\n\r\n", i, i + MAX_HEADER_BYTES)
            if end != -1 and _content_length(data[i:end]) is not None:
                return i
        i += 1
    return -1


def _scan(data) -> Iterator[tuple[str, int, int | str | None]]:
    """Events over one buffer: ("record", start, block_end), ("bad", start, error) and, last,
    ("incomplete", start, bytes needed or None) for a record the buffer ends inside."""
    n = len(data)
    pos = _skip_newlines(data, 0)
    while pos < n:
        if data[pos:pos + 5] != b"WARC/":
            nxt = _next_header(data, pos + 1)
            yield "bad", pos, "not a WARC record: no WARC/1.x header here"
            if nxt < 0:
                return
            pos = nxt
            continue
        hdr_end = data.find(b"\r\n\r\n", pos)
        if hdr_end < 0:
            nxt = _next_header(data, pos + 1)
            if nxt < 0:
                yield "incomplete", pos, None
                return
            yield "bad", pos, "WARC header block does not end (no blank line)"
            pos = nxt
            continue
        length = _content_length(data[pos:hdr_end])
        if length is None:
            nxt = _next_header(data, hdr_end)
            yield "bad", pos, "WARC header has no valid Content-Length"
            if nxt < 0:
                return
            pos = nxt
            continue
        block_end = hdr_end + 4 + length
        after = block_end + len(_TRAILER)
        if data[block_end:after] == _TRAILER and (after >= n or data[after:after + 5] == b"WARC/"):
            yield "record", pos, block_end
            pos = after
            continue
        if block_end <= n < after and _TRAILER.startswith(data[block_end:n]):
            yield "incomplete", pos, after - pos  # cut inside the trailer
            return
        nxt = _next_header(data, hdr_end + 4)
        if nxt >= 0:
            yield "bad", pos, f"Content-Length {length} does not match the record (next record header found {nxt - pos} bytes on)"
            pos = nxt
            continue
        if block_end > n:
            yield "incomplete", pos, block_end - pos
            return
        yield "bad", pos, f"Content-Length {length} does not match the record ({n - block_end} bytes follow its block)"
        return


def _starts_warc_member(compressed: bytes) -> bool:
    try:
        out = zlib.decompressobj(31).decompress(compressed, 64)
    except zlib.error:
        return False
    return _starts_record(out)


def _find_member(raw: BinaryIO, start: int) -> int:
    """File offset of the next gzip member at or after ``start`` whose data starts a WARC record."""
    off = start
    while True:
        raw.seek(off)
        block = raw.read(SCAN_BYTES)
        i = 0
        while (i := block.find(_GZIP_MAGIC, i)) != -1:
            if _starts_warc_member(block[i:i + READ_BYTES]):
                return off + i
            i += 1
        if len(block) < SCAN_BYTES:
            return -1
        off += len(block) - len(_GZIP_MAGIC) + 1


def _gzip_members(raw: BinaryIO) -> Iterator[_Member]:
    """Each gzip member's data; a corrupt member is followed by the next WARC member found."""
    pos = 0
    carry = b""
    while True:
        d = zlib.decompressobj(31)
        out: list[bytes] = []
        error = None
        used = 0
        while not d.eof:
            chunk = carry or raw.read(READ_BYTES)
            carry = b""
            if not chunk:
                if used == 0:
                    return
                error = "truncated: the file ends inside this gzip member"
                break
            try:
                out.append(d.decompress(chunk))
            except zlib.error as exc:
                error = f"corrupt gzip data: {exc}"
                break
            used += len(chunk)
        yield _Member(pos, b"".join(out), error, False)
        if error is None:
            carry = d.unused_data
            pos += used - len(carry)
        elif error.startswith("truncated"):
            return
        else:
            pos = _find_member(raw, pos + 1)
            if pos < 0:
                return
            raw.seek(pos)


def _plain(raw: BinaryIO) -> Iterator[_Member]:
    try:
        import mmap

        data = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError):  # no file descriptor, or an empty file
        yield _Member(0, raw.read(), None, True)
        return
    try:
        yield _Member(0, data, None, True)  # frames copy what they keep out of the map
    finally:
        data.close()


def frames(raw: BinaryIO) -> Iterator[Frame]:
    """The records of a WARC file, good and bad, in order (see the module doc)."""
    members = _gzip_members(raw) if raw.read(2) == _GZIP_MAGIC[:2] else None
    raw.seek(0)
    index = 0
    pending: tuple[int, list[bytes], int, int | None] | None = None  # offset, parts, size, need
    for m in members if members is not None else _plain(raw):
        data, offset = m.data, m.offset
        if pending is not None:
            p_offset, parts, size, need = pending
            if _starts_record(data) or not data:
                yield Frame(index, p_offset, None, "record runs past the end of its gzip member "
                            "(Content-Length too large, or the member was cut)", parts[0][:EXCERPT_BYTES])
                index += 1
                pending = None
            else:
                parts.append(data)
                size += len(data)
                if need is not None and size < need and m.error is None:
                    pending = (p_offset, parts, size, need)
                    continue
                data, offset, pending = b"".join(parts), p_offset, None
        cut = False
        events = 0
        for kind, pos, extra in _scan(data):
            events += 1
            at = offset + pos if m.exact else offset
            if kind == "record":
                yield Frame(index, at, bytes(data[pos:extra]))
            elif kind == "bad":
                yield Frame(index, at, None, extra, bytes(data[pos:pos + EXCERPT_BYTES]))
            elif m.error is not None:
                yield Frame(index, at, None, m.error, bytes(data[pos:pos + EXCERPT_BYTES]))
                cut = True
            elif m.exact:
                yield Frame(index, at, None, "truncated: the file ends inside this record",
                            bytes(data[pos:pos + EXCERPT_BYTES]))
            else:
                pending = (at, [bytes(data[pos:])], len(data) - pos, extra)
                continue
            index += 1
        if m.error is not None and not cut and (events == 0 or not m.error.startswith("truncated")):
            yield Frame(index, offset, None, m.error)  # a cut in the 8-byte gzip trailer loses nothing
            index += 1
    if pending is not None:
        yield Frame(index, pending[0], None, "truncated: the file ends inside this record",
                    pending[1][0][:EXCERPT_BYTES])
