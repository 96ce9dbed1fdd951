"""``--confine ROOT``: every path a recipe reads or writes must resolve inside the given roots.

Threat model: a recipe shared by someone else is data, but its paths point anywhere the user can
read (``paths = ["/etc/shadow"]`` with ``format = "jsonl"`` copies lines into ``quarantine/``
excerpts) or write (``[output] dir``, ``save_index``). Under ``--confine``, every input file, the
output dir, and every path-valued step parameter (models, word lists, indexes) is resolved with
``os.path.realpath`` (symlinks followed, ``..`` removed) and must lie inside one of the roots, also
resolved; otherwise the build stops before reading anything, with one line naming the path.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Iterator

from curate.errors import RecipeError


def _inside(path: Path, roots: list[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real == r or r in real.parents for r in roots)


def _step_paths(step: Any) -> Iterator[tuple[str, Path]]:
    for field in dataclasses.fields(step):
        value = getattr(step, field.name)
        values = value if isinstance(value, (tuple, list)) else (value,)
        for v in values:
            if isinstance(v, Path):
                yield field.name, v
            elif dataclasses.is_dataclass(v):  # a nested table (decontaminate's eval_sets)
                yield from ((f"{field.name}.{name}", path) for name, path in _step_paths(v))


def check_confined(recipe: Any, input_paths: list[Path], roots: tuple[Path, ...]) -> None:
    """Raise :class:`RecipeError` for the first input, output or step path outside ``roots``."""
    real_roots = [Path(os.path.realpath(r)) for r in roots]
    allowed = ", ".join(str(r) for r in real_roots)
    for path in input_paths:
        if not _inside(path, real_roots):
            raise RecipeError(f"sources: input {path} resolves to {os.path.realpath(path)}, outside the "
                              f"--confine roots ({allowed}); move it inside or widen --confine")
    if not _inside(recipe.output.dir, real_roots):
        raise RecipeError(f"output.dir {recipe.output.dir} resolves outside the --confine roots ({allowed}); "
                          "choose a dir inside them with --out")
    for i, step in enumerate(recipe.steps):
        for name, path in _step_paths(step):
            if not _inside(path, real_roots):
                raise RecipeError(f"steps[{i}].{name} = {path} resolves outside the --confine roots "
                                  f"({allowed}); move the file inside or widen --confine")
