"""Quality-filter chain: curate vs datatrove 0.10.1, same texts, one core each, in one run.

Chain: Gopher quality -> Gopher repetition -> C4 (rewrites text) -> FineWeb quality. Reads the first
``--mb`` MB of documents of bench_corpus.jsonl.zst, runs datatrove's filters document by document and
curate's steps batch by batch (``curate.pipeline.run_steps``, the build runner's own code path), and
prints MB per CPU second (``time.process_time``: one thread each, steady on a loaded machine) for each, the ratio, and how often both chains make the same keep/drop decision
(and drop for the same step and reason). Then a memory check: peak RSS of
``python -m curate build --workers 1`` with these four steps on the slice (1x) and on 10 copies of it
with distinct ids (10x); the ratio must stay <= 1.3.

``--whole``: whole processes instead, start-up included, on two inputs written once as .jsonl.zst:
the bench corpus slice and non-English web pages (``web_sample.jsonl.zst`` rows whose fastText
lid.176 language is not ``en``, repeated with distinct ids up to ``--mb``). curate is
``python -m curate build --workers 1`` (JSONL reader, the four steps, zstd shards); datatrove is a
process that reads the same file (zstandard + orjson) and runs its four filters per document.
Each runs ``--runs`` times; printed: min and median wall seconds and CPU seconds (user + system of
the process, from ``wait4``: steady on a loaded machine) and MB per CPU second, and the ratio.

Run: python benchmarks/filters.py [--mb 20] [--data PATH] [--no-memory]
     python benchmarks/filters.py --whole --mb 20 --runs 3
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
import statistics
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
    start = time.process_time()
    for i, text in enumerate(texts):
        doc, verdict = Document(text=text, id=str(i)), None
        for name, f in filters:
            result = f.filter(doc)
            if result is not True:
                verdict = (name, result[1] if isinstance(result, tuple) else "")
                break
        out.append(verdict)
    return out, time.process_time() - start


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

    t0 = time.process_time()
    run(texts[:64], 0)  # compile / load the numba kernels and the character table
    warmup = time.process_time() - t0
    counts = [{"in": 0, "kept": 0, "dropped": {}} for _ in steps]
    verdicts: list[tuple[str, str] | None] = [None] * len(texts)
    start = time.process_time()
    for lo in range(0, len(texts), BATCH_ROWS):
        _, rejected = run(texts[lo:lo + BATCH_ROWS], lo)
        for table in rejected:
            for row_id, step, reason in zip(table["id"].to_pylist(), table["step"].to_pylist(),
                                            table["reason"].to_pylist()):
                verdicts[int(row_id)] = (step, reason)
    return verdicts, time.process_time() - start, warmup


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


WEB = DATA.parent / "web_sample.jsonl.zst"


def non_english_web(mb: float) -> list[dict]:
    """web_sample rows that fastText lid.176 does not label ``en``, repeated (new ids) up to ``mb``."""
    from curate.models.fasttext_model import lid176_path, load_fasttext, predict_top1

    rows = [orjson.loads(line) for line in zstandard.ZstdDecompressor().stream_reader(open(WEB, "rb")).read().splitlines()]
    lang, _ = predict_top1(load_fasttext(lid176_path()), pa.array([r["text"] for r in rows], pa.large_string()))
    rows = [r for r, code in zip(rows, lang.to_pylist()) if code != "en"]
    out, total, copy = [], 0, 0
    while total < mb * 1e6:
        for r in rows:
            out.append({**r, "id": f"{copy}-{r['id']}"})
            total += len(r["text"].encode())
            if total >= mb * 1e6:
                break
        copy += 1
    return out


def datatrove_child(path: Path) -> None:
    """One whole datatrove process: read the file, run the four filters (the --whole peer)."""
    with open(path, "rb") as f:
        texts = [orjson.loads(line)["text"] for line in zstandard.ZstdDecompressor().stream_reader(f).read().splitlines()]
    verdicts, _ = datatrove_chain(texts)
    print(sum(v is None for v in verdicts))


def cpu_run(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the process and its children) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def whole_processes(inputs: dict[str, list[dict]], runs: int) -> None:
    env_cmd = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows in inputs.items():
            mb = sum(len(r["text"].encode()) for r in rows) / 1e6
            src = Path(tmp) / f"{name}.jsonl.zst"
            write_copies(rows, 1, src)
            recipe = Path(tmp) / f"{name}.toml"
            recipe.write_text(RECIPE.format(path=src, out=Path(tmp) / f"out-{name}"))
            tools = {"curate": env_cmd + ["-m", "curate", "build", str(recipe), "--workers", "1", "--no-progress",
                                          "--overwrite"],
                     "datatrove": env_cmd + [str(Path(__file__).resolve()), "--datatrove-child", str(src)]}
            print(f"{name}: {len(rows)} documents, {mb:.1f} MB of text, {runs} runs per tool, whole processes")
            cpu_min = {}
            for tool, cmd in tools.items():
                walls, cpus = zip(*(cpu_run(cmd) for _ in range(runs)))
                cpu_min[tool] = min(cpus)
                print(f"  {tool:<9}: wall min {min(walls):6.1f} s median {statistics.median(walls):6.1f} s | "
                      f"CPU min {min(cpus):6.1f} s median {statistics.median(cpus):6.1f} s | "
                      f"{mb / min(cpus):6.2f} MB per CPU-s (best), {mb / statistics.median(cpus):6.2f} (median)",
                      flush=True)
            print(f"  ratio (datatrove CPU / curate CPU, min): {cpu_min['datatrove'] / cpu_min['curate']:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=20.0, help="MB of text to run (default 20)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-RSS check")
    ap.add_argument("--whole", action="store_true", help="whole processes, start-up included (see above)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool with --whole (min and median)")
    ap.add_argument("--datatrove-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    if args.datatrove_child:
        return datatrove_child(args.datatrove_child)
    rows = read_slice(args.data, args.mb)
    if args.whole:
        return whole_processes({"bench": rows, "web-non-en": non_english_web(args.mb)}, args.runs)
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
