"""Run one recipes/ablate/<name>/ experiment with the existing commands, until `curate ablate` lands:
for each arm (every *.toml but evals.toml) `curate build` once, then per seed `curate train
--set train.seed=S` and `curate eval RUN/final --evals evals.toml --max-len SEQ_LEN`
(windows of the trained length); prints mean ± std over seeds of
every eval set's bits per byte (and the difference from the first arm, with the seed std).

    python benchmarks/ablate_run.py recipes/ablate/dedup --seeds 3 [--arms full.toml minhash.toml]

Runs go to <arm's output.dir>/../<arm>-seed<S> (arms may share one build); finished builds, runs and evals are reused.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]


def curate(*argv: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "curate", *argv], check=True, env=env, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    print(f"  curate {' '.join(argv[:2])} ... {time.perf_counter() - t0:.0f} s", flush=True)


def run_arm(recipe: Path, evals: Path, seeds: list[int], extra: list[str]) -> dict[str, list[float]]:
    spec = tomllib.loads(recipe.read_text())
    out = (recipe.parent / spec["output"]["dir"]).resolve()
    sets = [a for x in extra for a in ("--set", x)]
    seq_len = spec["train"]["seq_len"]          # score in windows of the trained length
    if not (out / "manifest.json").is_file():
        curate("build", str(recipe), "--no-progress", *sets)
    scores: dict[str, list[float]] = {}
    for seed in seeds:
        run = out.parent / f"{recipe.stem}-seed{seed}"
        if not (run / "final" / "config.json").is_file():
            curate("train", str(recipe), "--out", str(run), "--set", f"train.seed={seed}", *sets)
        result = run / "eval.json"
        if not result.is_file():
            curate("eval", str(run / "final"), "--evals", str(evals), "--out", str(result),
                   "--max-len", str(seq_len))
        for name, m in orjson.loads(result.read_bytes())["sets"].items():
            scores.setdefault(name, []).append(m["bits_per_byte"] if m["kind"] == "lm" else m["acc_norm"])
    return scores


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("experiment", type=Path)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--arms", nargs="*", default=None, help="recipe files of the experiment, baseline first")
    ap.add_argument("--set", action="append", default=[], dest="overrides", help="override for every arm")
    args = ap.parse_args()
    arms = [args.experiment / a for a in args.arms] if args.arms else sorted(
        p for p in args.experiment.glob("*.toml") if p.name != "evals.toml")
    seeds = list(range(args.seeds))
    results = {}
    for arm in arms:
        print(f"{arm.stem}:", flush=True)
        results[arm.stem] = run_arm(arm, args.experiment / "evals.toml", seeds, args.overrides)
    base = arms[0].stem
    print(f"\n| arm | set | mean ± std over {len(seeds)} seeds | diff vs {base} |\n|---|---|---|---|")
    for arm, sets in results.items():
        for name, xs in sets.items():
            diff = statistics.mean(xs) - statistics.mean(results[base][name])
            print(f"| {arm} | {name} | {statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f} | {diff:+.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
