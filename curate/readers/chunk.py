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


class DocBuilder:
    """Accumulates columns of the document schema; ``flush()`` returns a batch and resets."""

    def __init__(self, source: str, rel_path: str, meta_fields: tuple[str, ...] | None):
        self.source = source
        self.rel_path = rel_path
        self.meta_fields = meta_fields
        self._reset()

    def _reset(self) -> None:
        self.ids: list[str | None] = []
        self.texts: list[str] = []
        self.urls: list[Any] = []
        self.times: list[Any] = []
        self.metas: list[bytes | None] = []
        self.rows: list[int] = []
        self.text_bytes = 0

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, row: int, text: str, doc_id: Any, url: Any, ts: Any, meta: dict | None) -> None:
        self.rows.append(row)
        self.texts.append(text)
        self.text_bytes += len(text)
        self.ids.append(None if doc_id is None else str(doc_id))
        self.urls.append(url if isinstance(url, str) else None)
        self.times.append(ts)
        if meta:
            self.metas.append(orjson.dumps(meta, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        else:
            self.metas.append(None)

    def flush(self) -> tuple[pa.RecordBatch, int]:
        """The accumulated documents as a batch, and the number of unparseable timestamps."""
        n = len(self.texts)
        ids = [
            i if i is not None else f"{self.source}/{self.rel_path}/{r}" for i, r in zip(self.ids, self.rows)
        ]
        times, bad = _timestamps(self.times)
        metas = pa.array([m.decode() if m is not None else None for m in self.metas], pa.string())
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(ids, pa.string()),
                pa.array(self.texts, pa.large_string()),
                pa.array([self.source] * n, pa.string()),
                pa.array(self.urls, pa.string()),
                times,
                metas,
                pa.array([self.rel_path] * n, pa.string()),
                pa.array(self.rows, pa.int64()),
            ],
            schema=schema.DOC_SCHEMA,
        )
        self._reset()
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
