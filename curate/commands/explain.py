"""curate explain RECIPE: print the plan (sources and sizes, steps with every parameter, outputs)."""

from __future__ import annotations

from pathlib import Path

from curate.commands.sections import add_set_argument

HELP = "print the plan of a recipe (sources and sizes, steps and all parameters, outputs); run nothing"


#: Documents assumed per input byte where the file does not say (JSONL, WARC): ~2 KB per document.
BYTES_PER_DOC = 2000


def add_arguments(p) -> None:
    p.add_argument("recipe", type=Path, help="recipe TOML file")
    add_set_argument(p)
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="engine to plan for")
    p.add_argument("--workers", type=int, default=1, help="workers (local) or CPUs (ray) to plan for")


def _estimated_docs(fragments) -> tuple[int, bool]:
    """(documents, exact?): Parquet footers give row counts, other formats are estimated."""
    import pyarrow.parquet as pq

    from curate.plan import unique_files

    total, exact = 0, True
    for f in unique_files(fragments):
        try:
            total += pq.ParquetFile(f.path).metadata.num_rows
        except Exception:  # not Parquet: estimate from the size
            total += max(1, f.path.stat().st_size // BYTES_PER_DOC)
            exact = False
    return total, exact


def print_engine_plan(recipe, fragments, engine: str, workers: int) -> None:
    """Tasks per stage, shuffle partitions and expected shuffle bytes, for ``engine``."""
    from curate.plan import plan_stages

    num_docs, exact = _estimated_docs(fragments)
    where = "local process pool" if engine == "local" else "Ray"
    print(f"engine plan ({where}, {workers} worker(s); {'' if exact else '~'}{num_docs:,} documents"
          f"{'' if exact else ' estimated at 2 KB each'}):")
    for stage in plan_stages(recipe.steps):
        names = ", ".join(step.name for _, step in stage.steps) or "(no steps)"
        print(f"  stage {stage.index}: {len(fragments)} fragment tasks [{names}]")
        if stage.global_step:
            step = stage.global_step[1]
            planned = getattr(step, "planned_phases", None)
            phases = planned(len(fragments), num_docs) if planned else [("select", 1, 0)]
            for phase, tasks, num_bytes in phases:
                shuffle = f", ~{_mb(num_bytes)} shuffled" if num_bytes else ""
                print(f"    {step.name}.{phase}: {tasks} task(s){shuffle}")


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
    print_engine_plan(recipe, fragments, args.engine, args.workers)
    out = recipe.output
    print(f"output: {out.dir}")
    print(f"  shards/*.parquet (<= {out.max_shard_rows:,} docs, <= {_mb(out.max_shard_bytes)} each, "
          f"{out.compression}), rejected/ ({out.rejected}), quarantine/, manifest.json, stats.json")
    return 0
