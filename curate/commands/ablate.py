"""curate ablate A.toml B.toml ... --evals EVALS.toml --out DIR: change the data, train the same
proxy model with the same tokens and seeds, evaluate every arm on the same fixed sets, compare.

Arms are recipe files and/or ``--arm NAME:KEY=VALUE,...`` variants of the first recipe; see
train/ablate/. Re-running the same command resumes: finished (arm, seed) pairs are reused.
Writes DIR/report.md and DIR/report.html (plots in DIR/plots/).
"""

from __future__ import annotations

from pathlib import Path

from curate.commands.sections import add_set_argument

HELP = "compare recipes: build, train the same model on each over several seeds, evaluate, report"


def add_arguments(p) -> None:
    p.add_argument("recipes", type=Path, nargs="+", metavar="RECIPE",
                   help="recipe TOML files, one arm each; the first is the base of --arm variants")
    p.add_argument("--evals", type=Path, required=True, help="TOML file of [[eval]] tables scored for every arm")
    p.add_argument("--out", type=Path, required=True, help="ablation directory (runs, report.md, report.html)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per arm: 0 .. N-1 (default 3)")
    p.add_argument("--baseline", default=None, help="arm the others are compared to (default: the first)")
    p.add_argument("--arm", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]",
                   help="a variant of the first recipe with these overrides (repeatable)")
    add_set_argument(p)


def run(args) -> int:
    from transformers.utils import logging as hf_logging

    from curate.errors import RecipeError
    from train.ablate.arms import make_arms
    from train.ablate.report import write_report
    from train.ablate.runner import run_ablation

    if not 1 <= args.seeds <= 100:
        raise RecipeError(f"--seeds={args.seeds} is out of range; allowed: 1 <= --seeds <= 100")
    arms = make_arms(list(args.recipes), list(args.arm))
    baseline = args.baseline or arms[0].name
    if baseline not in [a.name for a in arms]:
        raise RecipeError(f"--baseline {baseline!r} is not an arm; arms: {', '.join(a.name for a in arms)}")
    hf_logging.disable_progress_bar()
    seeds = list(range(args.seeds))
    overrides = tuple(args.overrides)
    arm_runs = run_ablation(arms, args.evals, args.out, seeds, overrides)
    md, html = write_report(arm_runs, args.out, baseline, seeds, overrides)
    print(f"wrote {md} and {html}")
    return 0
