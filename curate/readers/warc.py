"""WARC reader: HTML ``response`` records become documents, main text extracted with trafilatura.

Each HTML response record is one document: ``id`` = WARC-Record-ID, ``url`` = WARC-Target-URI,
``timestamp`` = WARC-Date, ``meta`` = {content_type, http_status}. Non-response records (warcinfo,
request, metadata) and non-HTML responses are not documents and are skipped. A page from which
trafilatura extracts nothing becomes a document with empty text, so a length step drops it with a
recorded reason instead of it vanishing. A corrupt record or truncated file is quarantined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from curate.readers.chunk import DocBuilder, ReadChunk, quarantine_record
from curate.recipe import SourceSpec


def extract_main_text(html: bytes | str) -> str:
    """Main text of an HTML page (trafilatura, no comments, tables kept); ``""`` if none."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, favor_precision=False, deduplicate=False)
    return text or ""


def read_warc(source: SourceSpec, path: Path, rel_path: str, batch_rows: int) -> Iterator[ReadChunk]:
    from warcio.archiveiterator import ArchiveIterator

    builder = DocBuilder(source.name, rel_path, None)
    bad: list[dict] = []
    row = 0
    last_offset = 0
    num_bytes = 0
    with path.open("rb") as raw:
        records = iter(ArchiveIterator(raw, arc2warc=True))
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except Exception as exc:  # warcio raises assorted errors on corrupt input
                bad.append(quarantine_record(source.name, rel_path, row, last_offset, f"corrupt WARC record: {exc}"))
                break
            if record.rec_type != "response":
                continue
            ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
            if "html" not in ctype.lower():
                continue
            try:
                html = record.content_stream().read()
            except Exception as exc:
                bad.append(quarantine_record(source.name, rel_path, row, last_offset, f"unreadable WARC payload: {exc}"))
                row += 1
                continue
            num_bytes += len(html)
            status = record.http_headers.get_statuscode() if record.http_headers else None
            builder.add(
                row,
                extract_main_text(html),
                record.rec_headers.get_header("WARC-Record-ID"),
                record.rec_headers.get_header("WARC-Target-URI"),
                record.rec_headers.get_header("WARC-Date"),
                {"content_type": ctype, "http_status": status},
            )
            row += 1
            if len(builder) >= batch_rows:
                batch, bad_ts = builder.flush()
                yield ReadChunk(batch, bad, num_bytes, bad_ts)
                bad, num_bytes = [], 0
    batch, bad_ts = builder.flush()
    if row == 0 and not bad:
        bad.append(quarantine_record(source.name, rel_path, None, 0, "no HTML response records in WARC file"))
    yield ReadChunk(batch, bad, num_bytes, bad_ts)
