"""Near-duplicate cluster kernels: edges of equal-key runs, and each component's kept row (the
method is in curate/dedup/cluster.py)."""

from __future__ import annotations

import numba

SIGNATURES = {
    "run_edges": "i8(u8[::1], i8[::1], i8[::1], i8[::1])",
    "kept_loop": "void(i8[::1], i8[::1], f8[::1], i8, b1, i8[::1])",
}


@numba.njit(cache=True)
def run_edges(keys, docs, out_a, out_b):
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


@numba.njit(cache=True)
def kept_loop(root, node, score, num_old, by_score, kept_row):
    n = len(root)
    start = 0
    for k in range(1, n + 1):
        if k == n or root[k] != root[start]:
            best = start  # the root itself: rows are sorted by (root, node) and root is a member
            if by_score and root[start] >= num_old:
                best_score = score[start]
                for j in range(start + 1, k):
                    if score[j] > best_score:
                        best, best_score = j, score[j]
            for j in range(start, k):
                kept_row[j] = best
            start = k
