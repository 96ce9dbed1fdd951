"""rephrase step throughput (local backend) vs a hand-written ``model.generate()`` loop, same
model, same prompts, same run.

    python benchmarks/rephrase.py [--model RUN/final] [--docs N] [--max-new-tokens T] [--repeats R]

Model: a `curate train` output folder (default: out/meco-standard-train/final when it exists, else
a seeded random 4 x 128 Llama with a 4096-token BPE trained on the web sample, the trainer's
default size). Texts: the first N documents of tests/data/web_sample.jsonl.zst, cut to 1,500
characters. Prompts: the step's own (WRAP medium style, ~300-token chunks), built once and given
to both. Ours: ``Rephrase.expand`` on one Arrow batch (chunking, prompts, batched KV-cached
decoding, cleaning, Arrow output; no cache). Peer: for each prompt, encode, then
``model.generate(input_ids, max_new_tokens=T, do_sample=False)`` (what one writes by hand with
transformers). Greedy, 1 torch thread; generated tokens counted from the peer's outputs. Wall
time, min and median of R interleaved repeats; the share of identical outputs is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's curate, not another installed one

from curate.rephrase.chunking import chunk_text
from curate.rephrase.local import load
from curate.rephrase.prompts import STYLES, clean, completion_prompt
from curate.steps.rephrase import Rephrase
from tests.lm_helpers import tiny_model_dir
from tests.train_support import read_web

TRAINED = REPO / "out" / "meco-standard-train" / "final"


def generate_loop(model_dir: Path, prompts: list[str], max_new_tokens: int) -> tuple[list[str], int]:
    import torch

    model, tok = load(model_dir)
    out, num_tokens = [], 0
    with torch.inference_mode():
        for p in prompts:
            ids = torch.tensor([tok.encode(p).ids])
            gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                                 do_sample=False, pad_token_id=model.config.pad_token_id)
            new = gen[0, ids.shape[1]:].tolist()
            new = [t for t in new if t != model.config.eos_token_id]
            num_tokens += len(new)
            out.append(clean(tok.decode(new, skip_special_tokens=True)))
    return out, num_tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--docs", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    model_dir = args.model or (TRAINED if (TRAINED / "config.json").exists() else None)
    if model_dir is None:
        model_dir = tiny_model_dir(Path(tempfile.mkdtemp()), vocab_size=4096, hidden_size=128, num_layers=4,
                                   num_docs=918)
    texts = [d["text"][:1500] for d in read_web(args.docs)]
    batch = pa.RecordBatch.from_pydict({"id": [f"d{i}" for i in range(len(texts))],
                                        "text": pa.array(texts, pa.large_string())})
    step = Rephrase(model=model_dir, styles=("medium",), max_new_tokens=args.max_new_tokens,
                    batch_size=args.batch_size, min_chars=0)
    backend = step.make_backend()
    load(model_dir)
    prompts = [completion_prompt(STYLES["medium"], c) for t in texts
               for c in chunk_text(t, backend.count_tokens, step.chunk_tokens)]
    times: dict[str, list[float]] = {"curate rephrase": [], "generate() loop": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ours = step.expand(batch)
        times["curate rephrase"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref, num_tokens = generate_loop(model_dir, prompts, args.max_new_tokens)
        times["generate() loop"].append(time.perf_counter() - t0)
    mine = [t for t, s in zip(ours.column("text").to_pylist(), ours.column("style").to_pylist()) if s != "original"]
    same = sum(a == b for a, b in zip(mine, ref)) / len(ref)
    print(f"model {model_dir}  docs {len(texts)}  prompts {len(prompts)}  generated tokens {num_tokens}  "
          f"batch {args.batch_size}  identical outputs {same:.0%}")
    for name, ts in times.items():
        print(f"{name:16s} min {num_tokens / min(ts):7.0f} tokens/s  median {num_tokens / statistics.median(ts):7.0f} "
              f"tokens/s  ({', '.join(f'{t:.1f}' for t in ts)} s)")
    ours_t, peer_t = times["curate rephrase"], times["generate() loop"]
    print(f"ratio curate/generate(): {min(peer_t) / min(ours_t):.2f}x (min), "
          f"{statistics.median(peer_t) / statistics.median(ours_t):.2f}x (median)")


if __name__ == "__main__":
    main()
