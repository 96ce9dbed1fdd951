"""MeCo conditional inference: held-out pages scored after their true URL prefix, a wrong one, none.

    python benchmarks/meco_conditional.py out/ablate/meco/meco-seed0/final [more model dirs ...]

Each page of ``out/ablate-data/eval/web_urls.jsonl.zst`` (held out of recipes/ablate/meco's training
file) is cut to its first ``--chars`` characters so that prefix + page fit one trained window, then
scored as the continuation of a context (train/likelihood.py ``choice_request``, lm_eval's pairing):
``true`` = ``URL: <its domain>\\n\\n`` (the prefix step's ``url_domain`` text), ``wrong`` = the prefix
of the next page in the file (a different site), ``none`` = no context. Reported: bits per byte of
the page text only (the prefix is context, never scored), per model and mean over models.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def true_prefixes(urls: list[str]) -> list[str]:
    """The prefix step's own ``url_domain`` text of each URL (``URL: host\\n\\n``)."""
    import pyarrow as pa

    from curate.steps.prefix import Prefix

    batch = pa.RecordBatch.from_pydict({"url": pa.array(urls, pa.string())})
    return Prefix().annotate(batch).column("prefix_text").to_pylist()


def main() -> int:
    sys.path.insert(0, str(REPO))
    import orjson
    import zstandard

    from train.eval_model import load_model
    from train.likelihood import bits_per_byte, choice_request, score_requests

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--eval", type=Path, default=REPO / "out" / "ablate-data" / "eval" / "web_urls.jsonl.zst")
    ap.add_argument("--chars", type=int, default=300)
    ap.add_argument("--max-len", type=int, default=128)
    args = ap.parse_args()
    raw = zstandard.ZstdDecompressor().stream_reader(args.eval.open("rb")).read()
    rows = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
    texts = [r["text"][:args.chars] for r in rows]
    true = true_prefixes([r["url"] for r in rows])
    contexts = {"true": true, "wrong": true[1:] + true[:1], "none": [""] * len(rows)}
    num_bytes = sum(len(t.encode("utf-8")) for t in texts)
    results: dict[str, list[float]] = {k: [] for k in contexts}
    for model_dir in args.models:
        model, encode, prefix = load_model(model_dir)
        for name, ctx in contexts.items():
            requests = [choice_request(c, t, encode, prefix, args.max_len) for c, t in zip(ctx, texts)]
            results[name].append(bits_per_byte(-float(score_requests(model, requests).sum()), num_bytes))
        print(model_dir, {k: round(v[-1], 4) for k, v in results.items()}, flush=True)
    for name, xs in results.items():
        std = statistics.stdev(xs) if len(xs) > 1 else 0.0
        print(f"| {name} URL | {statistics.mean(xs):.4f} ± {std:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
