"""curate diff DIR_A DIR_B: the documents one build kept and the other dropped, grouped by the
step and reason that dropped them (``curate/inspect/build_diff.py``)."""

from __future__ import annotations

from pathlib import Path

HELP = "compare two builds: documents one kept and the other dropped, by the step and reason"


def add_arguments(p) -> None:
    p.add_argument("dir_a", type=Path, help="output dir of build A")
    p.add_argument("dir_b", type=Path, help="output dir of build B")


def run(args) -> int:
    from curate.inspect.build_diff import diff_lines

    print("\n".join(diff_lines(args.dir_a, args.dir_b)))
    return 0
