"""Exact segment repeats: over sorted keys, the removed entries of runs longer than ``max_count``
(the method is in curate/dedup/repeats.py)."""

from __future__ import annotations

import numba

SIGNATURES = {"run_removals": "i8(u8[::1], i8, b1, b1[::1])"}


@numba.njit(cache=True)
def run_removals(keys, max_count, keep_first, out):
    """Over sorted ``keys``: mark in ``out`` the removed entries of runs longer than
    ``max_count`` (all of them, or those after the first ``max_count`` with ``keep_first``);
    returns the number of such runs (repeated keys)."""
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
