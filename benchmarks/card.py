"""`curate card` time and peak memory on builds of growing size (flat memory is the claim).

    python benchmarks/card.py --copies 1 2 4      # builds of 1, 2 and 4 copies of bench_corpus

Each build is ``--copies`` copies of ``../shared/data/bench_corpus.jsonl.zst`` (121 MiB of JSONL,
17,360 documents) read as one source through a cheap recipe (``length``, ``lang_id``: the card
then has a language section and a score histogram), so the shards hold the whole corpus N times.
``curate card`` then runs in a fresh process; its wall time, CPU time and peak RSS (``ru_maxrss``)
are printed with the build's text size (UTF-8 bytes), CPU s/GB, and the ratios of the largest build
to the smallest (the marginal s/GB leaves out the fixed start-up: imports, numba cache, plots). ``--readback-mb 0``: the dropped samples' text is not read back from the inputs (that
re-reads input files, which is not the card's own cost).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"

RECIPE = """
[recipe]
name = "card-bench-{n}"
seed = 0
[[sources]]
name = "bench"
paths = ["in/*.jsonl.zst"]
[[steps]]
use = "length"
min_chars = 200
[[steps]]
use = "lang_id"
languages = []
[output]
dir = "out"
max_shard_rows = 5000
"""


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def build(root: Path, copies: int, workers: int) -> Path:
    out = root / "out"
    if (out / "manifest.json").is_file():
        return out
    (root / "in").mkdir(parents=True, exist_ok=True)
    for i in range(copies):
        copy = root / "in" / f"copy{i}.jsonl.zst"
        if not copy.exists():
            shutil.copyfile(CORPUS, copy)  # copies, not links: the build reads a file once
    (root / "recipe.toml").write_text(RECIPE.format(n=copies), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "curate", "build", str(root / "recipe.toml"), "--no-progress",
                    "--workers", str(workers)], check=True, env=_env(), stdout=subprocess.DEVNULL)
    return out


def card(out: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of `curate card out` in a fresh child process."""
    code = ("import resource, sys; from curate.cli import main; rc = main(['card', sys.argv[1], "
            "'--readback-mb', '0']); r = resource.getrusage(resource.RUSAGE_SELF); "
            "print(r.ru_utime + r.ru_stime, r.ru_maxrss); sys.exit(rc)")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, env=_env())
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    cpu, rss = proc.stdout.strip().splitlines()[-1].split()
    return seconds, float(cpu), int(rss) / 1024


def text_gb(m) -> float:
    """UTF-8 bytes of the kept text (not timed)."""
    import polars as pl

    lazy = pl.scan_parquet([str(p) for p in m.shard_paths()]).select(pl.col("text").str.len_bytes().sum())
    return lazy.collect(engine="streaming").item() / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, nargs="+", default=[1, 2])
    p.add_argument("--workdir", type=Path, default=Path("/tmp/curate-card-bench"))
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    if not CORPUS.is_file():
        raise SystemExit(f"{CORPUS} not found (the shared data folder beside the checkout)")
    from curate.manifest import Manifest

    rows = []
    for n in args.copies:
        out = build(args.workdir / f"x{n}", n, args.workers)
        m = Manifest.load(out)
        gb = text_gb(m)
        seconds, cpu, rss = card(out)
        rows.append((n, sum(m.docs_by_source().values()), gb, seconds, cpu, rss))
        print(f"copies {n}: {rows[-1][1]:,} docs, {gb:.3f} GB of text in {len(m.shards)} shards; card {seconds:.1f} s "
              f"wall, {cpu:.1f} s CPU ({cpu / gb:.0f} CPU s/GB), peak RSS {rss:,.0f} MiB", flush=True)
    if len(rows) > 1 and rows[-1][2] > rows[0][2]:
        a, b = rows[0], rows[-1]
        print(f"largest / smallest build: text x{b[2] / a[2]:.2f}, wall x{b[3] / a[3]:.2f}, CPU x{b[4] / a[4]:.2f}, "
              f"peak RSS x{b[5] / a[5]:.2f}; marginal CPU {(b[4] - a[4]) / (b[2] - a[2]):.0f} s/GB")
    print(f"(children's max RSS: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MiB)")


if __name__ == "__main__":
    main()
