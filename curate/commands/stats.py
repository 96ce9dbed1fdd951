"""curate stats DIR: print the funnel of a build (per step and per source); ``--plot`` also draws
it (``funnel.png``, the plot of ``curate card``, in the shared style of ``curate/plots/style.py``)."""

from __future__ import annotations

from pathlib import Path

import orjson

from curate.decon.report import table_lines as contamination_table
from curate.errors import CurateError
from curate.storage import location

HELP = "print a build's funnel: read, dropped per step and reason, quarantined, kept; per source"


def add_arguments(p) -> None:
    p.add_argument("dir", type=location, help="output dir of a build (a path or an s3:// URI)")
    p.add_argument("--json", action="store_true", help="print stats.json as is")
    p.add_argument("--plot", nargs="?", type=Path, const=True, default=None, metavar="FOLDER",
                   help="also write the funnel as FOLDER/funnel.png (default folder: DIR), the card's plot")


def run(args) -> int:
    if args.json:
        print(_load(args.dir) and (args.dir / "stats.json").read_text())
        return 0
    print_funnel(args.dir)
    if args.plot is not None:
        from curate.card.plots import plot_funnel

        folder = args.dir if args.plot is True else args.plot
        folder.mkdir(parents=True, exist_ok=True)
        print(f"plot: {folder / plot_funnel(_load(args.dir), folder)}")
    return 0


def _load(out_dir: Path) -> dict:
    path = out_dir / "stats.json"
    if not path.is_file():
        raise CurateError(f"{out_dir}: no stats.json; is this the output dir of a finished `curate build`?")
    redo = "rerun `curate build` on its recipe (with --overwrite) to rewrite it"
    try:
        stats = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise CurateError(f"{path}: cannot read it ({exc.strerror}); check its permissions") from None
    except orjson.JSONDecodeError as exc:
        raise CurateError(f"{path}: not valid JSON ({exc}), truncated or damaged; {redo}") from None
    problem = shape_problem(stats)
    if problem:
        raise CurateError(f"{path}: {problem}, not what `curate build` writes; {redo}")
    return stats


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _counts_problem(c, where: str, num_steps: int) -> str | None:
    """What is wrong with one counts dict (``curate/stats.py``), or None."""
    if not isinstance(c, dict):
        return f"{where} is not an object"
    for key in ("read", "quarantined", "kept"):
        if not _is_int(c.get(key)):
            return f"{where}.{key} is missing or not an integer"
    steps = c.get("steps")
    if not isinstance(steps, list) or len(steps) != num_steps:
        return f"{where}.steps is not a list of {num_steps} steps"
    for i, step in enumerate(steps):
        here = f"{where}.steps[{i}]"
        if not isinstance(step, dict) or not _is_int(step.get("in")) or not isinstance(step.get("name"), str):
            return f"{here} needs a name and an integer 'in'"
        dropped = step.get("dropped")
        if not isinstance(dropped, dict) or not all(_is_int(n) for n in dropped.values()):
            return f"{here}.dropped is not an object of integer counts"
    return None


DUPLICATE_COUNTS = ("num_duplicates", "num_duplicate_groups", "num_clusters", "num_duplicates_of_index")


def shape_problem(stats) -> str | None:
    """The first key of ``stats`` that ``funnel_lines`` cannot print, or None (the shape is right)."""
    if not isinstance(stats, dict):
        return "the top level is not an object"
    total = stats.get("total")
    num_steps = len(total["steps"]) if isinstance(total, dict) and isinstance(total.get("steps"), list) else 0
    problem = _counts_problem(total, "total", num_steps)
    if problem:
        return problem
    sources = stats.get("sources")
    if not isinstance(sources, dict):
        return "sources is missing or not an object"
    for name, c in sources.items():
        problem = _counts_problem(c, f"sources.{name}", num_steps)
        if problem:
            return problem
    global_steps = stats.get("global_steps", {})
    if not isinstance(global_steps, dict) or not all(isinstance(g, dict) for g in global_steps.values()):
        return "global_steps is not an object of objects"
    for name, g in global_steps.items():
        if any(key in g and not _is_int(g[key]) for key in DUPLICATE_COUNTS):
            return f"global_steps.{name} has a non-integer duplicate count"
    for key in ("seconds", "input_mb_per_s"):
        if isinstance(stats.get(key), bool) or not isinstance(stats.get(key), (int, float)):
            return f"{key} is missing or not a number"
    if "profile" in stats:
        from curate.profile import profile_problem

        return profile_problem(stats["profile"])
    return None


