"""The plan of a build: input *fragments* (the unit of parallel work) and *stages* (the step list
cut after each global step). Both depend only on the recipe and the input files, never on the
number of workers, which is what makes the output identical for any ``--workers N``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate.pipeline import is_global
from curate.recipe import Recipe, SourceSpec, source_files
from curate.storage import is_remote


@dataclasses.dataclass(frozen=True)
class Fragment:
    """One unit of parallel work: a whole input file, or a range of a Parquet file's row groups
    (``row_groups`` = (start, stop), whose first row is row ``first_row`` of the file)."""

    index: int
    source: SourceSpec
    path: Path
    rel_path: str
    row_groups: tuple[int, int] | None = None
    first_row: int = 0
    size: int = 0
    mtime_ns: int = 0

    def identity(self) -> dict[str, Any]:
        """What the fragment's work depends on, recorded in run.json and every done marker and
        compared on resume: the file (relative path, size, mtime_ns) and its row-group range. A
        remote object would record its ETag or content hash under ``"version"`` instead of mtime."""
        return {"path": self.rel_path, "size": self.size, "mtime_ns": self.mtime_ns,
                "row_groups": list(self.row_groups) if self.row_groups else None}


def input_change(recorded: list[dict[str, Any]], fragments: list[Fragment]) -> str | None:
    """How the input set differs from a recorded one (``identity()`` per fragment), as one phrase
    naming the first changed, added or removed file; None when identical."""
    now = [f.identity() for f in fragments]
    if recorded == now:
        return None
    old_paths = {r.get("path") for r in recorded}
    new_paths = {r["path"] for r in now}
    for r in recorded:
        if r.get("path") not in new_paths:
            return f"input {r.get('path')} was removed"
    for r in now:
        if r["path"] not in old_paths:
            return f"input {r['path']} was added"
    old = {r.get("path"): r for r in recorded}
    for r in now:
        o = old[r["path"]]
        if (o.get("size"), o.get("mtime_ns")) != (r["size"], r["mtime_ns"]):
            return (f"input {r['path']} changed (size {o.get('size')} -> {r['size']} bytes, "
                    f"mtime_ns {o.get('mtime_ns')} -> {r['mtime_ns']})")
    for r in now:
        if [o for o in recorded if o.get("path") == r["path"]] != [n for n in now if n["path"] == r["path"]]:
            return f"input {r['path']} is split into different fragments"
    return "the inputs are in a different order"


@dataclasses.dataclass(frozen=True)
class Stage:
    index: int
    steps: list[tuple[int, Any]]
    global_step: tuple[int, Any] | None


def plan_stages(steps: tuple[Any, ...]) -> list[Stage]:
    """Cut the step list after each global step."""
    stages, current = [], []
    for i, step in enumerate(steps):
        if is_global(step):
            stages.append(Stage(len(stages), current, (i, step)))
            current = []
        else:
            current.append((i, step))
    stages.append(Stage(len(stages), current, None))
    return stages


def _row_group_ranges(path: Path, fragment_rows: int) -> list[tuple[int, int, int]]:
    """(start, stop, first_row) ranges of row groups holding about ``fragment_rows`` rows each."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError):
        return []  # unreadable: one fragment, the reader quarantines it
    ranges, start, first, rows, total = [], 0, 0, 0, 0
    for g in range(meta.num_row_groups):
        rows += meta.row_group(g).num_rows
        if rows >= fragment_rows or g == meta.num_row_groups - 1:
            ranges.append((start, g + 1, first))
            start, first, total, rows = g + 1, total + rows, total + rows, 0
    return ranges if len(ranges) > 1 else []


def plan_fragments(recipe: Recipe) -> list[Fragment]:
    """Input files in recipe order; large Parquet files split at row-group boundaries. The plan
    depends only on the recipe and the files, never on the worker count."""
    from curate.readers import detect_format

    base = recipe.path.parent
    out: list[Fragment] = []
    for source, path in source_files(recipe):
        rel = str(path) if is_remote(path) else os.path.relpath(path, base)  # a URI names itself
        st = path.stat()
        ident = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        ranges = []
        if (source.format or detect_format(path)) == "parquet":
            ranges = _row_group_ranges(path, source.fragment_rows)
        if not ranges:
            out.append(Fragment(len(out), source, path, rel, **ident))
        for start, stop, first in ranges:
            out.append(Fragment(len(out), source, path, rel, (start, stop), first, **ident))
    return out


def unique_files(fragments: list[Fragment]) -> list[Fragment]:
    """The first fragment of each input file, in order (for sizes and the manifest's inputs)."""
    seen: set[Path] = set()
    return [f for f in fragments if not (f.path in seen or seen.add(f.path))]
