"""Bloom filter kernels over 64-bit keys: bit test-and-set and saturating byte counters (the
method and sizing are in curate/dedup/bloom.py). Key 0 is "no candidate" and is skipped."""

from __future__ import annotations

import numba
import numpy as np

from curate.dedup.bloom import SATURATED

SIGNATURES = {
    "seen_bits": "void(u8[::1], u8[::1], u8[::1], i8, i8, b1[::1])",
    "over_count_in_order": "void(u8[::1], u8[::1], u1[::1], i8, i8, i8, b1[::1])",
    "add_counts": "void(u8[::1], u8[::1], u1[::1], i8, i8)",
    "over_count": "void(u8[::1], u8[::1], u1[::1], i8, i8, i8, b1[::1])",
}


@numba.njit(cache=True)
def seen_bits(keys, steps, bits, num_slots, num_hashes, out):
    """In order: ``out[i]`` = key i's bits were all set (it was probably seen), then set them.
    Keys 0 are skipped (``out`` False). ``bits`` is uint64 words."""
    m = np.uint64(num_slots)
    for i in range(keys.shape[0]):
        x = keys[i]
        if x == 0:
            continue
        seen = True
        for j in range(num_hashes):
            pos = (x + np.uint64(j) * steps[i]) % m
            word, bit = pos >> np.uint64(6), np.uint64(1) << (pos & np.uint64(63))
            if not (bits[word] & bit):
                seen = False
                bits[word] |= bit
        out[i] = seen


@numba.njit(cache=True)
def estimate(counters, x, step, m, num_hashes):
    """The counting filter's estimate of key ``x``'s count: the minimum of its slots."""
    low = SATURATED
    for j in range(num_hashes):
        c = counters[(x + np.uint64(j) * step) % m]
        if c < low:
            low = c
    return low


@numba.njit(cache=True)
def _increment(counters, x, step, m, num_hashes):
    for j in range(num_hashes):
        pos = (x + np.uint64(j) * step) % m
        if counters[pos] < SATURATED:
            counters[pos] += 1


@numba.njit(cache=True)
def over_count_in_order(keys, steps, counters, num_slots, num_hashes, max_count, out):
    """In order: ``out[i]`` = key i was (probably) seen ``max_count`` times already; else count it.
    Keeps the first ``max_count`` copies of each key."""
    m = np.uint64(num_slots)
    for i in range(keys.shape[0]):
        x = keys[i]
        if x == 0:
            continue
        if estimate(counters, x, steps[i], m, num_hashes) >= max_count:
            out[i] = True
        else:
            _increment(counters, x, steps[i], m, num_hashes)


@numba.njit(cache=True)
def add_counts(keys, steps, counters, num_slots, num_hashes):
    """Count every key (order-independent: saturating sums commute)."""
    m = np.uint64(num_slots)
    for i in range(keys.shape[0]):
        if keys[i] != 0:
            _increment(counters, keys[i], steps[i], m, num_hashes)


@numba.njit(cache=True)
def over_count(keys, steps, counters, num_slots, num_hashes, max_count, out):
    """``out[i]`` = key i's estimated count is above ``max_count`` (after :func:`add_counts`)."""
    m = np.uint64(num_slots)
    for i in range(keys.shape[0]):
        if keys[i] != 0 and estimate(counters, keys[i], steps[i], m, num_hashes) > max_count:
            out[i] = True
