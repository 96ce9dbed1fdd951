"""Duplicate and repetition statistics of text segments (lines, paragraphs, word n-grams), in numba:
helpers of the ``gopher_repetition`` and ``fineweb_quality`` families (no exports).

Segments are identified by 64-bit keys (equal text -> equal key; collisions ~2^-64 per pair), so
the statistics reduce to one pass over the keys with an open-addressing table (load <= 1/2; no sort):

- :func:`dup_stats`: datatrove's ``find_duplicates``: how many segments repeat an earlier one and
  their total length (order-independent: every copy after the first counts).
- :func:`top_repeat_chars`: ``find_top_duplicate``: length x count of the most frequent segment
  (ties go to the one seen first, as ``Counter.most_common``).
- :func:`greedy_dup_chars`: ``find_all_duplicate``: scan n-grams left to right, skip ``n`` words
  after each repeat, summing the repeated characters (order-dependent: an open-addressing set).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def _slot(key, bits):
    """Home slot of ``key`` in a table of ``2**bits`` slots (multiplicative hashing: the keys'
    low bits are weak for polynomial hashes)."""
    return np.int64((key * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))


@numba.njit(cache=True, nogil=True)
def _table_bits(n):
    """Bits of a table with at least ``2 * n`` slots (and at least 2)."""
    bits = 1
    while (1 << bits) < 2 * n:
        bits += 1
    return bits


@numba.njit(cache=True, nogil=True)
def dup_stats(keys, lens, n):
    """(number of duplicate segments, their total length) of ``keys[:n]`` / ``lens[:n]``."""
    if n < 2:
        return 0, 0
    bits = _table_bits(n)
    mask = (1 << bits) - 1
    table = np.empty(1 << bits, np.uint64)
    used = np.zeros(1 << bits, np.bool_)
    dups = 0
    chars = 0
    for i in range(n):
        key = keys[i]
        slot = _slot(key, bits)
        while used[slot] and table[slot] != key:
            slot = (slot + 1) & mask
        if used[slot]:
            dups += 1
            chars += lens[i]
        else:
            used[slot] = True
            table[slot] = key
    return dups, chars


@numba.njit(cache=True, nogil=True)
def top_repeat_chars(keys, lens, n):
    """Length x count of the most frequent of ``keys[:n]`` (first seen wins ties)."""
    if n == 0:
        return 0
    bits = _table_bits(n)
    mask = (1 << bits) - 1
    table = np.empty(1 << bits, np.uint64)
    counts = np.zeros(1 << bits, np.int64)  # 0: empty slot
    firsts = np.empty(1 << bits, np.int64)
    best_count, best_first = 0, n
    for i in range(n):
        key = keys[i]
        slot = _slot(key, bits)
        while counts[slot] and table[slot] != key:
            slot = (slot + 1) & mask
        if counts[slot] == 0:
            table[slot], firsts[slot] = key, i
        counts[slot] += 1
        count, first = counts[slot], firsts[slot]
        if count > best_count or (count == best_count and first < best_first):
            best_count, best_first = count, first
    return lens[best_first] * best_count


@numba.njit(cache=True, nogil=True)
def greedy_dup_chars(keys, lens, num_ngrams, step, table):
    """datatrove's ``find_all_duplicate`` over n-gram ``keys``/``lens`` (``step`` = n): the
    characters of n-grams already seen, jumping ``step`` n-grams after each repeat. ``table`` is a
    zeroed uint64 scratch array whose size is a power of two > 2 * num_ngrams; it is re-zeroed."""
    mask = table.shape[0] - 1
    repeated = 0
    idx = 0
    while idx < num_ngrams:
        key = keys[idx] | np.uint64(1)
        slot = np.int64(key >> np.uint64(17)) & mask
        found = False
        while table[slot] != 0:
            if table[slot] == key:
                found = True
                break
            slot = (slot + 1) & mask
        if found:
            repeated += lens[idx]
            idx += step
        else:
            table[slot] = key
            idx += 1
    for i in range(table.shape[0]):
        table[i] = 0
    return repeated
