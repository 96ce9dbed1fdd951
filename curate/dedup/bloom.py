"""Bloom filters over 64-bit keys: sizing maths and the kernels (compiled ahead of time,
``curate/kernels/bloom.py``) of ``line_dedup`` / ``paragraph_dedup``'s ``method = "bloom"``.

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

import numpy as np

from curate import kernels
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


def _keys(keys: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(keys, np.uint64)


def seen_bits(keys: np.ndarray, steps: np.ndarray, bits: np.ndarray, num_slots: int, num_hashes: int,
              out: np.ndarray) -> None:
    """In order: ``out[i]`` = key i's bits were all set (it was probably seen), then set them.
    Keys 0 are skipped (``out`` False). ``bits`` is uint64 words (updated in place)."""
    kernels.load("bloom").seen_bits(_keys(keys), _keys(steps), bits, num_slots, num_hashes, out)


def over_count_in_order(keys: np.ndarray, steps: np.ndarray, counters: np.ndarray, num_slots: int,
                        num_hashes: int, max_count: int, out: np.ndarray) -> None:
    """In order: ``out[i]`` = key i was (probably) seen ``max_count`` times already; else count it.
    Keeps the first ``max_count`` copies of each key. ``counters``: uint8 (updated in place)."""
    kernels.load("bloom").over_count_in_order(_keys(keys), _keys(steps), counters, num_slots, num_hashes,
                                              max_count, out)


def add_counts(keys: np.ndarray, steps: np.ndarray, counters: np.ndarray, num_slots: int,
               num_hashes: int) -> None:
    """Count every key (order-independent: saturating sums commute)."""
    kernels.load("bloom").add_counts(_keys(keys), _keys(steps), counters, num_slots, num_hashes)


def over_count(keys: np.ndarray, steps: np.ndarray, counters: np.ndarray, num_slots: int, num_hashes: int,
               max_count: int, out: np.ndarray) -> None:
    """``out[i]`` = key i's estimated count is above ``max_count`` (after :func:`add_counts`)."""
    kernels.load("bloom").over_count(_keys(keys), _keys(steps), counters, num_slots, num_hashes, max_count,
                                     out)
