"""Near-duplicate clusters: connected components of LSH band-key collisions, as file shuffles.

Documents are numbered 0..N-1 in a fixed order (index documents first, then the build's documents in
input order), so the result never depends on the engine, the worker count or the partitioning.
Every function here is pure (arrays in, arrays out); ``curate/dedup/resolve.py`` runs them as the
map and reduce tasks of an engine, with the files in between.

1. **Band keys -> edges.** Map tasks send every (band key, document) entry to one of ``2^bits``
   key partitions (the key's top bits; ``bits`` gives ~``PARTITION_ENTRIES`` entries each). A reduce
   task sorts its partition by key (stable: documents stay in order within a key) and every run of
   equal keys gives edges from its first document to the others (:func:`key_edges`).
2. **Connected components by alternating large-star / small-star** (Kiveris et al., "Connected
   Components in MapReduce and Beyond", SoCC 2014). Each round is one shuffle of the edge list,
   partitioned by document range; a reduce task sees every neighbour of its nodes and rewires them
   (:func:`star_round`). Rounds alternate large-star (every larger neighbour of ``u`` links to the
   smallest of ``u`` and its neighbours, ``m(u)``) and small-star (``u`` and its smaller neighbours
   link to ``m(u)``); both keep the components. The loop stops at the first round whose input has no
   *violation*, a node with a smaller neighbour and more than one neighbour: such a graph is a
   forest of stars, each centred on its component's smallest document, so ``root(u) =
   min(u, neighbours(u))`` (:func:`star_roots`) is exactly what a union-find by smallest index gives.
   Rounds needed: O(log^2 n) worst case, about log2 of the largest cluster's diameter in practice.
3. **Keep rule** (``curate/dedup/resolve.py``): each component's members meet at its root's
   partition, which picks the kept document (:func:`kept_of_groups`).

Memory per reduce task: one key partition (16 bytes per entry on disk; ~56 per entry while sorting,
~230 MB at the default ``PARTITION_ENTRIES`` of 4 Mi entries) or the edges of one document range
(16 bytes per directed edge, 2 per undirected edge). The driver holds nothing per document.
"""

from __future__ import annotations

import math

import numpy as np

from curate import kernels

PARTITION_ENTRIES = 4 * 2**20
MAX_PARTITION_BITS = 9  # <= 512 open files; past ~2e9 entries partitions outgrow the target


def partition_bits(num_entries: int, partition_entries: int | None = None) -> int:
    """How many top key bits choose the partition, so each holds ~``partition_entries`` entries
    (default: the module's ``PARTITION_ENTRIES``)."""
    partition_entries = partition_entries or PARTITION_ENTRIES
    if num_entries <= partition_entries:
        return 0
    return min(MAX_PARTITION_BITS, math.ceil(math.log2(num_entries / partition_entries)))


def key_edges(keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges (first document of a key, other document of that key) of one key partition, whose
    entries arrive in document order."""
    order = np.argsort(keys, kind="stable")
    keys, docs = keys[order], docs[order]
    out_a = np.empty(len(keys), np.int64)
    out_b = np.empty(len(keys), np.int64)
    n = kernels.load("cluster").run_edges(np.ascontiguousarray(keys, np.uint64),
                                          np.ascontiguousarray(docs, np.int64), out_a, out_b)
    return out_a[:n].copy(), out_b[:n].copy()


def _grouped(u: np.ndarray, v: np.ndarray):
    """Directed edges sorted by (u, v) without repeats, with each node's first row and degree."""
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    fresh = np.ones(len(u), bool)
    fresh[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v = u[fresh], v[fresh]
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]]) if len(u) else np.zeros(0, np.int64)
    degree = np.diff(np.r_[starts, len(u)])
    return u, v, starts, degree


def star_round(u: np.ndarray, v: np.ndarray, large: bool) -> tuple[np.ndarray, np.ndarray, int, int]:
    """One large-star (``large``) or small-star step over the directed edges ``u -> v`` of a set of
    nodes ``u`` (every neighbour of each such node present). Returns the new undirected edges
    ``(x, y)`` (``x != y``; repeats possible), the number of violations in the input (nodes with a
    smaller neighbour and more than one neighbour; 0 = converged) and the input's edge count."""
    u, v, starts, degree = _grouped(u.astype(np.int64), v.astype(np.int64))
    if len(u) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, 0, 0
    node, first = u[starts], v[starts]
    m_node = np.minimum(node, first)
    violations = int(((first < node) & (degree > 1)).sum())
    m = np.repeat(m_node, degree)
    if large:
        sel = v > u
        x, y = v[sel], m[sel]
    else:
        sel = (v < u) & (v != m)
        moved = m_node != node
        x = np.concatenate([v[sel], node[moved]])
        y = np.concatenate([m[sel], m_node[moved]])
    return x, y, violations, len(u)


def star_roots(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(node, root) of every node ``u`` of a converged star forest: root = min(u, neighbours)."""
    u, v, starts, _ = _grouped(u.astype(np.int64), v.astype(np.int64))
    node = u[starts]
    return node, np.minimum(node, v[starts])


def kept_of_groups(root: np.ndarray, node: np.ndarray, score: np.ndarray | None,
                   num_old: int) -> np.ndarray:
    """For member rows sorted by (root, node), the row of the member each component keeps: the
    root (its earliest document; an index document when the component has one, so new documents
    never replace old ones), or with ``score`` the highest-scoring member (ties: the earliest)."""
    kept_row = np.empty(len(root), np.int64)
    by_score = score is not None
    score = np.ascontiguousarray(score if by_score else np.zeros(len(root)), np.float64)
    kernels.load("cluster").kept_loop(np.ascontiguousarray(root, np.int64), np.ascontiguousarray(node, np.int64),
                                      score, num_old, by_score, kept_row)
    return kept_row


def size_histogram(size_counts: dict[int, int]) -> dict[str, int]:
    """Cluster sizes (>= 2) given as {size: number of clusters}, bucketed as "2", "3-4", "5-8"..."""
    out: dict[str, int] = {}
    for size in sorted(size_counts):
        if size < 2:
            continue
        k = math.ceil(math.log2(size))
        lo, hi = 2 ** (k - 1) + 1, 2**k
        name = str(hi) if lo == hi else f"{lo}-{hi}"
        out[name] = out.get(name, 0) + int(size_counts[size])
    return out
