"""lm_score step throughput vs a plain per-document model forward loop, same texts, same run.

    python benchmarks/lm_score.py [--model RUN/final] [--docs N] [--max-tokens T] [--threads K]

Model: a `curate train` output folder (default: out/meco-standard-train/final when it exists, else a
seeded random 4 x 128 Llama with a 4096-token BPE trained on the web sample, the trainer's
default size). Texts: the first N documents of tests/data/web_sample.jsonl.zst.
Baseline ("peer"): what one writes by hand with transformers: for each document, encode, take the
first T ids, ``model(input_ids, labels=input_ids).loss`` in ``torch.inference_mode``. curate's step
gets the same texts as one Arrow batch (as a build feeds it) and pads length-sorted groups.
Both are timed on the wall clock and on this process's CPU time, best of R interleaved repeats;
scored tokens = sum of min(len, T) over documents. The max |difference| of the scores is printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's curate, not another installed one

from curate.steps.lm_score import LmScore, load_model
from tests.lm_helpers import tiny_model_dir
from tests.train_support import read_web

TRAINED = REPO / "out" / "meco-standard-train" / "final"


def plain_loop(model_dir: Path, texts: list[str], max_tokens: int) -> list[float | None]:
    import torch
    from tokenizers import Tokenizer

    model = load_model(model_dir)
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    eos = tok.token_to_id("<|endoftext|>")
    out = []
    with torch.inference_mode():
        for text in texts:
            ids = (tok.encode(text, add_special_tokens=False).ids + [eos])[:max_tokens]
            x = torch.tensor([ids])
            out.append(model(input_ids=x, labels=x).loss.item() if len(ids) >= 2 else None)
    return out


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    model_dir = args.model or (TRAINED if (TRAINED / "config.json").exists() else None)
    if model_dir is None:
        model_dir = tiny_model_dir(Path(tempfile.mkdtemp()), vocab_size=4096, hidden_size=128, num_layers=4,
                                   num_docs=918)
    texts = [d["text"] for d in read_web(args.docs)]
    batch = pa.RecordBatch.from_pydict({"text": pa.array(texts, pa.large_string())})
    step = LmScore(model=model_dir, max_tokens=args.max_tokens)
    load_model(model_dir)
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.repeats):
        for name, fn in (("curate lm_score", lambda: step.annotate(batch).column("lm_loss").to_pylist()),
                         ("plain forward loop", lambda: plain_loop(model_dir, texts, args.max_tokens))):
            scores, wall, cpu = timed(fn)
            best[name] = min(best.get(name, (wall, cpu)), (wall, cpu))
            if name.startswith("curate"):
                mine = scores
            else:
                ref = scores
    num_tokens = int(np.minimum(step._text_ids(batch.column("text"))[1], args.max_tokens).sum())
    diff = max(abs(a - b) for a, b in zip(mine, ref) if a is not None)
    print(f"model {model_dir}  docs {len(texts)}  scored tokens {num_tokens}  threads {args.threads}  "
          f"max |diff| {diff:.2e}")
    for name, (wall, cpu) in best.items():
        print(f"{name:20s} {num_tokens / wall:9.0f} tokens/s wall  {num_tokens / cpu:9.0f} tokens/s cpu")
    (w0, c0), (w1, c1) = best["curate lm_score"], best["plain forward loop"]
    print(f"ratio curate/plain: {w1 / w0:.2f}x wall, {c1 / c0:.2f}x cpu")


if __name__ == "__main__":
    main()
