"""Near-duplicate clusters: connected components of LSH band-key collisions, in bounded memory.

Documents are numbered 0..N-1 in a fixed order (index documents first, then the build's documents in
input order), so the result never depends on the worker count.

1. **Spill.** Every (band key, document) entry goes to one of ``2^bits`` partition files chosen by
   the key's top bits (``bits`` is set so a partition holds about ``PARTITION_ENTRIES`` entries).
2. **Edges.** Each partition is loaded alone (16 bytes per entry on disk), sorted by key (stable, so
   documents stay in order within a key) and every run of equal keys gives edges from its first
   document to the others. Partitions are independent: they run in ``num_workers`` processes.
3. **Union-find** over all edges (numba, path halving, the smaller index always becomes the root):
   each component's root is its earliest document, whatever order the edges come in.

Memory: the spill files take ``16 * num_bands`` bytes per document on disk. RAM holds, per
worker, one partition being sorted (about 56 bytes per entry at peak: ~230 MB at the default
``PARTITION_ENTRIES`` of 4 Mi entries) and, in the main process, 8 bytes per document for the
union-find parents. The corpus never sits in RAM as Python objects.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing as mp
from pathlib import Path

import numba
import numpy as np

PARTITION_ENTRIES = 4 * 2**20
MAX_PARTITION_BITS = 9  # <= 512 open files; past ~2e9 entries partitions outgrow the target
ENTRY = np.dtype([("key", "<u8"), ("doc", "<i8")])


def partition_bits(num_entries: int, partition_entries: int | None = None) -> int:
    """How many top key bits choose the partition, so each holds ~``partition_entries`` entries
    (default: the module's ``PARTITION_ENTRIES``)."""
    partition_entries = partition_entries or PARTITION_ENTRIES
    if num_entries <= partition_entries:
        return 0
    return min(MAX_PARTITION_BITS, math.ceil(math.log2(num_entries / partition_entries)))


class BandKeySpill:
    """Append-only partition files of (uint64 key, int64 document) entries under ``scratch_dir``."""

    def __init__(self, scratch_dir: Path, bits: int):
        self.bits = bits
        self.dir = scratch_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self._files = [open(self.path(p), "wb") for p in range(2**bits)]
        self.num_entries = 0

    def path(self, partition: int) -> Path:
        return self.dir / f"p{partition:04d}.entries"

    def add(self, keys: np.ndarray, valid: np.ndarray, first_doc: int) -> None:
        """Spill ``keys`` ``[n, num_bands]`` of documents ``first_doc..first_doc+n-1`` (rows where
        ``valid`` is False have no signature and are skipped)."""
        rows = np.flatnonzero(valid)
        entries = np.empty(len(rows) * keys.shape[1], ENTRY)
        entries["key"] = keys[rows].reshape(-1)
        entries["doc"] = np.repeat(rows.astype(np.int64) + first_doc, keys.shape[1])
        self.num_entries += len(entries)
        if self.num_partitions == 1:
            self._files[0].write(entries.tobytes())
            return
        which = (entries["key"] >> np.uint64(64 - self.bits)).astype(np.int64)
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(self.num_partitions + 1))
        for p in range(self.num_partitions):
            if bounds[p + 1] > bounds[p]:
                self._files[p].write(entries[order[bounds[p]:bounds[p + 1]]].tobytes())

    @property
    def num_partitions(self) -> int:
        return 2**self.bits

    def close(self) -> list[Path]:
        for f in self._files:
            f.close()
        return [self.path(p) for p in range(self.num_partitions)]


@numba.njit(cache=True)
def _run_edges(keys, docs, out_a, out_b):
    n = 0
    start = 0
    for k in range(1, len(keys) + 1):
        if k == len(keys) or keys[k] != keys[start]:
            for j in range(start + 1, k):
                if docs[j] != docs[start]:
                    out_a[n] = docs[start]
                    out_b[n] = docs[j]
                    n += 1
            start = k
    return n


def partition_edges(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Edges (first document of a key, other document of that key) of one partition."""
    entries = np.fromfile(path, dtype=ENTRY)
    order = np.argsort(entries["key"], kind="stable")
    keys, docs = entries["key"][order], entries["doc"][order]
    del entries
    out_a = np.empty(len(keys), np.int64)
    out_b = np.empty(len(keys), np.int64)
    n = _run_edges(keys, docs, out_a, out_b)
    return out_a[:n].copy(), out_b[:n].copy()


def all_edges(partitions: list[Path], num_workers: int):
    """Yield the edges of every partition (in partition order), using up to ``num_workers``
    processes."""
    if num_workers <= 1 or len(partitions) <= 1:
        for p in partitions:
            yield partition_edges(p)
        return
    with cf.ProcessPoolExecutor(max_workers=num_workers, mp_context=mp.get_context("fork")) as pool:
        yield from pool.map(partition_edges, partitions)


@numba.njit(cache=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=True)
def union_edges(parent, a, b):
    """Union the pairs ``(a[i], b[i])``; the smaller root index always becomes the root."""
    for i in range(len(a)):
        ra = _find(parent, a[i])
        rb = _find(parent, b[i])
        if ra < rb:
            parent[rb] = ra
        elif rb < ra:
            parent[ra] = rb


@numba.njit(cache=True)
def flatten_roots(parent):
    """Make ``parent[i]`` the root (earliest member) of ``i``'s component, in place. Valid because
    ``parent[i] <= i`` always holds with union-by-smaller-index."""
    for i in range(len(parent)):
        parent[i] = parent[parent[i]]


def connected_components(num_docs: int, edges) -> tuple[np.ndarray, int]:
    """(root of each document, number of edges) over an iterable of (a, b) edge arrays."""
    parent = np.arange(num_docs, dtype=np.int64)
    num_edges = 0
    for a, b in edges:
        union_edges(parent, a, b)
        num_edges += len(a)
    flatten_roots(parent)
    return parent, num_edges


@numba.njit(cache=True)
def _best_by_score(root, score, first, best):
    best_score = np.full(len(root), -np.inf)
    for i in range(first, len(root)):
        r = root[i]
        if best[r] < 0 or score[i - first] > best_score[r]:
            best[r] = i
            best_score[r] = score[i - first]


def kept_members(root: np.ndarray, num_old: int, score: np.ndarray | None) -> np.ndarray:
    """For every document, the member its component keeps: the earliest index document when the
    component has one (new documents never replace old ones), else the earliest document
    (``score`` is None) or the one with the highest score (ties: the earliest)."""
    if score is None:
        return root
    best = np.full(len(root), -1, np.int64)
    _best_by_score(root, score, num_old, best)
    kept = best[root]
    has_old = root < num_old
    kept[has_old] = root[has_old]
    return kept


def size_histogram(sizes: np.ndarray) -> dict[str, int]:
    """Cluster sizes (>= 2) bucketed as "2", "3-4", "5-8", "9-16", ..."""
    sizes = sizes[sizes >= 2]
    out: dict[str, int] = {}
    if len(sizes) == 0:
        return out
    buckets = np.ceil(np.log2(sizes)).astype(np.int64)
    for k, n in zip(*np.unique(buckets, return_counts=True)):
        lo, hi = 2 ** (k - 1) + 1, 2**k
        out[str(hi) if lo == hi else f"{lo}-{hi}"] = int(n)
    return out
