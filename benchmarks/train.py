"""Training throughput of `train/` and the share of step time spent waiting for data.

Runs, on the same model config and the same number of steps:
  1. ours: the full trainer (mixers sampler -> token store -> packer -> model step), timing the data
     part (sampling + reading + packing) and the whole step separately;
  2. bare: the same model and optimizer on one pre-built random batch of the same shape (no data
     pipeline), with the plain causal path and with the trainer's document mask - the ceilings.
Prints tokens/s of both, their ratio, and the data-wait share (target < 5%).

    python benchmarks/train.py --build out/meco          # a finished build with a tokenize step
    python benchmarks/train.py                            # fallback: the tests' token build of tests/data
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curate.manifest import Manifest  # noqa: E402
from train.config import PhaseTrainConfig, TrainConfig  # noqa: E402
from train.loop import train  # noqa: E402
from train.model import build_model, document_mask  # noqa: E402
from train.skill_graph import mixers_phase  # noqa: E402


def load_build(build: Path | None, tmp: Path) -> Manifest:
    if build is not None:
        return Manifest.load(build)
    from tests.train_support import token_build

    return token_build(tmp / "build").manifest


def bare_tokens_per_s(cfg: TrainConfig, vocab_size: int, steps: int, doc_mask: bool) -> float:
    """Model + AdamW on one random batch; ``doc_mask``: with the trainer's 4D document mask (4 docs
    per row) instead of the plain causal path."""
    model = build_model(cfg, vocab_size, 0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95))
    ids = torch.randint(0, vocab_size, (cfg.batch_rows, cfg.seq_len))
    segment = (torch.arange(cfg.seq_len) * 4 // cfg.seq_len).repeat(cfg.batch_rows, 1)
    kwargs = {"attention_mask": document_mask(segment)} if doc_mask else {}
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=ids, **kwargs).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return steps * cfg.batch_rows * cfg.seq_len / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=None)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--hidden-size", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch-rows", type=int, default=8)
    args = ap.parse_args()
    cfg = TrainConfig(hidden_size=args.hidden_size, num_layers=args.layers, seq_len=args.seq_len,
                      batch_rows=args.batch_rows, holdout_frac=0.0, eval_every=10**9,
                      checkpoint_every=10**9, phases={"bench": PhaseTrainConfig(schedule="constant")})
    bare_before = bare_tokens_per_s(cfg, 4096, args.steps, doc_mask=False)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = load_build(args.build, Path(tmp))
        vocab = manifest.tokenizer.vocab_size
        phases = (mixers_phase("bench", args.steps * cfg.tokens_per_step, "source", {}),)
        summary = train(manifest, phases, cfg, 0, Path(tmp) / "run")
        params = sum(p.numel() for p in build_model(cfg, vocab, 0).parameters())
    bare = (bare_before + bare_tokens_per_s(cfg, vocab, args.steps, doc_mask=False)) / 2
    masked = bare_tokens_per_s(cfg, vocab, args.steps, doc_mask=True)
    print(f"model: {params / 1e6:.2f}M params (vocab {vocab}), {args.steps} steps of "
          f"{cfg.tokens_per_step} tokens, torch threads {torch.get_num_threads()}")
    print(f"ours (full trainer): {summary['tokens_per_s']:8.0f} tokens/s, data wait "
          f"{100 * summary['data_wait_frac']:.2f}% of step time")
    print(f"bare model loop:     {bare:8.0f} tokens/s (mean of a run before and after ours)")
    print(f"bare + doc mask:     {masked:8.0f} tokens/s (the cost of no cross-document attention)")
    print(f"ratio ours/bare:     {summary['tokens_per_s'] / bare:8.2f}")
    print(f"ratio ours/bare+mask:{summary['tokens_per_s'] / masked:8.2f}")


if __name__ == "__main__":
    main()
