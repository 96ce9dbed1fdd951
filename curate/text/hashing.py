"""Stable 64-bit hashes: of Arrow strings (a compiled kernel over the raw UTF-8 buffer,
``curate/kernels/hashing.py``), splitmix64, holdout.

The string hash is xxHash64-style mixing of 8-byte words (seeded); it is stable across machines,
runs and library versions (unlike polars' ``hash``), which matters for indexes that outlive a run.
This module is the one home of splitmix64 (MinHash permutations, mixers' epoch orders, the
tokenizer sample, control-token drops) and of the holdout split (classifier and mixers).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curate import kernels

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MASK64 = 2**64 - 1


def splitmix64_array(x: np.ndarray) -> np.ndarray:
    """splitmix64 (Steele et al. 2014) of each uint64, wrapping: plain 64-bit integer arithmetic,
    so seeded orders and hash parameters built on it never change with the numpy version. The one
    splitmix64 of the project: every seeded order, draw and hash parameter uses it."""
    with np.errstate(over="ignore"):
        z = np.asarray(x).astype(np.uint64) + GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def splitmix64(x: int) -> int:
    """splitmix64 of one Python int (taken mod 2^64), as a Python int."""
    return int(splitmix64_array(np.array([x & MASK64], dtype=np.uint64))[0])


def splitmix64_stream(seed: int, count: int) -> np.ndarray:
    """The first ``count`` outputs of the splitmix64 generator seeded with ``seed``: output i is
    splitmix64(seed + i * golden) (the published C code's stream, starting one step early)."""
    with np.errstate(over="ignore"):
        return splitmix64_array(np.uint64(seed & MASK64) + GOLDEN * np.arange(count, dtype=np.uint64))


def unit_floats(h: np.ndarray) -> np.ndarray:
    """float64 in [0, 1) from the top 53 bits of each uint64."""
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


#: Mixed into holdout hashes so they differ from every other seeded hash of the same ids.
HOLDOUT_SALT = 0x686F6C646F7574  # "holdout"


def holdout_mask(ids: pa.Array, seed: int, holdout_frac: float) -> np.ndarray:
    """True for the documents in the holdout: ``u = (hash(id, seed') >> 11) / 2^53 < holdout_frac``
    with ``seed' = seed * golden + salt (mod 2^64)``. Membership depends only on the id, seed and
    fraction (never on batching, shards or machine), and a larger fraction holds out a superset.
    The classifier's held-out split and the mixers' validation documents both use it."""
    if holdout_frac <= 0:
        return np.zeros(len(ids), dtype=bool)
    hash_seed = (seed * int(GOLDEN) + HOLDOUT_SALT) & MASK64
    return unit_floats(hash_strings(ids, seed=hash_seed)) < holdout_frac


def string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(utf-8 bytes as uint8, int64 offsets of length n+1) of a string array; nulls are empty."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = arr.fill_null("")
    if pa.types.is_string(arr.type):
        arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return data, offsets


def hash_strings(arr: pa.Array, seed: int = 0) -> np.ndarray:
    """uint64 hash of each string (nulls hash as the empty string)."""
    data, offsets = string_buffers(arr)
    out = np.empty(len(offsets) - 1, dtype=np.uint64)
    kernels.load("hashing").hash_all(data, offsets, np.uint64(seed & MASK64), out)
    return out
