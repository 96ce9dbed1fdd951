"""Finding documents of a finished build: kept ones in its shards, dropped ones in ``rejected/``.

A selection is a set of (file, row) places: every row of the build's shards (or, with a reason,
of its rejected files) that passes the filters, file by file, reading only the columns the filters
need. ``--sample N --seed S`` keeps the N places with the smallest seeded hash of the document id
(``curate.text.hashing.hash_strings``; ties by id): the same documents whatever the sharding or
the number of workers of the build, and a larger N shows a superset. Memory: one file's filter
columns plus N candidates.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.manifest import Manifest
from curate.text.hashing import hash_strings

KEPT = "kept"
REJECTED = "rejected"
#: ``--rejected`` value that selects every dropped document.
ANY_REASON = "any"


@dataclasses.dataclass(frozen=True)
class Place:
    """One row of one Parquet file of the build: ``status`` is kept (a shard) or rejected."""

    status: str
    path: Path
    row: int


@dataclasses.dataclass(frozen=True)
class Found:
    place: Place
    values: dict[str, Any]  # the row, column -> Python value


def shard_files(root: Path) -> list[Path]:
    return Manifest.load(root).shard_paths()


def rejected_files(root: Path) -> list[Path]:
    return sorted((Path(root) / "rejected").glob("*.parquet"))


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        names = pq.read_schema(path).names
        return pq.read_table(path, columns=[c for c in columns if c in names] if columns else None)
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(f"{path}: cannot read it ({str(exc).splitlines()[0]}); the build is incomplete or "
                          "damaged: rebuild with `curate build --overwrite`") from None


def _mask(t: pa.Table, *, ids: set[str] | None, source: str | None, reason: str | None) -> np.ndarray:
    keep = np.ones(t.num_rows, bool)
    if ids is not None:
        keep &= pc.fill_null(pc.is_in(t.column("id"), pa.array(sorted(ids), pa.string())), False).to_numpy(
            zero_copy_only=False)
    if source is not None:
        keep &= pc.fill_null(pc.equal(t.column("source"), source), False).to_numpy(zero_copy_only=False)
    if reason not in (None, ANY_REASON):
        by_reason = pc.fill_null(pc.equal(t.column("reason"), reason), False)
        by_step = pc.fill_null(pc.equal(t.column("step"), reason), False)
        keep &= pc.or_(by_reason, by_step).to_numpy(zero_copy_only=False)
    return keep


def select(root: Path, *, ids: list[str] | None = None, source: str | None = None, reason: str | None = None,
           sample: int | None = None, seed: int = 0) -> list[Place]:
    """The places matching the filters: with ``ids``, where those ids are (kept first, then
    rejected; in shard order); with ``reason`` (a reason, a step name or ``any``), in rejected/
    only; else in the shards. ``sample`` keeps that many by seeded hash of the id."""
    groups = [(REJECTED, rejected_files(root))] if reason is not None else [(KEPT, shard_files(root))]
    if ids is not None and reason is None:
        groups = [(KEPT, shard_files(root)), (REJECTED, rejected_files(root))]
    wanted = set(ids) if ids is not None else None
    places: list[Place] = []
    best: list[tuple[int, str, int, Place]] = []  # (hash, id, order, place): the `sample` smallest so far
    seen = 0
    for status, files in groups:
        for path in files:
            t = _read(path, ["id", "source", "step", "reason"])
            rows = np.flatnonzero(_mask(t, ids=wanted, source=source, reason=reason))
            if sample is None:
                places += [Place(status, path, int(r)) for r in rows]
                continue
            chosen = t.column("id").take(pa.array(rows, pa.int64()))
            hashes = hash_strings(chosen, seed=seed).tolist()
            best += [(h, doc_id or "", seen + k, Place(status, path, int(r)))
                     for k, (h, doc_id, r) in enumerate(zip(hashes, chosen.to_pylist(), rows))]
            seen += len(hashes)
            best = sorted(best, key=lambda c: c[:3])[:sample]
    return places if sample is None else [c[3] for c in best]


def fetch(places: list[Place]) -> list[Found]:
    """The full rows at ``places``, in the given order (each file read once)."""
    by_file: dict[Path, list[int]] = {}
    for p in places:
        by_file.setdefault(p.path, []).append(p.row)
    rows: dict[tuple[Path, int], dict[str, Any]] = {}
    for path, wanted in by_file.items():
        t = _read(path).take(pa.array(sorted(set(wanted))))
        for r, values in zip(sorted(set(wanted)), t.to_pylist()):
            rows[(path, r)] = values
    return [Found(p, rows[(p.path, p.row)]) for p in places]


def find_id(root: Path, doc_id: str) -> Found | None:
    """The document ``doc_id``: its kept row if it has one, else its first rejected row, else None."""
    places = select(root, ids=[doc_id])
    return fetch(places[:1])[0] if places else None
