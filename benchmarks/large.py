"""A large build's time per stage and peak RSS per process, from the build's own ``--profile``.

    python benchmarks/large.py --mb 100              # quick check
    python benchmarks/large.py --mb 1000 --workers 2 1   # the 1 GB figure (issue 12)

Input: ``--mb`` MB of plain JSONL made from ../shared/data/bench_corpus.jsonl.zst (17,360 real
documents, 126.7 MB of JSONL), written to a temp dir as ``--files`` files of about equal size (each
also cut into 64 MiB byte-range fragments by the planner). Copy ``c`` of the corpus (c = 0, 1, ...)
gives every document the id ``c<c>/<id>`` and rotates every letter by ``c`` places within its
alphabet (a-z, A-Z, Cyrillic, Greek, Hebrew, Arabic, Thai, kana, Hangul, CJK ideographs; see
:data:`ALPHABETS`); copy 0 is the corpus as it is. A rotation is a bijection on letters that keeps
case, word boundaries, digits, punctuation and lengths, so each copy has exactly the corpus's
length and repetition figures and its own near-duplicates (``length`` and ``gopher_repetition``
decide the same for every copy, and MinHash finds the same clusters inside each copy), while a
document shares almost no 5-word shingle with its twin in another copy: MinHash removes only the
rare documents with no rotated letter (numbers, symbols) across copies. The build then does the
work of ``--mb`` MB of distinct text at every stage. The script prints how many documents each copy
kept and how many MinHash removed as duplicates of another copy (``rejected/``'s ``duplicate_of``).

Recipe (issue 12's): ``length``, ``gopher_repetition``, ``minhash_dedup``, ``train_tokenizer``
(default: 32,768 tokens, 20,000 sampled documents), ``tokenize``, all at their defaults, under
``[output] memory_mb = --memory-mb``. A small uncounted build (1.5 MB made from the first 300
documents) first warms the kernel cache (``--no-warm`` skips it: then the first build's ``plan and warm-up`` phase
shows the compile).

Printed per build, from stats.json's ``profile`` (``curate/profile.py``): per phase (planning and
warm-up, each map stage, each resolve) its wall seconds, its CPU seconds summed over the driver
and its worker processes, and input MB per wall and per CPU second; per process (driver and every
worker, with the stages it ran) its peak RSS (``VmHWM``); the worst worker's peak against the
budget; per step the CPU seconds and MB/cpu-s; and the whole process (``wait4``: wall, CPU of the
whole process tree, the largest peak RSS in it).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import zstandard

REPO = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (REPO.parent / "shared", REPO.parents[1] / "shared") if p.is_dir()), REPO.parent / "shared")
DATA = SHARED / "data" / "bench_corpus.jsonl.zst"

#: (first code point, letters) of each alphabet whose letters a copy rotates.
ALPHABETS = (
    (0x61, 26), (0x41, 26),                  # a-z, A-Z
    (0x430, 32), (0x410, 32),                # Cyrillic а-я, А-Я
    (0x3B1, 17), (0x3C3, 7),                 # Greek α-ρ, σ-ω
    (0x391, 17), (0x3A3, 7),                 # Greek Α-Ρ, Σ-Ω
    (0x5D0, 27), (0x621, 26), (0xE01, 46),   # Hebrew, Arabic, Thai
    (0x3041, 86), (0x30A1, 90),              # hiragana, katakana
    (0xAC00, 11172), (0x4E00, 20992),        # Hangul syllables, CJK unified ideographs
)

RECIPE = """[recipe]
name = "large-bench"
seed = 0
[[sources]]
name = "bench"
paths = ["{inputs}/*.jsonl"]
[[steps]]
use = "length"
[[steps]]
use = "gopher_repetition"
[[steps]]
use = "minhash_dedup"
[[steps]]
use = "train_tokenizer"
[[steps]]
use = "tokenize"
[output]
dir = "{out}"
memory_mb = {memory_mb}
"""


def rotation(copy: int) -> tuple[dict[int, int], bytes]:
    """Copy ``copy``'s letter rotation: a ``str.translate`` table and its ASCII byte table."""
    table = {}
    for first, n in ALPHABETS:
        for i in range(n):
            table[first + i] = first + (i + copy) % n
    ascii_table = bytes(table.get(b, b) for b in range(256))
    return table, ascii_table


