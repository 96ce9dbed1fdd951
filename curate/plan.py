"""The plan of a build: input *fragments* (the unit of parallel work) and *stages* (the step list
cut after each global step). Both depend only on the recipe and the input files, never on the
number of workers, which is what makes the output identical for any ``--workers N``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from curate.pipeline import is_global
from curate.readers import COMPRESSED_SUFFIXES, detect_format
from curate.recipe import Recipe, SourceSpec, source_files
from curate.storage import is_remote


@dataclasses.dataclass(frozen=True)
class Fragment:
    """One unit of parallel work: a whole input file, a range of a Parquet file's row groups
    (``row_groups`` = (start, stop)) or a byte range of a plain JSONL file (``byte_range`` =
    [start, stop), cut at line starts); ``first_row`` is the file row (line) the range starts at."""

    index: int
    source: SourceSpec
    path: Path
    rel_path: str
    row_groups: tuple[int, int] | None = None
    first_row: int = 0
    size: int = 0
    mtime_ns: int = 0
    byte_range: tuple[int, int] | None = None

    def identity(self) -> dict[str, Any]:
        """What the fragment's work depends on, recorded in run.json and every done marker and
        compared on resume: the file (relative path, size, mtime_ns) and its row-group or byte
        range. A remote object would record its ETag or content hash under ``"version"`` instead of
        mtime."""
        return {"path": self.rel_path, "size": self.size, "mtime_ns": self.mtime_ns,
                "row_groups": list(self.row_groups) if self.row_groups else None,
                "byte_range": list(self.byte_range) if self.byte_range else None}


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


_COUNT_BYTES = 16 * 2**20  # newline-counting read size of the planning pass


def _count_newlines(f: BinaryIO, start: int, stop: int, buf: bytearray) -> int:
    """Newlines in bytes ``[start, stop)`` of ``f`` (read into ``buf``, counted by numpy)."""
    import numpy as np

    f.seek(start)
    lines, left = 0, stop - start
    view = memoryview(buf)
    while left > 0 and (n := f.readinto(view[:min(len(buf), left)])):
        lines += int(np.count_nonzero(np.frombuffer(buf, np.uint8, n) == 10))
        left -= n
    return lines


def line_ranges(path: Path, fragment_bytes: int) -> list[tuple[int, int, int]]:
    """(start, stop, first_line) byte ranges of a plain text file, each about ``fragment_bytes``
    long and starting at a line start: a range that starts at ``start`` ends just after the first
    newline at or past byte ``start + fragment_bytes - 1`` (or at the end of the file). One pass
    over the file counts the newlines before each cut (~0.3 s of CPU per GB from the page cache).
    [] when the file fits in one range."""
    size = path.stat().st_size
    if size <= fragment_bytes:
        return []
    ranges: list[tuple[int, int, int]] = []
    start = first = 0
    buf, probe = bytearray(_COUNT_BYTES), bytearray(1 << 16)
    with path.open("rb", buffering=0) as f:
        while start < size:
            pos = start + fragment_bytes - 1
            f.seek(pos)
            stop = size
            while n := f.readinto(probe):  # the next newline is usually a line away
                cut = probe.find(b"\n", 0, n)
                if cut >= 0:
                    stop = pos + cut + 1
                    break
                pos += n
            ranges.append((start, stop, first))
            start, first = stop, first + _count_newlines(f, start, stop, buf)
    return ranges if len(ranges) > 1 else []


def _splits_by_line(source: SourceSpec, path: Path) -> bool:
    """A local, uncompressed JSONL file: one that can be read from any byte (gzip and zstd
    streams cannot seek, and remote objects are read whole)."""
    return ((source.format or detect_format(path)) == "jsonl" and not is_remote(path)
            and not path.name.lower().endswith(COMPRESSED_SUFFIXES))


def plan_fragments(recipe: Recipe) -> list[Fragment]:
    """Input files in recipe order; large Parquet files split at row-group boundaries, large plain
    JSONL files at line starts. The plan depends only on the recipe and the files, never on the
    worker count."""

    base = recipe.path.parent
    out: list[Fragment] = []
    for source, path in source_files(recipe):
        rel = str(path) if is_remote(path) else os.path.relpath(path, base)  # a URI names itself
        st = path.stat()
        ident = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        if (source.format or detect_format(path)) == "parquet":
            parts = [{"row_groups": (start, stop), "first_row": first}
                     for start, stop, first in _row_group_ranges(path, source.fragment_rows)]
        elif _splits_by_line(source, path):
            parts = [{"byte_range": (start, stop), "first_row": first}
                     for start, stop, first in line_ranges(path, source.fragment_bytes)]
        else:
            parts = []
        for part in parts or [{}]:  # not split: the whole file
            out.append(Fragment(len(out), source, path, rel, **part, **ident))
    return out


def unique_files(fragments: list[Fragment]) -> list[Fragment]:
    """The first fragment of each input file, in order (for sizes and the manifest's inputs)."""
    seen: set[Path] = set()
    return [f for f in fragments if not (f.path in seen or seen.add(f.path))]
