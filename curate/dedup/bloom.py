"""Bloom filters over 64-bit keys: sizing maths and the numba kernels of ``line_dedup`` /
``paragraph_dedup``'s ``method = "bloom"``.

A filter has ``m`` slots and ``h`` hash functions; key ``x`` uses slots ``(x + i * y) mod m`` for
``i < h`` with ``y = splitmix64(x) | 1`` (Kirsch and Mitzenmacher 2006: two hashes are as good as
``h``). Two kinds:

- **bits** (1 bit per slot): "seen before?" test-and-set, for keeping the first copy only;
- **counters** (1 byte per slot, saturating at 255): a counting Bloom filter whose estimate of a
  key's count is the minimum of its slots; it never under-counts, and over-counts only when every
  slot of the key is shared with other keys.

Sizing for ``n`` keys and a false-positive rate ``p`` (the probability that a key never added
looks added, or a counter estimate exceeds the true count): ``m = ceil(-n ln p / (ln 2)^2)``,
``h = round(m / n * ln 2)`` (1 to 16), so ``p = (1 - exp(-h n / m))^h``: 14.4 bits per key at
p = 0.001, 9.6 at 0.01. A memory budget below that caps ``m`` and the stated rate is the one the
capped filter achieves (reported). ``n`` is the number of candidate occurrences, an upper bound
on distinct keys, so the real rate is lower.
"""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np

from curate.text.hashing import splitmix64_array

MAX_HASHES = 16
SATURATED = 255


@dataclasses.dataclass(frozen=True)
class BloomSize:
    num_slots: int
    num_hashes: int
    num_bytes: int
    fp_rate: float  # expected at the number of keys sized for


def expected_fp_rate(num_keys: int, num_slots: int, num_hashes: int) -> float:
    """``(1 - exp(-h n / m))^h``."""
    if num_keys == 0:
        return 0.0
    return (1.0 - math.exp(-num_hashes * num_keys / num_slots)) ** num_hashes


def bloom_size(num_keys: int, fp_rate: float, max_bytes: int, *, counting: bool) -> BloomSize:
    """The filter for ``num_keys`` keys at ``fp_rate``, within ``max_bytes`` (module docstring)."""
    n = max(num_keys, 1)
    slot_bits = 8 if counting else 1
    want = math.ceil(-n * math.log(fp_rate) / math.log(2) ** 2)
    slots = max(64, min(want, max_bytes * 8 // slot_bits))
    slots = -(-slots // 64) * 64
    hashes = int(min(MAX_HASHES, max(1, round(slots / n * math.log(2)))))
    return BloomSize(slots, hashes, slots * slot_bits // 8, expected_fp_rate(num_keys, slots, hashes))


def second_hashes(keys: np.ndarray) -> np.ndarray:
    """The odd step ``y = splitmix64(x) | 1`` of each key."""
    return splitmix64_array(keys) | np.uint64(1)


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