def corpus_docs(path: Path) -> list[dict]:
    with open(path, "rb") as f:
        return [orjson.loads(line) for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f),
                                                                encoding="utf-8")]


def write_inputs(docs: list[dict], folder: Path, total_mb: float, num_files: int) -> tuple[int, int]:
    """``total_mb`` MB of JSONL (copies of ``docs``, see the module docstring) as ``num_files``
    files in ``folder``; returns (documents, copies begun)."""
    folder.mkdir(parents=True)
    target, written, count, copy = int(total_mb * 1e6), 0, 0, 0
    per_file = target // num_files + 1
    files = [open(folder / f"part-{i:03d}.jsonl", "wb") for i in range(num_files)]
    try:
        while written < target:
            table, ascii_table = rotation(copy)
            for d in docs:
                text = d["text"]
                if copy:
                    text = text.encode().translate(ascii_table).decode() if text.isascii() else text.translate(table)
                line = orjson.dumps({**d, "id": f"c{copy}/{d['id']}", "text": text}) + b"\n"
                files[min(written // per_file, num_files - 1)].write(line)
                written += len(line)
                count += 1
                if written >= target:
                    break
            copy += 1
    finally:
        for f in files:
            f.close()
    return count, copy


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def whole_process(recipe: Path, workers: int) -> dict:
    """``curate build --profile`` as a child process (output in ``<recipe>.log``): its wall seconds
    and, from ``os.wait4``, the CPU seconds and the largest peak RSS of its whole process tree."""
    cmd = [sys.executable, "-m", "curate", "build", str(recipe), "--profile", "--no-progress",
           "--workers", str(workers), "--overwrite"]
    log = recipe.with_suffix(".log")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    t0 = time.perf_counter()
    pid = os.posix_spawn(sys.executable, cmd, env(), file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, str(log), flags, 0o644), (os.POSIX_SPAWN_DUP2, 1, 2)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed ({' '.join(cmd)}: exit {os.waitstatus_to_exitcode(status)}):\n"
                         + log.read_text()[-3000:])
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024}


def copy_of(doc_id: str) -> str:
    return doc_id.split("/", 1)[0]


def dedup_by_copy(out: Path) -> tuple[dict[str, int], int]:
    """Documents kept per copy (from the shards' ids) and how many ``minhash_dedup`` removed as
    duplicates of a document of another copy (from rejected/: ``duplicate_of``)."""
    kept: dict[str, int] = {}
    for shard in sorted((out / "shards").glob("*.parquet")):
        for i in pq.read_table(shard, columns=["id"]).column("id").to_pylist():
            kept[copy_of(i)] = kept.get(copy_of(i), 0) + 1
    across = 0
    for part in sorted((out / "rejected").glob("*.parquet")):
        t = pq.read_table(part, columns=["id", "step", "duplicate_of"]).to_pylist()
        across += sum(1 for r in t if r["step"] == "minhash_dedup" and copy_of(r["duplicate_of"]) != copy_of(r["id"]))
    return dict(sorted(kept.items(), key=lambda kv: int(kv[0][1:]))), across


