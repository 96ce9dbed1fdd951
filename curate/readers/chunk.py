"""Building document batches from parsed records; the quarantine record type."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pyarrow as pa

from curate import schema
from curate.timestamps import parse_timestamps

EXCERPT_CHARS = 200


@dataclasses.dataclass
class ReadChunk:
    """One batch of documents read from a file, the bad records met while reading it, the input
    bytes consumed and the number of timestamps that did not parse (left null)."""

    batch: pa.RecordBatch
    quarantined: list[dict[str, Any]]
    num_bytes: int
    bad_timestamps: int = 0


def quarantine_record(
    source: str, rel_path: str, line: int | None, offset: int | None, error: str, raw: Any = b""
) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raw = raw[:EXCERPT_CHARS].decode("utf-8", errors="replace")
    return {
        "source": source,
        "input_file": rel_path,
        "line": line,
        "byte_offset": offset,
        "error": error,
        "excerpt": str(raw)[:EXCERPT_CHARS],
    }


def meta_json(meta: dict | None) -> bytes | None:
    """The ``meta`` column value of one record: its pass-through fields as compact JSON with sorted
    keys (orjson), or None when there are none."""
    return orjson.dumps(meta, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS) if meta else None


class DocBuilder:
    """Accumulates columns of the document schema: ``add`` one document (WARC) or ``extend`` with
    many (a parsed JSONL block); ``flush(k)`` returns the first ``k`` documents as a batch."""

    def __init__(self, source: str, rel_path: str, meta_fields: tuple[str, ...] | None):
        self.source = source
        self.rel_path = rel_path
        self.meta_fields = meta_fields
        self.ids: list[str | None] = []
        self.texts: list[str] = []
        self.urls: list[Any] = []
        self.times: list[Any] = []
        self.metas: list[bytes | None] = []
        self.rows: list[int] = []
        self.text_bytes = 0  # characters of text held (the batch cut counts characters)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, row: int, text: str, doc_id: Any, url: Any, ts: Any, meta: dict | None) -> None:
        self.extend([row], [text], [doc_id], [url], [ts], [meta_json(meta)])

    def extend(self, rows: list[int] | range, texts: list[str], ids: list[Any], urls: list[Any],
               times: list[Any], metas: list[bytes | None]) -> None:
        """Append documents column-wise; ``ids`` may hold non-strings (stored as ``str(id)``),
        ``urls`` non-strings (stored as null), ``metas`` the ``meta_json`` of each record."""
        self.rows.extend(rows)
        self.texts.extend(texts)
        self.text_bytes += sum(map(len, texts))
        self.ids.extend(i if i is None or isinstance(i, str) else str(i) for i in ids)
        self.urls.extend(u if isinstance(u, str) else None for u in urls)
        self.times.extend(times)
        self.metas.extend(metas)

    def ready(self, batch_rows: int, max_text_chars: int) -> int:
        """How many leading documents form the next batch: up to the first that reaches
        ``batch_rows`` documents or ``max_text_chars`` characters of text; 0 when neither is reached."""
        if self.text_bytes >= max_text_chars:
            total = 0
            for k, text in enumerate(self.texts[:batch_rows], 1):
                total += len(text)
                if total >= max_text_chars:
                    return k
        return batch_rows if len(self.texts) >= batch_rows else 0

    def flush(self, k: int | None = None) -> tuple[pa.RecordBatch, int]:
        """The first ``k`` (default: all) documents as a batch, and its number of unparseable
        timestamps; the rest stay."""
        k = len(self.texts) if k is None else k
        cols = {}
        for name in ("ids", "texts", "urls", "times", "metas", "rows"):
            values = getattr(self, name)
            cols[name] = values[:k]
            del values[:k]
        self.text_bytes -= sum(map(len, cols["texts"]))
        n = len(cols["texts"])
        prefix = f"{self.source}/{self.rel_path}/"
        ids = [i if i is not None else f"{prefix}{r}" for i, r in zip(cols["ids"], cols["rows"])]
        times, bad = _timestamps(cols["times"])
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(ids, pa.string()),
                pa.array(cols["texts"], pa.large_string()),
                pa.array([self.source] * n, pa.string()),
                pa.array(cols["urls"], pa.string()),
                times,
                pa.array(cols["metas"], pa.string()),
                pa.array([self.rel_path] * n, pa.string()),
                pa.array(cols["rows"], pa.int64()),
            ],
            schema=schema.DOC_SCHEMA,
        )
        return batch, bad


def _timestamps(values: list[Any]) -> tuple[pa.Array, int]:
    """Parsed timestamps and the number that did not parse; JSON objects and lists never parse
    (null, counted), mixed scalar types are parsed from their string form."""
    nested = sum(isinstance(v, (dict, list)) for v in values)
    if nested:
        values = [None if isinstance(v, (dict, list)) else v for v in values]
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        arr = pa.array([None if v is None else str(v) for v in values], pa.string())
    times, bad = parse_timestamps(arr)
    return times, bad + nested
