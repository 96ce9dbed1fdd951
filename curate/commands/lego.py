"""curate lego OUT_DIR: write the LEGO synthetic task as one JSONL source per skill (Skill-It).

Each line: {"id", "question" (the shuffled chain + " ?"), "text" (the answer), "skill"}."""

from __future__ import annotations

from pathlib import Path

HELP = "generate the LEGO reasoning task (one JSONL file per skill) for Skill-It experiments"


def add_arguments(p) -> None:
    p.add_argument("out_dir", type=Path, help="directory for skill1.jsonl ... skillN.jsonl")
    p.add_argument("--num-docs", type=int, default=2000, help="documents per skill (default 2000)")
    p.add_argument("--num-vars", type=int, default=5, help="chain length = number of skills (default 5)")
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from curate.errors import RecipeError
    from train.lego import write_lego

    if not 2 <= args.num_vars <= 26:
        raise RecipeError(f"--num-vars={args.num_vars} is out of range; allowed: 2..26")
    if args.num_docs < 1:
        raise RecipeError(f"--num-docs={args.num_docs} is out of range; allowed: >= 1")
    paths = write_lego(args.out_dir, args.num_docs, args.num_vars, args.seed)
    print(f"wrote {len(paths)} skills x {args.num_docs} documents to {args.out_dir}")
    return 0
