"""String hash kernel: xxHash64-style mixing of 8-byte words, seeded (curate/text/hashing.py)."""

from __future__ import annotations

import numba
import numpy as np

SIGNATURES = {"hash_all": "void(u1[::1], i8[::1], u8, u8[::1])"}

P1 = np.uint64(0x9E3779B185EBCA87)
P2 = np.uint64(0xC2B2AE3D27D4EB4F)
P3 = np.uint64(0x165667B19E3779F9)
P5 = np.uint64(0x27D4EB2F165667C5)


@numba.njit(cache=True, inline="always")
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@numba.njit(cache=True)
def hash_bytes(data, start, end, seed):
    """Hash ``data[start:end]`` (uint8 array) to uint64."""
    h = np.uint64(seed) + P5 + np.uint64(end - start)
    i = start
    while i + 8 <= end:
        k = np.uint64(0)
        for j in range(8):
            k |= np.uint64(data[i + j]) << np.uint64(8 * j)
        k *= P2
        k = _rotl(k, 31)
        k *= P1
        h ^= k
        h = _rotl(h, 27) * P1 + np.uint64(0x85EBCA77C2B2AE63)
        i += 8
    while i < end:
        h ^= np.uint64(data[i]) * P5
        h = _rotl(h, 11) * P1
        i += 1
    h ^= h >> np.uint64(33)
    h *= P2
    h ^= h >> np.uint64(29)
    h *= P3
    h ^= h >> np.uint64(32)
    return h


@numba.njit(cache=True)
def hash_all(data, offsets, seed, out):
    for r in range(out.shape[0]):
        out[r] = hash_bytes(data, offsets[r], offsets[r + 1], seed)
