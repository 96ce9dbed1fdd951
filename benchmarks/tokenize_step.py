"""Tokenize-step throughput vs raw HF ``tokenizers`` on the same text, in the same run.

Peer: ``Tokenizer.encode_batch(texts, add_special_tokens=False)`` (what the issue names) and
``encode_batch_fast`` (same, no offsets), on the same batches of real documents. Ours:
``Tokenize.annotate(batch)``: encode + flatten to Arrow ``list<uint16>`` + EOS + ``num_tokens``
(+ ``prefix_tokens`` with ``--prefix``). Rounds alternate peer and ours; the best of each is kept.

    python benchmarks/tokenize_step.py [--docs 2000] [--vocab 8192] [--rounds 3] [--prefix]
"""

from __future__ import annotations

import os
import sys

# This file is named like the stdlib ``tokenize``: take its folder off sys.path (so ``import
# tokenize`` finds the stdlib) and put the repository root first (so ``curate`` is this checkout).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_HERE)] + [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import io
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow as pa
import zstandard
from tokenizers import Tokenizer

from curate.steps.prefix import Prefix
from curate.steps.tokenize import Tokenize
from curate.tokens.bpe import train_bpe

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench_corpus.jsonl.zst"


def load_docs(num_docs: int) -> list[dict]:
    rows = []
    with open(CORPUS, "rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            rows.append(orjson.loads(line))
            if len(rows) == num_docs:
                break
    return rows


def batches(rows: list[dict], batch_rows: int) -> list[pa.RecordBatch]:
    out = []
    for i in range(0, len(rows), batch_rows):
        part = rows[i:i + batch_rows]
        out.append(pa.RecordBatch.from_pydict({
            "id": [r["id"] for r in part], "text": pa.array([r["text"] for r in part], pa.large_string()),
            "source": ["bench"] * len(part), "url": [r.get("url") for r in part]}))
    return out


def best_of(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--batch-rows", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--prefix", action="store_true", help="also a MeCo prefix column (ours only)")
    args = ap.parse_args()
    rows = load_docs(args.docs)
    mb = sum(len(r["text"].encode()) for r in rows) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tokenizer.json"
        train_bpe([r["text"][:4000] for r in rows[:800]], vocab_size=args.vocab,
                  special_tokens=["<|endoftext|>"]).save(str(path))
        raw = Tokenizer.from_file(str(path))
        step, prefix = Tokenize(tokenizer=path), Prefix()
        data = batches(rows, args.batch_rows)
        if args.prefix:
            data = [prefix.annotate(b) for b in data]
        texts = [b.column("text").to_pylist() for b in data]
        step.annotate(data[0])  # load + warm up
        results = {"raw encode_batch": [], "raw encode_batch_fast": [], "curate tokenize": []}
        for _ in range(args.rounds):
            results["raw encode_batch"].append(best_of(lambda: [raw.encode_batch(t, add_special_tokens=False)
                                                                for t in texts], 1))
            results["raw encode_batch_fast"].append(best_of(
                lambda: [raw.encode_batch_fast(t, add_special_tokens=False) for t in texts], 1))
            results["curate tokenize"].append(best_of(lambda: [step.annotate(b) for b in data], 1))
        tokens = sum(pa.compute.sum(step.annotate(b).column("num_tokens")).as_py() for b in data)
    print(f"{len(rows)} docs, {mb:.1f} MB, {tokens:,} tokens, vocab {args.vocab}, batches of {args.batch_rows}")
    best = {k: min(v) for k, v in results.items()}
    for name, sec in best.items():
        print(f"  {name:24s} {sec:7.3f} s  {mb / sec:6.2f} MB/s  {tokens / sec / 1e6:6.2f} Mtok/s")
    ours = best["curate tokenize"]
    print(f"ratio curate / raw encode_batch      = {best['raw encode_batch'] / ours:.2f} (throughput)")
    print(f"ratio curate / raw encode_batch_fast = {best['raw encode_batch_fast'] / ours:.2f} (throughput)")


if __name__ == "__main__":
    main()
