"""Reading the shared bench corpus for benchmarks (one helper, shared by the scripts that use it)."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import zstandard


def read_texts(path: Path, mb: float) -> list[str]:
    """The texts of the first documents of a .jsonl.zst file, up to ``mb`` MB of UTF-8."""
    texts, total = [], 0
    with open(path, "rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            texts.append(orjson.loads(line)["text"])
            total += len(texts[-1].encode())
            if total >= mb * 1e6:
                break
    return texts
