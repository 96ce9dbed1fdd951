"""The memory budget (``[output] memory_mb``): peak RSS of ``curate build`` workers on a corpus with
long documents, from the build's own ``--profile`` figures, and what one long document costs each
quality step (bytes of peak RSS per text byte).

Corpus: three documents of 10, 20 and 30 MB, each real bench_corpus documents concatenated, among
the first 2,000 bench_corpus documents (96 MB of JSONL). Built with gopher_repetition,
gopher_quality, c4, fineweb_quality and exact_dedup under each ``--budgets`` value, one worker.
Then, per step, one 10 MB document alone through the step in a fresh process: RSS growth / size.

Run: python benchmarks/memory_budget.py [--budgets 1024 2048] [--data PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import zstandard

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
STEPS = ["gopher_repetition", "gopher_quality", "c4", "fineweb_quality", "exact_dedup"]

RECIPE = """[recipe]
name = "memory-budget"
[[sources]]
name = "bench"
paths = ["{path}"]
{steps}
[output]
dir = "{out}"
memory_mb = {memory_mb}
"""

ONE_DOC = """
import resource, sys, orjson, pyarrow as pa
from curate.pipeline import run_steps
from curate.steps.registry import step_class

name, path = sys.argv[1:3]
text = orjson.loads(open(path, "rb").readline())["text"]
def batch(t):
    return pa.RecordBatch.from_pydict({"id": pa.array(["d"]), "text": pa.array([t], pa.large_string()),
        "source": pa.array(["b"]), "input_file": pa.array(["x"]), "input_row": pa.array([0], pa.int64())})
step = step_class(name)()
def run(b):
    if hasattr(step, "prepare"):
        step.prepare(b)
    else:
        run_steps(b, [(0, step)], [{"in": 0, "kept": 0, "dropped": {}, "counts": {}}], full_rejected=False)
run(batch("warm up the kernels. " * 50))
big = batch(text)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
run(big)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"step": name, "mb": len(text.encode()) / 1e6, "rss_added_mb": after - before}))
""".replace("print(json", "import json; print(json")


def write_corpus(src: Path, dest: Path) -> list[str]:
    texts, total = [], 0
    with open(src, "rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            texts.append(orjson.loads(line)["text"])
            total += len(texts[-1].encode())
            if total > 60e6:
                break
    longs, i = [], 0
    for size_mb in (10, 20, 30):
        parts, n = [], 0
        while n < size_mb * 1e6:
            parts.append(texts[i % len(texts)])
            n += len(parts[-1].encode())
            i += 1
        longs.append("\n\n".join(parts))
    with open(dest, "wb") as f:
        for k, t in enumerate(longs):
            f.write(orjson.dumps({"id": f"long{k}", "text": t}) + b"\n")
        for k, t in enumerate(texts[:2000]):
            f.write(orjson.dumps({"id": f"doc{k}", "text": t}) + b"\n")
    return longs


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", type=int, nargs="+", default=[1024, 2048])
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "long.jsonl"
        longs = write_corpus(args.data, corpus)
        print(f"corpus: {corpus.stat().st_size / 1e6:.0f} MB JSONL, long documents of "
              f"{', '.join(f'{len(t.encode()) / 1e6:.0f}' for t in longs)} MB among 2,000")
        steps = "\n".join(f'[[steps]]\nuse = "{s}"' for s in STEPS)
        for budget in args.budgets:
            recipe = tmp / f"r{budget}.toml"
            recipe.write_text(RECIPE.format(path=corpus, steps=steps, out=tmp / f"out{budget}", memory_mb=budget))
            subprocess.run([sys.executable, "-m", "curate", "build", str(recipe), "--profile", "--no-progress"],
                           check=True, env=env(), cwd=REPO, capture_output=True)
            prof = json.loads((tmp / f"out{budget}" / "stats.json").read_text())["profile"]
            growth = ", ".join(f"{e['name']} +{e['maxrss_added_mb']:.0f}" for e in prof["steps"] if e["maxrss_added_mb"] >= 1)
            print(f"memory_mb = {budget}: worker peak RSS {prof['worker_peak_rss_mb']:.0f} MB "
                  f"(peak growth by entry, MB: {growth})")
        (tmp / "one.jsonl").write_bytes(orjson.dumps({"text": longs[0]}) + b"\n")
        (tmp / "one.py").write_text(ONE_DOC)
        for name in STEPS:
            done = subprocess.run([sys.executable, str(tmp / "one.py"), name, str(tmp / "one.jsonl")], check=True,
                                  env=env(), cwd=REPO, capture_output=True, text=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"one {r['mb']:.0f} MB document through {name:18} peak RSS +{r['rss_added_mb']:.0f} MB "
                  f"({r['rss_added_mb'] / r['mb']:.1f} bytes per text byte)")


if __name__ == "__main__":
    main()
