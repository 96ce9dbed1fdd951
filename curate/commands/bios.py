"""curate bios OUT_DIR --people N: write bioS synthetic biographies and QA pairs (Physics of LMs 3.1).

Files: bios.jsonl ({"id", "text", "name", "person", "variant"}), qa_train.jsonl and qa_test.jsonl
({"id", "question", "text" (the answer), "person", "attribute"}): QA on the first half of the
people trains, on the second half tests knowledge extraction (train/bios.py)."""

from __future__ import annotations

from pathlib import Path

HELP = "generate bioS synthetic biographies + QA pairs (knowledge storage and extraction experiments)"


def add_arguments(p) -> None:
    p.add_argument("out_dir", type=Path, help="directory for bios.jsonl, qa_train.jsonl, qa_test.jsonl")
    p.add_argument("--people", type=int, default=1000, help="number of people (default 1000)")
    p.add_argument("--variants", type=int, default=1,
                   help="biographies per person, each a fresh template draw (bioS multi; default 1)")
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from curate.errors import RecipeError
    from train.bios import write_bios

    if args.people < 2:
        raise RecipeError(f"--people={args.people} is out of range; allowed: >= 2")
    if args.variants < 1:
        raise RecipeError(f"--variants={args.variants} is out of range; allowed: >= 1")
    try:
        paths = write_bios(args.out_dir, args.people, args.variants, args.seed)
    except ValueError as exc:
        raise RecipeError(f"--people: {exc}") from None
    print(f"wrote {args.people} people x {args.variants} biographies and their QA pairs to {args.out_dir} "
          f"({', '.join(p.name for p in paths.values())})")
    return 0
