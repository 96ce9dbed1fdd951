"""curate eval MODEL_DIR --evals EVALS.toml: score a saved model on fixed eval sets, write eval.json.

LM sets: bits per byte and loss per token; multiple-choice sets: acc and acc_norm, with
lm-evaluation-harness's conventions (train/likelihood.py).
"""

from __future__ import annotations

from pathlib import Path

HELP = "score a saved model on fixed [[eval]] sets (bits per byte, acc, acc_norm); writes eval.json"


def add_arguments(p) -> None:
    p.add_argument("model_dir", type=Path, help="a saved model folder (a run's final/ or phases/NAME/)")
    p.add_argument("--evals", type=Path, required=True, help="TOML file of [[eval]] tables")
    p.add_argument("--max-len", type=int, default=None,
                   help="tokens per scoring window (default: the model's max_position_embeddings, as lm_eval)")
    p.add_argument("--out", type=Path, default=None, help="eval.json path (default MODEL_DIR/eval.json)")


def run(args) -> int:
    from train.eval_model import evaluate_model, write_eval_json
    from train.evalsets import load_evals, load_set

    sets = [load_set(spec) for spec in load_evals(args.evals)]
    result = evaluate_model(args.model_dir, sets, args.max_len)
    out = args.out or args.model_dir / "eval.json"
    write_eval_json(result, out)
    for name, m in result["sets"].items():
        if m["kind"] == "lm":
            print(f"{name}: {m['items']} docs, {m['bits_per_byte']:.4f} bits/byte, "
                  f"{m['loss_per_token']:.4f} loss/token")
        else:
            print(f"{name}: {m['items']} items, acc {m['acc']:.4f}, acc_norm {m['acc_norm']:.4f}")
    print(f"wrote {out}")
    return 0
