"""Quality-filter chain: curate vs datatrove 0.10.1, same texts, one core each, in one run.

Chain: Gopher quality -> Gopher repetition -> C4 (rewrites text) -> FineWeb quality. Reads the first
``--mb`` MB of documents of bench_corpus.jsonl.zst, runs datatrove's filters document by document and
curate's steps batch by batch (``curate.pipeline.run_steps``, the build runner's own code path), and
prints MB/s per core for each, the ratio, and how often both chains make the same keep/drop decision
(and drop for the same step and reason). Then a memory check: peak RSS of
``python -m curate build --workers 1`` with these four steps on the slice (1x) and on 10 copies of it
with distinct ids (10x); the ratio must stay <= 1.3.

Run: python benchmarks/filters.py [--mb 20] [--data PATH] [--no-memory]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow as pa
import zstandard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
BATCH_ROWS = 1024
STEP_NAMES = ["gopher_quality", "gopher_repetition", "c4", "fineweb_quality"]


def read_slice(path: Path, mb: float) -> list[dict]:
    """The first documents of a .jsonl.zst file, up to ``mb`` MB of UTF-8 text."""
    rows, total = [], 0
    with open(path, "rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            row = orjson.loads(line)
            rows.append(row)
            total += len(row["text"].encode())
            if total >= mb * 1e6:
                break
    return rows


def datatrove_chain(texts: list[str]) -> tuple[list[tuple[str, str] | None], float]:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)

    filters = list(zip(STEP_NAMES, [GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(),
                                    FineWebQualityFilter()]))
    filters[0][1].filter(Document(text="warm up the spaCy tokenizer.", id="0"))
    out: list[tuple[str, str] | None] = []
    start = time.perf_counter()
    for i, text in enumerate(texts):
        doc, verdict = Document(text=text, id=str(i)), None
        for name, f in filters:
            result = f.filter(doc)
            if result is not True:
                verdict = (name, result[1] if isinstance(result, tuple) else "")
                break
        out.append(verdict)
    return out, time.perf_counter() - start


def curate_chain(texts: list[str]) -> tuple[list[tuple[str, str] | None], float, float]:
    from curate.pipeline import run_steps
    from curate.steps.registry import step_class

    steps = [(i, step_class(name)()) for i, name in enumerate(STEP_NAMES)]
    counts = [{"in": 0, "kept": 0, "dropped": {}} for _ in steps]

    def run(batch_texts: list[str], first_row: int):
        n = len(batch_texts)
        batch = pa.RecordBatch.from_pydict({
            "id": pa.array([str(first_row + i) for i in range(n)]), "text": pa.array(batch_texts, pa.large_string()),
            "source": pa.array(["bench"] * n), "input_file": pa.array(["x"] * n),
            "input_row": pa.array(range(first_row, first_row + n), pa.int64())})
        return run_steps(batch, steps, counts, full_rejected=False)

    t0 = time.perf_counter()
    run(texts[:64], 0)  # compile / load the numba kernels and the character table
    warmup = time.perf_counter() - t0
    counts = [{"in": 0, "kept": 0, "dropped": {}} for _ in steps]
    verdicts: list[tuple[str, str] | None] = [None] * len(texts)
    start = time.perf_counter()
    for lo in range(0, len(texts), BATCH_ROWS):
        _, rejected = run(texts[lo:lo + BATCH_ROWS], lo)
        for table in rejected:
            for row_id, step, reason in zip(table["id"].to_pylist(), table["step"].to_pylist(),
                                            table["reason"].to_pylist()):
                verdicts[int(row_id)] = (step, reason)
    return verdicts, time.perf_counter() - start, warmup


def peak_rss_mb(cmd: list[str]) -> float:
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024


def write_copies(rows: list[dict], copies: int, path: Path) -> None:
    with zstandard.ZstdCompressor(level=1).stream_writer(open(path, "wb")) as f:
        for c in range(copies):
            for r in rows:
                f.write(orjson.dumps({"id": f"{c}-{r['id']}", "text": r["text"], "url": r.get("url")}) + b"\n")


RECIPE = """[recipe]
name = "filters-memory"
[[sources]]
name = "bench"
paths = ["{path}"]
[sources.fields]
text = "text"
id = "id"
url = "url"
[[steps]]
use = "gopher_quality"
[[steps]]
use = "gopher_repetition"
[[steps]]
use = "c4"
[[steps]]
use = "fineweb_quality"
[output]
dir = "{out}"
"""


def memory_check(rows: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        peaks = {}
        for copies in (1, 10):
            src = Path(tmp) / f"in{copies}.jsonl.zst"
            write_copies(rows, copies, src)
            recipe = Path(tmp) / f"r{copies}.toml"
            recipe.write_text(RECIPE.format(path=src, out=Path(tmp) / f"out{copies}"))
            t0 = time.perf_counter()
            peaks[copies] = peak_rss_mb([sys.executable, "-m", "curate", "build", str(recipe), "--workers", "1",
                                         "--no-progress"])
            print(f"curate build {copies:>2}x input ({src.stat().st_size / 1e6:.1f} MB zst): peak RSS "
                  f"{peaks[copies]:.0f} MB, {time.perf_counter() - t0:.1f} s")
        print(f"peak RSS ratio 10x / 1x: {peaks[10] / peaks[1]:.2f} (must be <= 1.3)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=20.0, help="MB of text to run (default 20)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-RSS check")
    args = ap.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    rows = read_slice(args.data, args.mb)
    texts = [r["text"] for r in rows]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} documents, {mb:.1f} MB of text from {args.data.name}")
    ours, t_ours, warmup = curate_chain(texts)
    print(f"curate    : {t_ours:7.1f} s  {mb / t_ours:7.2f} MB/s/core   (first-batch warm-up {warmup:.1f} s, not counted)")
    theirs, t_theirs = datatrove_chain(texts)
    print(f"datatrove : {t_theirs:7.1f} s  {mb / t_theirs:7.2f} MB/s/core")
    print(f"speed-up  : {t_theirs / t_ours:.1f}x per core")
    same_keep = sum((a is None) == (b is None) for a, b in zip(ours, theirs))
    same_reason = sum(a == b for a, b in zip(ours, theirs))
    kept = sum(a is None for a in theirs)
    print(f"agreement : {same_keep / len(texts):.2%} same keep/drop, {same_reason / len(texts):.2%} same step+reason "
          f"({kept} kept by datatrove, {sum(a is None for a in ours)} by curate)")
    if not args.no_memory:
        memory_check(rows)


if __name__ == "__main__":
    main()
