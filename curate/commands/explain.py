"""curate explain RECIPE: print the plan (sources and sizes, steps with every parameter, outputs)."""

from __future__ import annotations

from pathlib import Path

from curate.commands.sections import add_set_argument

HELP = "print the plan of a recipe (sources and sizes, steps and all parameters, outputs); run nothing"


def add_arguments(p) -> None:
    p.add_argument("recipe", type=Path, help="recipe TOML file")
    add_set_argument(p)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.2f} MB"


def run(args) -> int:
    from curate.plan import plan_fragments, plan_stages, unique_files
    from curate.config import to_table
    from curate.commands.sections import load_full_recipe

    recipe = load_full_recipe(args.recipe, args.overrides)
    fragments = plan_fragments(recipe)
    files = unique_files(fragments)
    print(f"recipe {recipe.name!r} (seed {recipe.seed}), fingerprint {recipe.fingerprint()[:16]}")
    print(f"sources ({len(recipe.sources)}; {len(files)} files, {len(fragments)} fragments, "
          f"{_mb(sum(f.path.stat().st_size for f in files))}):")
    for src in recipe.sources:
        mine = [f for f in files if f.source is src]
        size = sum(f.path.stat().st_size for f in mine)
        print(f"  {src.name}: {len(mine)} files, {_mb(size)}, format {src.format or 'from extension'}, "
              f"fields {to_table(src.fields)}")
        for f in mine[:5]:
            print(f"    {f.rel_path} ({_mb(f.path.stat().st_size)})")
        if len(mine) > 5:
            print(f"    ... {len(mine) - 5} more")
    print("steps:")
    for stage in plan_stages(recipe.steps):
        for i, step in stage.steps:
            print(f"  {i}: {step.name} {to_table(step)}")
        if stage.global_step:
            i, step = stage.global_step
            print(f"  {i}: {step.name} {to_table(step)}  [global: runs once over all fragments]")
    out = recipe.output
    print(f"output: {out.dir}")
    print(f"  shards/*.parquet (<= {out.max_shard_rows:,} docs, <= {_mb(out.max_shard_bytes)} each, "
          f"{out.compression}), rejected/ ({out.rejected}), quarantine/, manifest.json, stats.json")
    return 0