def funnel_lines(stats: dict, out_dir: Path | None = None) -> list[str]:
    """The funnel table; with ``out_dir``, also the tables of the reports there (contamination)."""
    sources = list(stats["sources"])
    width = max([len("step / reason")] + [len(s) for s in sources] + [12])
    head = f"{'':32} " + " ".join(f"{s[:width]:>{width}}" for s in sources + ["total"])
    cols = [stats["sources"][s] for s in sources] + [stats["total"]]

    def row(label: str, values: list) -> str:
        return f"{label[:32]:32} " + " ".join(f"{v:>{width},}" for v in values)

    lines = [head, row("read", [c["read"] for c in cols]), row("quarantined", [c["quarantined"] for c in cols])]
    for i, step in enumerate(stats["total"]["steps"]):
        lines.append(row(f"{i}:{step['name']} in", [c["steps"][i]["in"] for c in cols]))
        for reason in sorted(step["dropped"]):
            lines.append(row(f"  - {reason}", [c["steps"][i]["dropped"].get(reason, 0) for c in cols]))
        for name in sorted(step.get("counts", {})):
            lines.append(row(f"  # {name}", [c["steps"][i].get("counts", {}).get(name, 0) for c in cols]))
    lines.append(row("kept", [c["kept"] for c in cols]))
    for name, g in stats.get("global_steps", {}).items():
        summary = ", ".join(f"{k}={v}" for k, v in g.items() if not isinstance(v, (dict, list)))
        lines.append(f"{name}: {summary}")
        for key, value in g.items():
            if isinstance(value, dict) and value:
                lines.append(f"  {key}: " + _compact(value))
    lines += duplicate_lines(stats)
    if out_dir is not None:
        lines += contamination_table(out_dir)
    if "profile" in stats:
        from curate.profile import profile_lines

        lines += profile_lines(stats["profile"])
    lines.append(f"{stats['seconds']} s, {stats['input_mb_per_s']} MB/s of input")
    return lines


MAX_ITEMS = 12


def _value(v) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float, dict)):
        return str(v)
    if isinstance(v, dict):
        return "{" + _compact(v) + "}"
    return f"{v:,}" if isinstance(v, int) else f"{v:.4g}"


def _compact(d: dict) -> str:
    """``k: v, ...`` for a stats dict (nested dicts inline), at most MAX_ITEMS entries."""
    items = [f"{k}: {_value(v)}" for k, v in list(d.items())[:MAX_ITEMS]]
    if len(d) > MAX_ITEMS:
        items.append(f"... {len(d) - MAX_ITEMS} more (curate stats --json)")
    return ", ".join(items)


DUPLICATE_KINDS = {"exact_dedup": "exact", "minhash_dedup": "near", "url_dedup": "url"}


def duplicate_lines(stats: dict) -> list[str]:
    """One line with the exact and near duplicates removed by the build's dedup steps."""
    parts = []
    for name, g in stats.get("global_steps", {}).items():
        kind = DUPLICATE_KINDS.get(name.split(":", 1)[-1])
        if kind is None:
            continue
        groups = g.get("num_duplicate_groups", g.get("num_clusters", 0))
        text = f"{kind} {g.get('num_duplicates', 0):,} (in {groups:,} groups"
        if g.get("num_duplicates_of_index"):
            text += f"; {g['num_duplicates_of_index']:,} of an earlier index"
        parts.append(text + ")")
    return ["duplicates removed: " + ", ".join(parts)] if parts else []


def print_funnel(out_dir: Path) -> None:
    print("\n".join(funnel_lines(_load(out_dir), out_dir)))
