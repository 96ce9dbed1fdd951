"""Duplicate and repetition statistics of text segments (lines, paragraphs, word n-grams), in numba.

Segments are identified by 64-bit keys (equal text -> equal key; collisions ~2^-64 per pair), so
the statistics reduce to sorting keys:

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


@numba.njit(cache=True, nogil=True)
def dup_stats(keys, lens, n):
    """(number of duplicate segments, their total length) of ``keys[:n]`` / ``lens[:n]``."""
    if n < 2:
        return 0, 0
    order = np.argsort(keys[:n])
    dups = 0
    chars = 0
    for k in range(1, n):
        if keys[order[k]] == keys[order[k - 1]]:
            dups += 1
            chars += lens[order[k]]
    return dups, chars


@numba.njit(cache=True, nogil=True)
def top_repeat_chars(keys, lens, n):
    """Length x count of the most frequent of ``keys[:n]`` (first seen wins ties)."""
    order = np.argsort(keys[:n], kind="mergesort")
    best_count, best_first, best_len = 0, n, 0
    k = 0
    while k < n:
        j = k
        while j + 1 < n and keys[order[j + 1]] == keys[order[k]]:
            j += 1
        count = j - k + 1
        first = order[k]
        if count > best_count or (count == best_count and first < best_first):
            best_count, best_first, best_len = count, first, lens[first]
        k = j + 1
    return best_len * best_count


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
