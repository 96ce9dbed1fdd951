"""Which segment occurrences to remove, corpus-wide: the global half of ``line_dedup`` and
``paragraph_dedup``, exact or with a Bloom filter, identical for any worker count.

Input: the segment keys of every document in input order (``curate/text/segments.py``; key 0 =
no candidate), numbered 0..N-1. Output: a ``removed`` byte per occurrence (1 = remove), in a file
under the scratch dir (``np.memmap``: 1 byte per segment on disk, paged, not held in RAM).

Rule: a key occurring more than ``max_count`` times in the corpus is *repeated*. ``keep_first``
removes its occurrences after the first ``max_count`` in input order (dolma's and datatrove's
keep-the-first-copy for ``max_count = 1``); otherwise every occurrence of a repeated key goes
(boilerplate seen in many documents leaves all of them).

- **exact**: (key, occurrence) entries (16 bytes each) are spilled to ``2^bits`` partition files by
  the key's top bits (a file shuffle, ``curate/engines/shuffle.py``, ~4 Mi entries each);
  each partition is sorted alone (stable: occurrences stay in input order within a key) in
  ``num_workers`` processes, and its runs longer than ``max_count`` give the removals. RAM: one
  partition per worker (~230 MB); the result does not depend on how partitions are scheduled.
- **bloom** (``curate/dedup/bloom.py``): ``keep_first`` is one pass in input order in this process
  (a bit filter for ``max_count = 1``, else saturating byte counters); otherwise a counting pass
  (order-independent) then a decision pass. RAM: the filter. A false positive removes an
  occurrence that the exact method keeps (at most the stated rate of unique segments); nothing
  the exact method removes is ever kept.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
from pathlib import Path
from typing import Callable, Iterator

import numba
import numpy as np
import pyarrow as pa

from curate import pool
from curate.dedup import bloom
from curate.dedup.cluster import partition_bits
from curate.dedup.resolve import ENTRIES
from curate.engines import shuffle

KeyBatches = Callable[[], Iterator[np.ndarray]]  # yields uint64 key arrays in input order, anew per call


@dataclasses.dataclass(frozen=True)
class Removals:
    path: Path  # uint8 per occurrence; empty file when there are none
    num_segments: int
    stats: dict


def open_removed(path: Path, start: int, count: int) -> np.ndarray:
    """``removed[start:start+count]`` as bool, read from the file (safe in forked workers)."""
    if count == 0:
        return np.zeros(0, bool)
    return np.memmap(path, np.uint8, "r", offset=start, shape=(count,)).astype(bool)


def _removed_file(path: Path, num_segments: int) -> np.ndarray | None:
    path.write_bytes(b"")
    if num_segments == 0:
        return None
    with open(path, "r+b") as f:
        f.truncate(num_segments)
    return np.memmap(path, np.uint8, "r+", shape=(num_segments,))


@numba.njit(cache=True)
def run_removals(keys, max_count, keep_first, out):
    """Over sorted ``keys``: mark in ``out`` the removed entries of runs longer than
    ``max_count``; returns the number of such runs (repeated keys)."""
    repeated = 0
    start = 0
    n = keys.shape[0]
    for k in range(1, n + 1):
        if k == n or keys[k] != keys[start]:
            if k - start > max_count:
                repeated += 1
                first = start + max_count if keep_first else start
                for j in range(first, k):
                    out[j] = True
            start = k
    return repeated


def _partition_removals(spill_dir: Path, partition: int, *, max_count: int,
                        keep_first: bool) -> tuple[Path, int, int]:
    """Write the removed occurrences of one shuffle partition to ``p{partition}.removed``; returns
    (that file, number of removals, number of repeated keys)."""
    table = shuffle.read_partition(spill_dir, partition, ENTRIES)
    shutil.rmtree(spill_dir / f"p{partition:05d}", ignore_errors=True)
    keys, occurrences = table.column("key").to_numpy(), table.column("doc").to_numpy()
    del table
    order = np.argsort(keys, kind="stable")
    keys, occurrences = keys[order], occurrences[order]
    del order
    out = np.zeros(len(keys), bool)
    repeated = run_removals(keys, max_count, keep_first, out)
    done = spill_dir / f"p{partition:05d}.removed"
    spill_dir.mkdir(parents=True, exist_ok=True)  # a corpus without candidates spilled nothing
    occurrences[out].tofile(done)
    return done, int(out.sum()), int(repeated)


def exact_removals(key_batches: KeyBatches, scratch: Path, *, num_segments: int, num_candidates: int,
                   max_count: int, keep_first: bool, num_workers: int) -> Removals:
    """The removals by the exact method (module docstring); ``num_segments`` / ``num_candidates``
    are the totals of ``key_batches`` (all keys / non-zero keys)."""
    bits, spill_dir = partition_bits(num_candidates), scratch / "segments"
    spill = shuffle.PartitionWriter(spill_dir, "spill", ENTRIES, 2**bits)
    offset = 0
    for keys in key_batches():
        rows = np.flatnonzero(keys != 0)
        key = keys[rows].astype(np.uint64)
        which = (key >> np.uint64(64 - bits)).astype(np.int64) if bits else np.zeros(len(key), np.int64)
        spill.write(pa.table({"key": key, "doc": rows.astype(np.int64) + offset}, schema=ENTRIES), which)
        offset += len(keys)
    spill.close()
    work = functools.partial(_partition_removals, spill_dir, max_count=max_count, keep_first=keep_first)
    results = pool.run_pool(work, list(range(2**bits)), num_workers, label=lambda p: f"segment partition {p}")
    path = scratch / "removed.u8"
    removed = _removed_file(path, num_segments)
    for done, _, _ in results:
        if removed is not None:
            removed[np.fromfile(done, np.int64)] = 1
        done.unlink()
    if removed is not None:
        removed.flush()
    return Removals(path, num_segments, {
        "num_segments": num_segments, "num_candidates": num_candidates,
        "num_partitions": len(results), "num_repeated": sum(r[2] for r in results),
        "num_removed": sum(r[1] for r in results)})


def bloom_removals(key_batches: KeyBatches, scratch: Path, *, num_segments: int, num_candidates: int,
                   max_count: int, keep_first: bool, fp_rate: float, max_bytes: int) -> Removals:
    """The removals with a Bloom filter (module docstring), sized for ``num_candidates`` keys."""
    bits_only = keep_first and max_count == 1
    size = bloom.bloom_size(num_candidates, fp_rate, max_bytes, counting=not bits_only)
    table = np.zeros(size.num_slots // 64 if bits_only else size.num_slots,
                     np.uint64 if bits_only else np.uint8)
    path = scratch / "removed.u8"
    removed = _removed_file(path, num_segments)
    if not keep_first:
        for keys in key_batches():
            bloom.add_counts(keys, bloom.second_hashes(keys), table, size.num_slots, size.num_hashes)
    offset, num_removed = 0, 0
    for keys in key_batches():
        out = np.zeros(len(keys), bool)
        steps = bloom.second_hashes(keys)
        if bits_only:
            bloom.seen_bits(keys, steps, table, size.num_slots, size.num_hashes, out)
        elif keep_first:
            bloom.over_count_in_order(keys, steps, table, size.num_slots, size.num_hashes, max_count, out)
        else:
            bloom.over_count(keys, steps, table, size.num_slots, size.num_hashes, max_count, out)
        if removed is not None:
            removed[offset:offset + len(keys)] = out
        offset += len(keys)
        num_removed += int(out.sum())
    if removed is not None:
        removed.flush()
    return Removals(path, num_segments, {
        "num_segments": num_segments, "num_candidates": num_candidates, "num_removed": num_removed,
        "bloom_kind": "bits" if bits_only else "counters", "bloom_bytes": size.num_bytes,
        "bloom_hashes": size.num_hashes, "bloom_fp_rate": round(size.fp_rate, 8)})


def warm_up() -> None:
    """Compile the kernels once (before the runner forks its workers)."""
    keys = np.array([3, 3, 0, 5], np.uint64)
    run_removals(np.sort(keys), 1, True, np.zeros(4, bool))
    size = bloom.bloom_size(4, 0.01, 1 << 20, counting=True)
    steps = bloom.second_hashes(keys)
    counters = np.zeros(size.num_slots, np.uint8)
    bloom.add_counts(keys, steps, counters, size.num_slots, size.num_hashes)
    bloom.over_count(keys, steps, counters, size.num_slots, size.num_hashes, 1, np.zeros(4, bool))
    bloom.over_count_in_order(keys, steps, counters, size.num_slots, size.num_hashes, 1, np.zeros(4, bool))
    bloom.seen_bits(keys, steps, np.zeros(size.num_slots // 64, np.uint64), size.num_slots, size.num_hashes,
                    np.zeros(4, bool))
