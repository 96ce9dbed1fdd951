"""Which segment occurrences to remove, corpus-wide: the global half of ``line_dedup`` and
``paragraph_dedup``, exact or with a Bloom filter, identical for any worker count and engine.

Input: the prepared parts, whose ``column`` holds each document's segment keys
(``curate/text/segments.py``; key 0 = no candidate); occurrences are numbered 0..N-1 in input
order. Output: the removed occurrence numbers, in a file shuffle partitioned by part
(``<scratch>/<phase>/p{part}/``), read back by :func:`removed_mask` in each part's decision task.

Rule: a key occurring more than ``max_count`` times in the corpus is *repeated*. ``keep_first``
removes its occurrences after the first ``max_count`` in input order (dolma's and datatrove's
keep-the-first-copy for ``max_count = 1``); otherwise every occurrence of a repeated key goes
(boilerplate seen in many documents leaves all of them).

Engine phases (``ResolveContext.phase``; each committed, so a killed build resumes mid-resolve):

===========  ==========================  ====================================================
phase        tasks                       writes
===========  ==========================  ====================================================
seg_counts   one per part                nothing (segments and candidates per part)
seg_spill    one per part (exact)        (key, occurrence) -> key partitions (top key bits)
seg_repeats  one per key partition       removed occurrences -> partitions by part
seg_bloom    one (bloom)                 removed occurrences -> partitions by part
===========  ==========================  ====================================================

- **exact**: (key, occurrence) entries (16 bytes each) go to ``2^bits`` key partitions (~4 Mi
  entries each); each partition is sorted alone (stable: occurrences stay in input order within a
  key, as map files are read in part order) and its runs longer than ``max_count`` give the
  removals. RAM: one partition per task (~230 MB).
- **bloom** (``curate/dedup/bloom.py``): ``keep_first`` is one pass in input order in one task (a
  bit filter for ``max_count = 1``, else saturating byte counters); otherwise a counting pass
  (order-independent) then a decision pass. RAM: the filter, in that task. A false positive
  removes an occurrence that the exact method keeps (at most the stated rate of unique segments);
  nothing the exact method removes is ever kept.

The driver holds per-part and per-partition counts only. Disk: 16 bytes per candidate (exact
spill) and 8 per removed occurrence, under the output dir (local or object storage).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import kernels
from curate.dedup import bloom
from curate.dedup.cluster import partition_bits
from curate.dedup.resolve import ENTRIES
from curate.engines import shuffle

READ_ROWS = 16384
REMOVED = pa.schema([("occurrence", pa.int64())])


@dataclasses.dataclass(frozen=True)
class Plan:
    """Where one resolve's removals live: ``starts[i]`` is part i's first occurrence number
    (``starts[-1]`` the total); ``removed`` the phase whose dir holds them."""

    scratch: Path
    column: str
    starts: tuple[int, ...]
    bits: int
    max_count: int
    keep_first: bool
    removed: str

    def dir(self, phase: str) -> Path:
        return self.scratch / phase


def part_keys(path: Path, column: str) -> Iterator[np.ndarray]:
    """A part's segment keys (uint64), a record batch at a time, in order."""
    part = pq.ParquetFile(path)
    if part.metadata.num_rows:
        for batch in part.iter_batches(columns=[column], batch_size=READ_ROWS):
            yield batch.column(0).flatten().to_numpy(zero_copy_only=False)


def run_removals(keys: np.ndarray, max_count: int, keep_first: bool, out: np.ndarray) -> int:
    """Over sorted ``keys``: mark in ``out`` (bool) the removed entries of runs longer than
    ``max_count``; returns the number of such runs (repeated keys). Kernel:
    ``curate/kernels/repeats.py``."""
    keys = np.ascontiguousarray(keys, np.uint64)
    return kernels.load("repeats").run_removals(keys, max_count, keep_first, out)


def count_task(args: tuple[Path, str]) -> dict[str, int]:
    """Map: a part's number of segments and of candidates (non-zero keys)."""
    path, column = args
    segments = candidates = 0
    for keys in part_keys(path, column):
        segments += len(keys)
        candidates += int(np.count_nonzero(keys))
    return {"segments": segments, "candidates": candidates}


def spill_task(args: tuple[Plan, int, Path]) -> dict[str, int]:
    """Map (exact): a part's (key, occurrence) entries -> key partitions."""
    plan, i, path = args
    out = shuffle.PartitionWriter(plan.dir("seg_spill"), f"m{i:06d}", ENTRIES, 2**plan.bits)
    offset = plan.starts[i]
    for keys in part_keys(path, plan.column):
        rows = np.flatnonzero(keys != 0)
        key = keys[rows].astype(np.uint64)
        which = (key >> np.uint64(64 - plan.bits)).astype(np.int64) if plan.bits else np.zeros(len(key), np.int64)
        out.write(pa.table({"key": key, "doc": rows.astype(np.int64) + offset}, schema=ENTRIES), which)
        offset += len(keys)
    return {"bytes": out.close()}


