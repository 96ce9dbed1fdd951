"""MinHash kernels: unit hashes, shingles, signatures and LSH band keys over UTF-8 bytes (the
method is in curate/dedup/minhash.py)."""

from __future__ import annotations

import numba
import numpy as np

from curate.text.hashing import GOLDEN

SIGNATURES = {
    "minhash_rows": "void(u1[::1], i8[::1], b1, b1, i8, u8[::1], u8[::1], u4[:, ::1], i8[::1])",
    "band_keys": "void(u4[:, ::1], i8, i8, u8, u8[:, ::1])",
}

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
M1 = np.uint64(0xFF51AFD7ED558CCD)
M2 = np.uint64(0xC4CEB9FE1A85EC53)


@numba.njit(cache=True, inline="always")
def _fmix(h):
    h ^= h >> np.uint64(33)
    h *= M1
    h ^= h >> np.uint64(33)
    h *= M2
    h ^= h >> np.uint64(33)
    return h


@numba.njit(cache=True, inline="always")
def _is_separator(cp, normalize):
    if cp < 128:
        if not normalize:
            return cp == 32 or 9 <= cp <= 13
        return not (48 <= cp <= 57 or 65 <= cp <= 90 or 97 <= cp <= 122)
    if not normalize:
        return cp == 0x85 or cp == 0xA0 or cp == 0x1680 or 0x2000 <= cp <= 0x200A or cp in (
            0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
    if cp < 0xC0:
        return not (cp in (0xAA, 0xB2, 0xB3, 0xB5, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE))
    if cp == 0xD7 or cp == 0xF7:
        return True
    if 0x2000 <= cp <= 0x2BFF:
        return not (0x2070 <= cp <= 0x209F or 0x2100 <= cp <= 0x218F or 0x2460 <= cp <= 0x24FF)
    return (0x2E00 <= cp <= 0x2E7F or 0x3000 <= cp <= 0x3004 or 0x3008 <= cp <= 0x303F
            or 0xFE30 <= cp <= 0xFE6F or 0xFF01 <= cp <= 0xFF0F or 0xFF1A <= cp <= 0xFF20
            or 0xFF3B <= cp <= 0xFF40 or 0xFF5B <= cp <= 0xFF65 or 0x1F000 <= cp <= 0x1FAFF)


@numba.njit(cache=True)
def _units(data, start, end, char_unit, normalize, out):
    """Write the unit hashes of ``data[start:end]`` into ``out``; returns how many."""
    n = 0
    h = FNV_OFFSET
    in_unit = False
    pos = start
    while pos < end:
        b0 = np.int64(data[pos])
        size = 1 if b0 < 0x80 else (2 if b0 < 0xE0 else (3 if b0 < 0xF0 else 4))
        if pos + size > end:
            size = end - pos
        cp = b0
        if size > 1:
            cp = b0 & (0x1F if size == 2 else (0x0F if size == 3 else 0x07))
            for k in range(1, size):
                cp = (cp << 6) | (np.int64(data[pos + k]) & 0x3F)
        if _is_separator(cp, normalize):
            if char_unit:
                if in_unit:
                    out[n] = np.uint64(32)
                    n += 1
            elif in_unit:
                out[n] = _fmix(h)
                n += 1
                h = FNV_OFFSET
            in_unit = False
        else:
            if normalize and 48 <= cp <= 57:
                cp = 48
            if char_unit:
                out[n] = np.uint64(cp)
                n += 1
            else:
                for k in range(size):
                    byte = np.uint64(data[pos + k])
                    if normalize and 48 <= b0 <= 57:
                        byte = np.uint64(48)
                    h = (h ^ byte) * FNV_PRIME
            in_unit = True
        pos += size
    if in_unit and not char_unit:
        out[n] = _fmix(h)
        n += 1
    elif char_unit and n > 0 and out[n - 1] == np.uint64(32):
        n -= 1
    return n


@numba.njit(cache=True)
def _shingles(units, num_units, ngram_size, out):
    """Hash each window of ``ngram_size`` units (one window when there are fewer units)."""
    width = min(ngram_size, num_units)
    count = num_units - width + 1 if num_units > 0 else 0
    for i in range(count):
        x = np.uint64(width)
        for j in range(width):
            x = (x ^ units[i + j]) * M1
            x = (x << np.uint64(31)) | (x >> np.uint64(33))
        out[i] = _fmix(x)
    return count


@numba.njit(cache=True)
def minhash_rows(data, offsets, char_unit, normalize, ngram_size, mult, add, sigs, num_shingles):
    max_len = 0
    for r in range(len(offsets) - 1):
        max_len = max(max_len, offsets[r + 1] - offsets[r])
    units = np.empty(max_len + 1, np.uint64)
    shingles = np.empty(max_len + 1, np.uint64)
    num_perm = mult.shape[0]
    best = np.empty(num_perm, np.uint64)
    for r in range(len(offsets) - 1):
        n_units = _units(data, offsets[r], offsets[r + 1], char_unit, normalize, units)
        count = _shingles(units, n_units, ngram_size, shingles)
        num_shingles[r] = count
        best[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
        for s in range(count):
            x = shingles[s]
            for i in range(num_perm):
                v = mult[i] * x + add[i]
                if v < best[i]:
                    best[i] = v
        for i in range(num_perm):
            sigs[r, i] = np.uint32(best[i] >> np.uint64(32))


@numba.njit(cache=True)
def band_keys(sigs, num_bands, rows_per_band, seed, out):
    for r in range(sigs.shape[0]):
        for b in range(num_bands):
            h = seed ^ (np.uint64(b + 1) * GOLDEN)
            for j in range(b * rows_per_band, (b + 1) * rows_per_band):
                h = (h ^ np.uint64(sigs[r, j])) * FNV_PRIME
                h = (h << np.uint64(27)) | (h >> np.uint64(37))
            out[r, b] = _fmix(h)
