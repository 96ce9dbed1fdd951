"""curate steps: list the steps a recipe can use, with their parameters and docs."""

from __future__ import annotations

from curate.config import MISSING, describe

HELP = "list the steps a recipe can use, with parameters, defaults and one-line docs"


def add_arguments(p) -> None:
    p.add_argument("name", nargs="?", help="show one step only")


def run(args) -> int:
    from curate.steps.registry import STEPS, step_class

    for name in STEPS:
        if args.name and name != args.name:
            continue
        cls = step_class(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name}: {' '.join(line.strip() for line in doc)}")
        for f in describe(cls):
            default = "(required)" if f.default is MISSING else f"= {f.default!r}"
            print(f"    {f.name} ({f.type_name}) {default}: {f.doc}")
        print()
    return 0