def _write_removed(plan: Plan, name: str, occurrences: np.ndarray) -> int:
    """Removed occurrence numbers -> the partition of the part holding each."""
    starts = np.asarray(plan.starts, np.int64)
    part = np.searchsorted(starts, occurrences, side="right") - 1
    table = pa.table({"occurrence": occurrences.astype(np.int64)}, schema=REMOVED)
    return shuffle.write_partitions(plan.dir(plan.removed), name, table, part, len(starts) - 1)


def repeats_task(args: tuple[Plan, int]) -> dict[str, int]:
    """Reduce (exact): one key partition's removals (runs longer than ``max_count``)."""
    plan, k = args
    table = shuffle.read_partition(plan.dir("seg_spill"), k, ENTRIES)
    keys, occurrences = table.column("key").to_numpy(), table.column("doc").to_numpy()
    del table
    order = np.argsort(keys, kind="stable")
    keys, occurrences = keys[order], occurrences[order]
    del order
    out = np.zeros(len(keys), bool)
    repeated = run_removals(keys, plan.max_count, plan.keep_first, out)
    written = _write_removed(plan, f"k{k:05d}", np.sort(occurrences[out]))
    return {"removed": int(out.sum()), "repeated": int(repeated), "bytes": written}


def bloom_task(args: tuple[Plan, list[Path], int, float, int]) -> dict[str, Any]:
    """The Bloom method over every part, in input order, in one task (module docstring)."""
    plan, paths, num_candidates, fp_rate, max_bytes = args
    bits_only = plan.keep_first and plan.max_count == 1
    size = bloom.bloom_size(num_candidates, fp_rate, max_bytes, counting=not bits_only)
    table = np.zeros(size.num_slots // 64 if bits_only else size.num_slots,
                     np.uint64 if bits_only else np.uint8)
    if not plan.keep_first:
        for path in paths:
            for keys in part_keys(path, plan.column):
                bloom.add_counts(keys, bloom.second_hashes(keys), table, size.num_slots, size.num_hashes)
    num_removed = written = 0
    for i, path in enumerate(paths):
        offset = plan.starts[i]
        for b, keys in enumerate(part_keys(path, plan.column)):
            out = np.zeros(len(keys), bool)
            steps = bloom.second_hashes(keys)
            if bits_only:
                bloom.seen_bits(keys, steps, table, size.num_slots, size.num_hashes, out)
            elif plan.keep_first:
                bloom.over_count_in_order(keys, steps, table, size.num_slots, size.num_hashes, plan.max_count, out)
            else:
                bloom.over_count(keys, steps, table, size.num_slots, size.num_hashes, plan.max_count, out)
            if out.any():
                written += _write_removed(plan, f"m{i:06d}-{b:06d}", np.flatnonzero(out) + offset)
            offset += len(keys)
            num_removed += int(out.sum())
    return {"num_removed": num_removed, "bloom_kind": "bits" if bits_only else "counters",
            "bloom_bytes": size.num_bytes, "bloom_hashes": size.num_hashes,
            "bloom_fp_rate": round(size.fp_rate, 8), "bytes": written}


def removed_mask(plan: Plan, i: int) -> np.ndarray:
    """Part i's occurrences, True where removed."""
    lo, hi = plan.starts[i], plan.starts[i + 1]
    mask = np.zeros(hi - lo, bool)
    mask[shuffle.read_partition(plan.dir(plan.removed), i, REMOVED).column("occurrence").to_numpy() - lo] = True
    return mask


def find_removals(ctx: Any, column: str, *, method: str, max_count: int, keep_first: bool,
                  fp_rate: float = 0.001, max_bytes: int = 2**30) -> tuple[Plan, dict[str, Any]]:
    """Run the phases (module docstring) over ``ctx.part_paths``; returns the plan (for
    :func:`removed_mask`) and the stats."""
    counts = ctx.phase("seg_counts", count_task, [(p, column) for p in ctx.part_paths])
    starts = tuple(np.r_[0, np.cumsum([c["segments"] for c in counts], dtype=np.int64)].astype(int).tolist())
    num_candidates = sum(c["candidates"] for c in counts)
    stats: dict[str, Any] = {"num_segments": starts[-1], "num_candidates": num_candidates}
    if method == "exact":
        plan = Plan(ctx.scratch_dir, column, starts, partition_bits(num_candidates), max_count, keep_first,
                    "seg_repeats")
        ctx.phase("seg_spill", spill_task, [(plan, i, p) for i, p in enumerate(ctx.part_paths)])
        found = ctx.phase("seg_repeats", repeats_task, [(plan, k) for k in range(2**plan.bits)])
        ctx.drop("seg_spill")
        stats.update(num_partitions=len(found), num_repeated=sum(r["repeated"] for r in found),
                     num_removed=sum(r["removed"] for r in found))
    else:
        plan = Plan(ctx.scratch_dir, column, starts, 0, max_count, keep_first, "seg_bloom")
        found = ctx.phase("seg_bloom", bloom_task, [(plan, list(ctx.part_paths), num_candidates, fp_rate, max_bytes)])
        stats.update({k: v for k, v in found[0].items() if k != "bytes"})
    return plan, stats
