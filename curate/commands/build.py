"""curate build RECIPE: run a recipe to Parquet shards, manifest.json and stats.json."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from curate.commands.sections import add_set_argument
from curate.storage import location

HELP = "run a recipe: inputs -> steps -> Parquet shards + manifest.json + stats.json"


def add_arguments(p) -> None:
    p.add_argument("recipe", type=Path, help="recipe TOML file")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1); output is identical for any N")
    p.add_argument("--out", type=location, default=None,
                   help="override [output].dir (relative to the current dir, or an s3:// URI)")
    p.add_argument("--overwrite", action="store_true", help="replace a previous build in the output dir")
    p.add_argument("--strict", action="store_true", help="fail on the first bad record instead of quarantining it")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--profile", action="store_true",
                   help="add per-step CPU time, bytes and docs in/out and peak RSS per worker to stats.json "
                   "(its `profile` key; shown by `curate stats`); nothing else changes")
    add_set_argument(p)
    p.add_argument("--confine", type=Path, action="append", default=[], metavar="ROOT",
                   help="(repeatable) every input, output and step file must resolve inside a ROOT "
                   "(symlinks followed): for recipes you did not write")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where tasks run: local process pool (default) or Ray; output is identical")
    p.add_argument("--ray-address", default=None, metavar="auto|HOST:PORT",
                   help="join this Ray cluster (with --engine ray); default: start a local Ray runtime of --workers CPUs")


def run(args) -> int:
    import sys

    from curate.build import build, empty_build_message
    from curate.errors import RecipeError
    from curate.progress import ProgressBar
    from curate.commands.sections import load_full_recipe

    from curate.startup import skip_pandas_probe

    if args.workers < 1:
        raise RecipeError(f"--workers={args.workers} is out of range; allowed: >= 1")
    skip_pandas_probe()
    recipe = load_full_recipe(args.recipe, args.overrides)
    if args.out is not None:
        recipe = dataclasses.replace(recipe, output=dataclasses.replace(recipe.output, dir=args.out.resolve()))
    progress = None if args.no_progress else ProgressBar
    from curate.engines import make_engine

    engine = make_engine(args.engine, args.workers, args.ray_address)
    try:
        manifest = build(recipe, workers=args.workers, overwrite=args.overwrite, strict=args.strict,
                         progress=progress, confine=tuple(args.confine), engine=engine,
                         profile=args.profile)
    finally:
        engine.close()
    from curate.commands.stats import print_funnel

    print_funnel(manifest.root)
    empty = empty_build_message(manifest.root)
    if empty:
        print(f"curate build: WARNING: {empty}", file=sys.stderr)
    print(f"wrote {len(manifest.shards)} shards to {manifest.root / 'shards'}")
    return 0
