"""curate mix: plan a recipe's [[phases]] against its build, or materialise one phase's mix.

    curate mix plan RECIPE [--phase P] [--json] [--plot [FOLDER]]
    curate mix DIR --phase P [--recipe RECIPE] [--out OUT] [--seed S] [--holdout-frac F] [--overwrite]

``plan`` prints, per phase and group: tokens available (in the built manifest of the recipe's
output dir), requested, epochs implied, share of the phase and the cap. ``DIR`` (a build output
dir) materialises phase P as ordered Parquet shards with their own manifest.json in ``--out``
(default ``DIR/mix/<phase>``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from curate.commands.sections import add_set_argument, load_full_recipe
from curate.errors import CurateError, RecipeError
from curate.storage import location

HELP = "plan the recipe's [[phases]] (`mix plan RECIPE`) or write one phase's mixed shards (`mix DIR --phase P`)"


def add_arguments(p) -> None:
    p.add_argument("target", help="'plan' (then RECIPE), or the build output DIR to materialise a phase from")
    p.add_argument("recipe_arg", nargs="?", type=Path, metavar="RECIPE", help="recipe TOML (with `plan`)")
    p.add_argument("--phase", help="phase name (required to materialise; with plan: only this phase)")
    p.add_argument("--recipe", type=Path, help="recipe with the [[phases]] (default: the build's recipe)")
    p.add_argument("--out", type=location,
                   help="output dir of the mix, a path or an s3:// URI (default: DIR/mix/<phase>)")
    p.add_argument("--seed", type=int, help="sampler seed (default: the recipe seed)")
    p.add_argument("--holdout-frac", type=float, default=0.0, help="leave this fraction of documents out "
                   "(the trainer's validation set; same hash as mixers.holdout_refs)")
    p.add_argument("--max-shard-rows", type=int, default=100_000, help="documents per output shard")
    p.add_argument("--overwrite", action="store_true", help="replace a previous mix in --out")
    p.add_argument("--json", action="store_true", help="plan: print JSON instead of a table")
    p.add_argument("--plot", nargs="?", type=Path, const=True, default=None, metavar="FOLDER",
                   help="plan: also write FOLDER/phases.png, available vs planned tokens and epochs per group "
                        "(default folder: the build's output dir; the plot of `curate card`)")
    add_set_argument(p)


def _phases(recipe, only: str | None):
    phases = recipe.section("phases")
    if not phases:
        raise RecipeError(f"{recipe.path}: no [[phases]] section; add one (see README 'Mixing and phases')")
    if only is None:
        return list(phases)
    chosen = [p for p in phases if p.name == only]
    if not chosen:
        raise RecipeError(f"--phase {only!r}: no such phase; phases: {', '.join(p.name for p in phases)}")
    return chosen


def _load_build(recipe):
    from curate.manifest import MANIFEST_NAME, Manifest

    root = recipe.output.dir
    if not (root / MANIFEST_NAME).is_file():
        raise CurateError(f"the build of {recipe.path.name} is not done: no {MANIFEST_NAME} in {root}; "
                          f"run `curate build {recipe.path}` first (mixing needs the token counts)")
    return Manifest.load(root)


def run(args) -> int:
    if args.target == "plan":
        return _run_plan(args)
    if args.recipe_arg is not None:
        raise CurateError(f"unexpected argument {str(args.recipe_arg)!r}; did you mean `curate mix plan RECIPE`?")
    return _run_materialize(args)


def _run_plan(args) -> int:
    from mixers.index import build_index
    from mixers.plan import plan_phase

    if args.recipe_arg is None:
        raise CurateError("usage: curate mix plan RECIPE")
    recipe = load_full_recipe(args.recipe_arg, args.overrides)
    phases = _phases(recipe, args.phase)
    manifest = _load_build(recipe)
    if manifest.fingerprint != recipe.fingerprint():
        print(f"warning: {manifest.root} was built from a different version of the recipe's build sections")
    seed = recipe.seed if args.seed is None else args.seed
    indexes, plans = {}, []
    for phase in phases:
        if phase.group_by not in indexes:
            indexes[phase.group_by] = build_index(manifest, phase.group_by, seed, args.holdout_frac)
        plans.append(plan_phase(phase, indexes[phase.group_by].tokens()))
    if args.json:
        from mixers.plan import plan_rows

        print(orjson.dumps([{"phase": p.phase.name, "groups": plan_rows(p)} for p in plans],
                           option=orjson.OPT_INDENT_2).decode())
    else:
        print("\n\n".join("\n".join(plan_lines(p)) for p in plans))
    if args.plot is not None:
        from curate.card.plots import plot_phases
        from mixers.plan import plan_rows

        folder = manifest.root if args.plot is True else args.plot
        folder.mkdir(parents=True, exist_ok=True)
        rows = [{"phase": p.phase.name, "num_tokens": p.phase.num_tokens, "groups": plan_rows(p)} for p in plans]
        print(f"plot: {folder / plot_phases(rows, folder)}", file=sys.stderr if args.json else sys.stdout)
    return 0


def plan_lines(plan) -> list[str]:
    from mixers.plan import plan_rows, skill_order_levels

    phase, mix = plan.phase, plan.phase.mixture
    detail = {"temperature": f", T={mix.temperature:g}", "skill_it": f", eta={mix.eta:g}, window={mix.window}"}
    lines = [f"phase {phase.name}: {phase.num_tokens:,} tokens, strategy {mix.strategy}"
             f"{detail.get(mix.strategy, '')}, group_by {phase.group_by}, "
             f"conditioning {'on' if phase.conditioning else 'off'}, caps: max_epochs={mix.max_epochs:g}, "
             f"max_source_frac={mix.max_source_frac:g}"]
    lines.append(f"  {'group':24} {'available':>15} {'requested':>15} {'epochs':>8} {'share':>8}")
    for r in plan_rows(plan):
        lines.append(f"  {r['group'][:24]:24} {r['available']:>15,} {r['requested']:>15,} "
                     f"{r['epochs']:>8.3f} {r['share']:>8.2%}")
    if mix.strategy == "skill_it":
        lines.append("  (skill_it: the initial mixture; the trainer's observe() updates it every round)")
    levels = skill_order_levels(plan)
    if levels:
        for i, (seg, names) in enumerate(zip(plan.segments, levels)):
            lines.append(f"  stage {i}: {seg.num_tokens:,} tokens, adds {', '.join(names)}")
    return lines


def _run_materialize(args) -> int:
    from curate.manifest import Manifest
    from mixers.materialize import MixOutput, materialize

    if not args.phase:
        raise CurateError("--phase is required: curate mix DIR --phase P [--recipe RECIPE]")
    manifest = Manifest.load(args.target)
    recipe_path = args.recipe or Path(manifest.recipe.path)
    if not recipe_path.is_file():
        raise CurateError(f"recipe {recipe_path} not found; pass --recipe RECIPE (the one with the [[phases]])")
    recipe = load_full_recipe(recipe_path, args.overrides)
    (phase,) = _phases(recipe, args.phase)
    if args.max_shard_rows < 1:
        raise CurateError(f"--max-shard-rows={args.max_shard_rows} is out of range; allowed: >= 1")
    out = args.out or location(args.target) / "mix" / phase.name
    seed = recipe.seed if args.seed is None else args.seed
    result = materialize(manifest, phase, seed, out.resolve(), holdout_frac=args.holdout_frac,
                         overwrite=args.overwrite, output=MixOutput(max_shard_rows=args.max_shard_rows))
    for g, c in result.mix["groups"].items():
        print(f"  {g:24} {c['num_docs']:>10,} docs {c['num_tokens']:>15,} tokens")
    print(f"wrote {len(result.shards)} shards of phase {phase.name!r} to {result.root}")
    return 0
