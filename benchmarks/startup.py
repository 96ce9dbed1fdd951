"""Fixed costs: time to the first batch and whole-process wall time of ``curate build``, vs
datatrove 0.10.1's whole process on the same file, side by side in one run.

Three commands, each run ``--runs`` times after one warm-up run (warm caches: page cache, .pyc
files, the compiled kernel libraries, curate's character-table cache; the warm-up is not counted):

- ``curate build recipes/quickstart.toml`` (306 pages: length, url_blocklist, lang_id, exact_dedup);
- ``curate build`` of the four-filter chain (gopher_quality, gopher_repetition, c4, fineweb_quality,
  each at its datatrove default) over the first ``--mb`` MB of ../shared/data/web_sample.jsonl.zst
  (real multilingual web pages), decompressed to plain JSONL;
- datatrove's pipeline over the same JSONL: JsonlReader -> the same four filters -> JsonlWriter, one
  task, one worker (``LocalPipelineExecutor``), as one whole ``python`` process.

curate's builds run with ``--profile``: ``first_batch_s`` (process start to the end of its first
batch) and ``first_batch_cpu_s`` (CPU seconds by then; on a loaded machine, the wall time a quiet
one would show) come from stats.json. Each command's whole-process CPU seconds (user + system of
it and its children) are measured too, and a floor: a process that imports pyarrow and hashes one
string with a compiled kernel library. Prints min and median of each figure and the whole-process ratios
datatrove / curate (wall and CPU) for the four-filter chain.

Run: python benchmarks/startup.py [--mb 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "web_sample.jsonl.zst"

FOUR_FILTERS = """[recipe]
name = "four-filters"
[[sources]]
name = "web"
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

DATATROVE = """
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

data_dir, name, out, logs = sys.argv[1:5]
LocalPipelineExecutor(pipeline=[
    JsonlReader(data_dir, glob_pattern=name, compression=None),
    GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(), FineWebQualityFilter(),
    JsonlWriter(out, compression=None),
], tasks=1, workers=1, logging_dir=logs).run()
"""


def write_slice(src: Path, mb: float, dest: Path) -> float:
    """The first documents of ``src`` (.jsonl.zst) up to ``mb`` MB of text, as plain JSONL."""
    total = 0
    with open(src, "rb") as f, open(dest, "wb") as out:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            out.write(line.encode())
            total += len(json.loads(line)["text"].encode())
            if total >= mb * 1e6:
                break
    return total / 1e6


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # warm caches include the .pyc files a user's install has
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str]) -> dict[str, float]:
    """Whole-process wall seconds and CPU seconds (user + system, the process and its children)."""
    t0, c0 = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, cwd=REPO, env=child_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return {"wall_s": time.perf_counter() - t0, "cpu_s": _children_cpu() - c0}


def curate_run(recipe: Path, out: Path) -> dict[str, float]:
    run = timed([sys.executable, "-m", "curate", "build", str(recipe), "--out", str(out), "--overwrite",
                 "--no-progress", "--profile"])
    prof = json.loads((out / "stats.json").read_text())["profile"]
    return {**run, "first_batch_s": prof["first_batch_s"], "first_batch_cpu_s": prof["first_batch_cpu_s"]}


#: The floor under any build whose steps have kernels: import pyarrow and load one compiled kernel
#: library (curate/kernels: an extension module, no numba).
FLOOR = ("import pyarrow as pa; from curate.text.hashing import hash_strings; "
         "hash_strings(pa.array(['x']))")


def summary(values: list[float]) -> str:
    return f"min {min(values):.2f} s, median {statistics.median(values):.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0, help="MB of text in the four-filter slice")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mb = write_slice(args.data, args.mb, tmp / "slice.jsonl")
        four = tmp / "four.toml"
        four.write_text(FOUR_FILTERS.format(path=tmp / "slice.jsonl", out=tmp / "four-out"))
        (tmp / "dt.py").write_text(DATATROVE)
        dt_cmd = [sys.executable, str(tmp / "dt.py"), str(tmp), "slice.jsonl", str(tmp / "dt-out"), str(tmp / "dt-logs")]
        runs: dict[str, list[dict[str, float]]] = {"quickstart": [], "four": [], "datatrove": [], "floor": []}
        for i in range(args.runs + 1):  # run 0 warms every cache and is not counted
            q = curate_run(REPO / "recipes" / "quickstart.toml", tmp / "q-out")
            f = curate_run(four, tmp / "four-out")
            d = timed(dt_cmd)
            subprocess.run(["rm", "-rf", str(tmp / "dt-out"), str(tmp / "dt-logs")], check=True)
            floor = timed([sys.executable, "-c", FLOOR])
            if i:
                for name, run in (("quickstart", q), ("four", f), ("datatrove", d), ("floor", floor)):
                    runs[name].append(run)
        print(f"four-filter slice: {mb:.2f} MB of text ({args.data.name}); {args.runs} runs each after a warm-up")
        for name, label in (("quickstart", "curate quickstart"), ("four", "curate four-filter chain")):
            for key in ("first_batch_s", "first_batch_cpu_s", "wall_s", "cpu_s"):
                print(f"{label:28} {key:18} {summary([r[key] for r in runs[name]])}")
        for name, label in (("datatrove", "datatrove four-filter chain"), ("floor", "pyarrow + 1 kernel library")):
            for key in ("wall_s", "cpu_s"):
                print(f"{label:28} {key:18} {summary([r[key] for r in runs[name]])}")
        for key in ("wall_s", "cpu_s"):
            ours, theirs = [r[key] for r in runs["four"]], [r[key] for r in runs["datatrove"]]
            print(f"whole process {key}, datatrove / curate: {min(theirs) / min(ours):.2f}x (min), "
                  f"{statistics.median(theirs) / statistics.median(ours):.2f}x (median)")


if __name__ == "__main__":
    main()