def report(stats: dict, proc: dict, memory_mb: int, copies: tuple[dict[str, int], int]) -> list[str]:
    prof, total = stats["profile"], stats["total"]
    input_mb = total["input_bytes"] / 1e6
    lines = [f"input {input_mb:,.1f} MB, {total['read']:,} documents; kept {total['kept']:,}; "
             f"build seconds {stats['seconds']:.1f}; {prof['workers']} worker(s)",
             "", "| phase | wall s | CPU s, all processes (driver + workers) | MB/s (wall) | MB/s per CPU s "
             "| peak RSS MB | driver RSS MB at end |", "|---|---|---|---|---|---|---|"]
    for e in prof["stages"]:
        rate = f"{input_mb / e['wall_s']:.1f}" if e["kind"] in ("map", "resolve") and e["wall_s"] > 0 else ""
        per_cpu = f"{input_mb / e['cpu_s']:.1f}" if e["kind"] in ("map", "resolve") and e["cpu_s"] > 0 else ""
        peak = "" if e["peak_rss_mb"] is None else f"{e['peak_rss_mb']:.0f}"
        cpu = f"{e['cpu_s']:.1f} ({e['driver_cpu_s']:.1f} + {e['workers_cpu_s']:.1f})"
        driver = "" if e["driver_rss_mb"] is None else f"{e['driver_rss_mb']:.0f}"
        lines.append(f"| {e['name']} | {e['wall_s']:.1f} | {cpu} | {rate} | {per_cpu} | {peak} | {driver} |")
    lines.append(f"| **whole build** | **{sum(e['wall_s'] for e in prof['stages']):.1f}** | "
                 f"**{sum(e['cpu_s'] for e in prof['stages']):.1f}** | {input_mb / stats['seconds']:.1f} | | | |")
    lines += ["", "| step | CPU s | MB in | MB/cpu-s | peak raised MB (sum over tasks) |", "|---|---|---|---|---|"]
    for e in prof["steps"]:
        rate = "" if e["mb_per_cpu_s"] is None else f"{e['mb_per_cpu_s']:.1f}"
        lines.append(f"| {e['name']} | {e['cpu_s']:.1f} | {e['bytes_in'] / 1e6:,.0f} | {rate} "
                     f"| {e['maxrss_added_mb']:.0f} |")
    lines += ["", f"driver: peak RSS {prof['driver_peak_rss_mb']:.0f} MB"]
    for w in prof["worker_processes"]:
        stages = ", ".join(map(str, w["stages"]))
        lines.append(f"process {w['pid']} (stages {stages}): peak RSS {w['peak_rss_mb']:.0f} MB")
    resolve_peaks = [e["peak_rss_mb"] for e in prof["stages"] if e["kind"] == "resolve" and e["peak_rss_mb"]]
    worst = max([prof["worker_peak_rss_mb"]] + resolve_peaks)
    lines.append(f"memory budget [output] memory_mb = {memory_mb}: worst worker peak {worst:.0f} MB "
                 f"({100 * worst / memory_mb:.0f}% of it; {'within' if worst <= memory_mb else 'OVER'})")
    lines.append(f"whole process tree (wait4): wall {proc['wall_s']:.1f} s, CPU {proc['cpu_s']:.1f} s, "
                 f"largest peak RSS {proc['max_rss_mb']:.0f} MB")
    g = next((g for n, g in stats.get("global_steps", {}).items() if n.endswith("minhash_dedup")), {})
    lines.append(f"minhash_dedup removed {g.get('num_duplicates', 0):,} ({copies[1]:,} as duplicates of another "
                 "copy); kept per copy: " + ", ".join(f"{c} {n:,}" for c, n in copies[0].items()))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=1000, help="MB of JSONL input (default 1000)")
    ap.add_argument("--workers", type=int, nargs="+", default=[2], help="a build per value (default 2)")
    ap.add_argument("--files", type=int, default=8, help="input files (default 8)")
    ap.add_argument("--memory-mb", type=int, default=2048, help="[output] memory_mb (default 2048)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-warm", action="store_true", help="skip the uncounted warm-up build")
    ap.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it (default: a temp dir)")
    args = ap.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"--data {args.data}: no such file (../shared/data/bench_corpus.jsonl.zst)")
    root = args.keep or Path(tempfile.mkdtemp(prefix="curate-large-"))
    try:
        docs = corpus_docs(args.data)
        t0 = time.process_time()
        count, copies = write_inputs(docs, root / "in", args.mb, args.files)
        print(f"input: {count:,} documents in {args.files} files, {copies} copies begun "
              f"({time.process_time() - t0:.1f} CPU s to write), {root / 'in'}", flush=True)
        write_inputs(docs[:300], root / "warm" / "in", 1.5, 1)
        del docs  # not held while the builds run
        if not args.no_warm:
            (root / "warm" / "recipe.toml").write_text(
                RECIPE.format(inputs=root / "warm" / "in", out=root / "warm" / "out", memory_mb=args.memory_mb))
            whole_process(root / "warm" / "recipe.toml", 1)
        for workers in args.workers:
            out = root / f"out-w{workers}"
            recipe = root / f"recipe-w{workers}.toml"
            recipe.write_text(RECIPE.format(inputs=root / "in", out=out, memory_mb=args.memory_mb))
            proc = whole_process(recipe, workers)
            stats = orjson.loads((out / "stats.json").read_bytes())
            print(f"\n## --workers {workers}\n")
            print("\n".join(report(stats, proc, args.memory_mb, dedup_by_copy(out))), flush=True)
            shutil.rmtree(out)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
