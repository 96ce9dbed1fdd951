"""Mixing benchmark: how fast the mixers sampler delivers documents, against the rate a small trainer
consumes them, and against Hugging Face ``datasets.interleave_datasets`` (the usual load-time mixer)
on the same index and the same target weights.

    python benchmarks/mix.py out/phases          # a finished build with token columns
                                                 # (python -m curate build recipes/phases.toml)

Prints: index build time; sampler docs/s and tokens/s and their ratio to TRAINER_TOKENS_PER_S; the
same for interleave_datasets; realised token shares of both against the targets (interleave_datasets
draws documents with the given probabilities, so its *token* shares drift when document lengths
differ between groups; mixers weights are token weights); materialise rows/s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's curate and mixers

from curate.manifest import Manifest
from mixers.index import build_index
from mixers.materialize import materialize
from mixers.phases import MixtureSpec, PhaseSpec
from mixers.plan import plan_phase
from mixers.sampler import MixtureSampler

#: Tokens/s of the smallest model of train/ on this machine (2 shared CPU cores), as measured by the
#: trainer benchmark of the train part (benchmarks/README.md, "Training"). The target is >= 20x this.
TRAINER_TOKENS_PER_S = 1_600


def _shares(tokens: dict[str, int]) -> dict[str, float]:
    total = sum(tokens.values())
    return {g: n / total for g, n in tokens.items()}


def bench_sampler(index, phase, seed):
    sampler = MixtureSampler(index, plan_phase(phase, index.tokens()), seed)
    t0 = time.perf_counter()
    docs = sum(1 for _ in sampler)
    seconds = time.perf_counter() - t0
    return docs, sum(sampler.delivered_tokens().values()), seconds, sampler.delivered_tokens(), sampler.weights()


def bench_interleave(index, weights, num_tokens, seed):
    import datasets

    datasets.disable_progress_bars()
    groups = [g for g in index.groups if weights[g] > 0]
    parts = []
    for g in groups:
        d = index.docs[g]
        parts.append(datasets.Dataset.from_dict({"shard": d.shard, "row": d.row, "num_tokens": d.num_tokens,
                                                 "group": [g] * len(d.row)}))
    mixed = datasets.interleave_datasets(parts, probabilities=[weights[g] for g in groups], seed=seed,
                                         stopping_strategy="all_exhausted")
    t0 = time.perf_counter()
    tokens = dict.fromkeys(index.groups, 0)
    docs = total = 0
    for epoch in range(1000):  # one pass ends when every group is exhausted: repeat for the budget
        for ex in mixed.shuffle(seed=seed + epoch) if epoch else mixed:
            tokens[ex["group"]] += ex["num_tokens"]
            total += ex["num_tokens"]
            docs += 1
            if total >= num_tokens:
                return docs, total, time.perf_counter() - t0, tokens
    return docs, total, time.perf_counter() - t0, tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, nargs="?", default=Path("out/phases"))
    ap.add_argument("--num-tokens", type=int, default=200_000_000)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--group-by", default="source")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    manifest = Manifest.load(args.dir)
    t0 = time.perf_counter()
    index = build_index(manifest, args.group_by, args.seed)
    t_index = time.perf_counter() - t0
    print(f"build {args.dir}: {sum(index.num_docs().values()):,} docs, {sum(index.tokens().values()):,} tokens, "
          f"{len(manifest.shards)} shards; index built in {t_index:.3f} s")
    phase = PhaseSpec(name="bench", num_tokens=args.num_tokens, group_by=args.group_by,
                      mixture=MixtureSpec(strategy="temperature", temperature=args.temperature, max_epochs=1e6))
    docs, tokens, secs, per_group, target = bench_sampler(index, phase, args.seed)
    ours = tokens / secs
    print(f"mixers sampler:       {docs:>9,} docs {tokens:>12,} tokens in {secs:7.3f} s = "
          f"{docs / secs:>10,.0f} docs/s {ours:>13,.0f} tokens/s = {ours / TRAINER_TOKENS_PER_S:,.0f}x the "
          f"trainer's {TRAINER_TOKENS_PER_S:,} tokens/s (train/ benchmark)")
    hf_docs, hf_tokens, hf_secs, hf_groups = bench_interleave(index, target, args.num_tokens, args.seed)
    hf = hf_tokens / hf_secs
    print(f"datasets.interleave:  {hf_docs:>9,} docs {hf_tokens:>12,} tokens in {hf_secs:7.3f} s = "
          f"{hf_docs / hf_secs:>10,.0f} docs/s {hf:>13,.0f} tokens/s = {hf / TRAINER_TOKENS_PER_S:,.0f}x; "
          f"mixers is {ours / hf:.1f}x faster")
    ours_s, hf_s = _shares(per_group), _shares(hf_groups)
    print(f"{'group':24} {'target':>8} {'mixers':>8} {'interleave':>10}")
    for g in index.groups:
        print(f"{g[:24]:24} {target[g]:>8.2%} {ours_s[g]:>8.2%} {hf_s[g]:>10.2%}")
    err = max(abs(ours_s[g] - target[g]) for g in index.groups)
    hf_err = max(abs(hf_s[g] - target[g]) for g in index.groups)
    print(f"max |token share - target|: mixers {err:.4%}, interleave_datasets {hf_err:.4%}")
    with tempfile.TemporaryDirectory() as tmp:
        small = PhaseSpec(name="bench", num_tokens=min(args.num_tokens, 5_000_000), group_by=args.group_by,
                          mixture=phase.mixture)
        t0 = time.perf_counter()
        out = materialize(manifest, small, args.seed, Path(tmp) / "mix")
        secs = time.perf_counter() - t0
        rows = sum(s.num_docs for s in out.shards)
        print(f"materialise {small.num_tokens:,} tokens: {rows:,} rows in {secs:.2f} s = {rows / secs:,.0f} rows/s")


if __name__ == "__main__":
    main()
