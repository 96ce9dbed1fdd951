"""Seeded document orders that are the same on every machine and library version.

``epoch_order(n, seed, group_key, epoch)`` sorts the indices 0..n-1 by a splitmix64 hash of
(index, key), where key mixes the seed, the group and the epoch. splitmix64 (Steele et al. 2014,
the seeder of xoshiro) is plain 64-bit integer arithmetic, so unlike ``numpy.random`` streams (whose
algorithms NumPy may change between versions) the order is fixed by this file alone.
"""

from __future__ import annotations

import numpy as np

from curate.text.hashing import MASK64, splitmix64, splitmix64_array


def mix_key(*parts: int) -> int:
    """Fold integers (seed, group key, epoch, ...) into one 64-bit key."""
    key = 0
    for p in parts:
        key = splitmix64(key ^ (p & MASK64))
    return key


def epoch_order(n: int, *key_parts: int) -> np.ndarray:
    """A permutation of ``range(n)`` (int64) determined by ``key_parts`` alone."""
    key = np.uint64(mix_key(*key_parts))
    h = splitmix64_array(np.arange(n, dtype=np.uint64) ^ key)
    return np.argsort(h, kind="stable")
