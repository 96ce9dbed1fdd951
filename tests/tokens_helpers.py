"""Shared fixtures data for the token tests: real web text and a small trained tokenizer."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pyarrow as pa
import zstandard

from curate.tokens.bpe import train_bpe

REPO = Path(__file__).resolve().parents[1]
WEB_SAMPLE = REPO / "tests" / "data" / "web_sample.jsonl.zst"
SPECIALS = ["<|endoftext|>", "<|aligned|>", "<|misaligned|>"]


def web_rows() -> list[dict]:
    with open(WEB_SAMPLE, "rb") as f:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8")
        return [orjson.loads(line) for line in text]


def web_batch(rows: list[dict]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        "id": [r["id"] for r in rows],
        "text": pa.array([r["text"] for r in rows], pa.large_string()),
        "source": ["web"] * len(rows),
        "url": [r.get("url") for r in rows],
    })


def small_tokenizer(path: Path, vocab_size: int = 600) -> Path:
    """Train a small byte-level BPE on the real web sample and save it to ``path``."""
    tok = train_bpe([r["text"][:5000] for r in web_rows()], vocab_size=vocab_size, special_tokens=SPECIALS)
    tok.save(str(path))
    return path
