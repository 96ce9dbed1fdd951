"""curate generate MODEL_DIR: sample from a trained model, optionally steered by a prefix."""

from __future__ import annotations

from pathlib import Path

HELP = "generate text from a trained model with a conditioning prefix (e.g. a MeCo URL)"


def add_arguments(p) -> None:
    p.add_argument("model_dir", type=Path, help="a saved model dir (e.g. <run>/final)")
    p.add_argument("--prompt", default="", help="text to continue")
    p.add_argument("--prefix", default="", help=r"conditioning prefix, e.g. 'URL: en.wikipedia.org\n\n' "
                   r"(\n is read as a newline)")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=0.7, help="0 = greedy")
    p.add_argument("--top-p", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from curate.errors import CurateError
    from train.generate import generate

    if not (args.model_dir / "config.json").is_file():
        raise CurateError(f"{args.model_dir}: no config.json; give a model dir written by curate train")
    text = generate(args.model_dir, prompt=args.prompt.replace("\\n", "\n"),
                    prefix=args.prefix.replace("\\n", "\n"), max_new_tokens=args.max_new_tokens,
                    temperature=args.temperature, top_p=args.top_p, seed=args.seed)
    print(args.prompt.replace("\\n", "\n") + text)
    return 0
