"""The memory budget (``[output] memory_mb``): peak RSS of ``curate build`` workers on a corpus with
long documents, from the build's own ``--profile`` figures (worker peak, and how much each step
raised it).

Corpus: three documents of 10, 20 and 30 MB, each real bench_corpus documents concatenated, among
the first 2,000 bench_corpus documents (96 MB of JSONL). Built with gopher_repetition,
gopher_quality, c4, fineweb_quality and exact_dedup under each ``--budgets`` value, one worker.

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


if __name__ == "__main__":
    main()
