"""Reading and writing: ``curate build`` with no steps vs Polars ``read_ndjson`` + ``write_parquet``.

Decompresses ``bench_corpus.jsonl.zst`` to a temporary plain ``.jsonl`` (127 MB), then times whole
processes, interleaved, ``--repeats`` times each, min and median:

1. one core (``taskset -c 0``): ``python -m curate build nosteps.toml --workers 1`` (JSONL ->
   zstd Parquet shards) vs ``python -c 'pl.read_ndjson(IN).write_parquet(OUT, compression="zstd")'``;
   prints the ratio (target <= 1.3x);
2. two cores (``taskset -c 0,1``): the same build with ``--workers 1`` and ``--workers 2``: the file
   is split into byte-range fragments (``fragment_bytes``, default 64 MiB: 2 fragments here), so two
   workers share it; the shards of both builds are checked byte-identical.

Run: python benchmarks/read_write.py [--data PATH] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]

POLARS = ("import sys, polars as pl; "
          "pl.read_ndjson(sys.argv[1]).write_parquet(sys.argv[2], compression='zstd')")


def recipe(tmp: Path, name: str, data: str = "bench.jsonl") -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(f'[recipe]\nname = "{name}"\n[[sources]]\nname = "bench"\npaths = ["{data}"]\n'
                    f'[output]\ndir = "{name}"\n', encoding="utf-8")
    return path


def timed(cmd: list[str], cores: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one whole process."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(["taskset", "-c", cores, *cmd], check=True, env=env, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def shard_hashes(out: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "shards").glob("*.parquet"))]


def summary(name: str, runs: list[tuple[float, float]]) -> str:
    wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
    return (f"{name:46s} wall min {min(wall):5.2f} s median {statistics.median(wall):5.2f} s | "
            f"CPU min {min(cpu):5.2f} s median {statistics.median(cpu):5.2f} s")


def ratio(name: str, a: list[tuple[float, float]], b: list[tuple[float, float]], cpu: bool = True) -> str:
    parts = []
    for i, what in ((0, "wall"), (1, "CPU"))[:2 if cpu else 1]:
        x, y = [r[i] for r in a], [r[i] for r in b]
        med = statistics.median(x) / statistics.median(y)
        parts.append(f"{what} min {min(x) / min(y):.2f}x median {med:.2f}x")
    return f"{name}: " + ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        jsonl = tmp / "bench.jsonl"
        with open(args.data, "rb") as src, open(jsonl, "wb") as dst:
            zstandard.ZstdDecompressor().copy_stream(src, dst)
        print(f"input: {jsonl.stat().st_size / 1e6:.1f} MB of JSONL")
        ours = [py, "-m", "curate", "build", str(recipe(tmp, "one")), "--overwrite", "--workers", "1"]
        peer = [py, "-c", POLARS, str(jsonl), str(tmp / "polars.parquet")]
        with open(jsonl, "rb") as f:
            (tmp / "tiny.jsonl").write_bytes(f.readline() + f.readline())
        ours_start = [py, "-m", "curate", "build", str(recipe(tmp, "tiny", "tiny.jsonl")), "--overwrite"]
        peer_start = [py, "-c", "import polars"]
        ours_name, peer_name = "curate build, no steps, 1 core", "polars read_ndjson + write_parquet, 1 core"
        cmds = {ours_name: ours, peer_name: peer, "curate start-up (2-line file)": ours_start,
                "polars start-up (import polars)": peer_start}
        times: dict[str, list] = {name: [] for name in cmds}
        for _ in range(args.repeats):
            for name, cmd in cmds.items():
                times[name].append(timed(cmd, "0"))
        for name, t in times.items():
            print(summary(name, t))
        print(ratio("curate / polars (target <= 1.3x)", times[ours_name], times[peer_name]))
        above = {name: [(w - ws, c - cs) for (w, c), (ws, cs) in zip(times[name], times[start])]
                 for name, start in ((ours_name, "curate start-up (2-line file)"),
                                     (peer_name, "polars start-up (import polars)"))}
        print(ratio("above start-up: curate / polars (read + write only)", above[ours_name], above[peer_name]))
        sizes = sum(p.stat().st_size for p in (tmp / "one" / "shards").glob("*.parquet"))
        peer_mb = (tmp / "polars.parquet").stat().st_size / 1e6
        print(f"output: curate {sizes / 1e6:.1f} MB of shards, polars {peer_mb:.1f} MB")

        builds = {w: [py, "-m", "curate", "build", str(recipe(tmp, f"w{w}")), "--overwrite", "--workers", str(w)]
                  for w in (1, 2)}
        split: dict[int, list] = {1: [], 2: []}
        for _ in range(args.repeats):
            for w, cmd in builds.items():
                split[w].append(timed(cmd, "0,1"))
        for w, t in split.items():
            print(summary(f"curate build, no steps, --workers {w}, 2 cores", t))
        print(ratio("speed-up of --workers 2 on the single file (--workers 1 / --workers 2)", split[1], split[2],
                    cpu=False))
        same = shard_hashes(tmp / "w1") == shard_hashes(tmp / "w2")
        print(f"shards of --workers 1 and 2 byte-identical: {same} ({len(shard_hashes(tmp / 'w1'))} shards)")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
