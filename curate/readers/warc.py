"""WARC reader: HTML ``response`` records become documents, main text extracted with trafilatura.

Records are framed by :mod:`curate.readers.warc_frames`, which reads each record whole or reports it
lost, and resumes at the next record header. Each HTML response record is one document: ``id`` =
WARC-Record-ID, ``url`` = WARC-Target-URI, ``timestamp`` = WARC-Date, ``meta`` = {content_type,
http_status}. Non-response records (warcinfo, request, metadata) and non-HTML responses are not
documents and are skipped. A page from which trafilatura extracts nothing becomes a document with
empty text, so a length step drops it with a recorded reason instead of it vanishing.

Lineage: ``input_row`` (and a quarantined record's ``line``) is the 0-based index of the WARC record
in the file, counting every record (warcinfo and requests too), so documents have gaps between
them; ``byte_offset`` is the record's offset (its gzip member's, in a .warc.gz). A record that cannot
be read whole (wrong Content-Length, truncated file, corrupt gzip member, stray bytes) or whose
HTTP payload does not decode is quarantined, whatever its type: one quarantine record per lost
WARC record.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO, Iterator

from curate.readers.chunk import DocBuilder, ReadChunk, quarantine_record
from curate.readers.warc_frames import frames
from curate.recipe import SourceSpec


def extract_main_text(html: bytes | str) -> str:
    """Main text of an HTML page (trafilatura, no comments, tables kept); ``""`` if none."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, favor_precision=False, deduplicate=False)
    return text or ""


def read_warc(source: SourceSpec, path: Path, rel_path: str, batch_rows: int) -> Iterator[ReadChunk]:
    with path.open("rb") as raw:
        yield from read_warc_stream(source, raw, rel_path, batch_rows)


def _record(raw: bytes):
    """The warcio record parsed from one whole WARC record's bytes."""
    from warcio.archiveiterator import ArchiveIterator

    return next(iter(ArchiveIterator(io.BytesIO(raw + b"\r\n\r\n"))))


def read_warc_stream(source: SourceSpec, raw: BinaryIO, rel_path: str, batch_rows: int) -> Iterator[ReadChunk]:
    """Documents of the WARC file open as ``raw`` (seekable binary file object)."""
    builder = DocBuilder(source.name, rel_path, None)
    bad: list[dict] = []
    docs = 0
    num_bytes = 0
    for frame in frames(raw):
        num_bytes += len(frame.raw or b"")
        if frame.error is not None:
            bad.append(quarantine_record(source.name, rel_path, frame.index, frame.offset,
                                         f"lost WARC record: {frame.error}", frame.excerpt))
            continue
        try:
            record = _record(frame.raw)
            if record.rec_type != "response":
                continue
            ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
            if "html" not in ctype.lower():
                continue
            html = record.content_stream().read()
        except Exception as exc:  # warcio raises assorted errors on malformed headers and payloads
            bad.append(quarantine_record(source.name, rel_path, frame.index, frame.offset,
                                         f"unreadable WARC record: {type(exc).__name__}: {exc}", frame.raw))
            continue
        status = record.http_headers.get_statuscode() if record.http_headers else None
        builder.add(
            frame.index,
            extract_main_text(html),
            record.rec_headers.get_header("WARC-Record-ID"),
            record.rec_headers.get_header("WARC-Target-URI"),
            record.rec_headers.get_header("WARC-Date"),
            {"content_type": ctype, "http_status": status},
        )
        docs += 1
        if len(builder) >= batch_rows:
            batch, bad_ts = builder.flush()
            yield ReadChunk(batch, bad, num_bytes, bad_ts)
            bad, num_bytes = [], 0
    batch, bad_ts = builder.flush()
    if docs == 0 and not bad:
        bad.append(quarantine_record(source.name, rel_path, None, 0, "no HTML response records in WARC file"))
    yield ReadChunk(batch, bad, num_bytes, bad_ts)
