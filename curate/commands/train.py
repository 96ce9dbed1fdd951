"""curate train RECIPE [RECIPE ...]: train a small LM on a finished build, phase by phase.

Reads the recipe's [train] and [[phases]] sections and the build's manifest.json (run
`curate build` first). With several recipes, trains each in turn. To compare recipes (same eval
sets, several seeds, a report), use `curate ablate`.
"""

from __future__ import annotations

from pathlib import Path

from curate.commands.sections import add_set_argument

HELP = "train a small LM on a build's shards: phases, schedules, MeCo, souping, exact resume"


def add_arguments(p) -> None:
    p.add_argument("recipes", type=Path, nargs="+", metavar="RECIPE", help="recipe TOML file(s)")
    p.add_argument("--out", type=Path, default=None, help="run directory (one recipe only); "
                   "default [train].out_dir or <[output].dir>-train")
    p.add_argument("--resume", action="store_true", help="continue the run in the run directory")
    p.add_argument("--plot-lr", type=Path, default=None, metavar="PNG",
                   help="plot the LR schedule of every phase to PNG and exit without training")
    p.add_argument("--estimate-graph", choices=("brute", "linear"), default=None,
                   help="estimate the Skill-It skills graph with short proxy runs and exit")
    p.add_argument("--graph-steps", type=int, default=None,
                   help="proxy-run steps per skill (default: brute 40, linear 8)")
    p.add_argument("--graph-out", type=Path, default=Path("skills_graph.json"),
                   help="where to write the estimated graph (.json or .npy)")
    add_set_argument(p)


def load(recipe_path: Path, out: Path | None, overrides=()):
    """(recipe, manifest, phases, train config, seed, run dir) of one recipe."""
    from curate.commands.sections import load_full_recipe
    from curate.errors import RecipeError
    from curate.manifest import Manifest
    from train.config import TrainConfig

    recipe = load_full_recipe(recipe_path, overrides)
    phases = recipe.section("phases")
    if not phases:
        raise RecipeError(f"{recipe_path}: no [[phases]]; add at least one phase with num_tokens")
    cfg = recipe.section("train") or TrainConfig()
    seed = recipe.seed if cfg.seed is None else cfg.seed
    run_dir = out or cfg.out_dir or Path(str(recipe.output.dir) + "-train")
    return recipe, Manifest.load(recipe.output.dir), phases, cfg, seed, run_dir


def run(args) -> int:
    from curate.errors import RecipeError

    if args.out is not None and len(args.recipes) > 1:
        raise RecipeError("--out works with one recipe; set [train].out_dir in each recipe instead")
    if args.plot_lr is not None:
        return plot_lr(args)
    if args.estimate_graph is not None:
        return estimate_graph(args)
    for path in args.recipes:
        recipe, manifest, phases, cfg, seed, run_dir = load(path, args.out, args.overrides)
        summary = train_one(manifest, phases, cfg, seed, run_dir, args.resume)
        print(f"{recipe.name}: {summary['global_step']} steps, {summary['tokens']:,} tokens, "
              f"{summary['tokens_per_s']:.0f} tokens/s, data wait {100 * summary['data_wait_frac']:.1f}%; "
              f"model in {summary['model_dir']}, log {run_dir / 'log.jsonl'}, plot {run_dir / 'eval.png'}")
    return 0


def train_one(manifest, phases, cfg, seed, run_dir, resume):
    from train.loop import train

    return train(manifest, phases, cfg, seed, run_dir, resume=resume)


def plot_lr(args) -> int:
    from curate.commands.sections import load_full_recipe
    from train.config import TrainConfig
    from train.plan import lr_curves, plan
    from train.plots import plot_lr as plot

    recipe = load_full_recipe(args.recipes[0], args.overrides)
    cfg = recipe.section("train") or TrainConfig()
    phases = recipe.section("phases")
    if not phases:
        from curate.errors import RecipeError

        raise RecipeError(f"{args.recipes[0]}: no [[phases]] to plot")
    curves = lr_curves(plan(phases, cfg))
    plot(curves, args.plot_lr, title=f"{recipe.name}: LR by phase")
    for name, lrs in curves.items():
        print(f"{name}: {len(lrs)} steps, LR {lrs[0]:.3g} -> {lrs[-1]:.3g} (max {max(lrs):.3g})")
    print(f"wrote {args.plot_lr}")
    return 0


def estimate_graph(args) -> int:
    from train.skill_graph import estimate, save_graph

    recipe, manifest, phases, cfg, seed, run_dir = load(args.recipes[0], args.out, args.overrides)
    steps = args.graph_steps or (40 if args.estimate_graph == "brute" else 8)
    graph = estimate(manifest, phases[0], cfg, seed, steps)
    save_graph(graph, args.graph_out)
    print(graph.table())
    print(f"wrote {args.graph_out} ({args.estimate_graph} estimator, {steps} steps per skill)")
    return 0
