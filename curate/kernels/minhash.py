"""MinHash kernels: unit hashes, shingles, signatures and LSH band keys over UTF-8 bytes (the
method is in curate/dedup/minhash.py)."""

from __future__ import annotations

import numba
import numpy as np

from curate.text.hashing import GOLDEN

#: 512-bit vectors where the CPU has AVX-512 (curate/kernels/compile.py): the permutation loop is
#: bound by 64-bit multiplies (``vpmullq``), so twice the lanes is ~1.4x on that loop.
VECTOR_BITS = 512

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


def _ascii_tables() -> tuple[np.ndarray, np.ndarray]:
    """``SEPARATOR[normalize, b]`` (1: ASCII byte ``b`` separates words) and ``HASHED[normalize, b]``
    (the byte a word hashes: ASCII digits as ``0`` when normalising), from :func:`_is_separator`."""
    sep = np.zeros((2, 128), np.uint8)
    hashed = np.zeros((2, 128), np.uint64)
    for normalize in (0, 1):
        for b in range(128):
            sep[normalize, b] = _is_separator.py_func(b, bool(normalize))
            hashed[normalize, b] = 48 if normalize and 48 <= b <= 57 else b
    return sep, hashed


SEPARATOR, HASHED = _ascii_tables()
#: The per-document table of recent shingle hashes (a repeated shingle is skipped): 2^12 slots.
SEEN_BITS = 12
SEEN_SLOTS = 1 << SEEN_BITS
SEEN_SHIFT = np.uint64(64 - SEEN_BITS)


@numba.njit(cache=True, inline="always")
def _decode(data, pos, end):
    """(code point, byte length) of the UTF-8 sequence at ``pos`` (truncated at ``end``)."""
    b0 = np.int64(data[pos])
    size = 1 if b0 < 0x80 else (2 if b0 < 0xE0 else (3 if b0 < 0xF0 else 4))
    if pos + size > end:
        size = end - pos
    cp = b0
    if size > 1:
        cp = b0 & (0x1F if size == 2 else (0x0F if size == 3 else 0x07))
        for k in range(1, size):
            cp = (cp << 6) | (np.int64(data[pos + k]) & 0x3F)
    return cp, size


@numba.njit(cache=True)
def _word_units(data, start, end, normalize, out):
    """Write the FNV-1a states of the words of ``data[start:end]`` into ``out`` (not yet mixed:
    the caller applies ``_fmix``); returns how many. An ASCII byte takes a branch-free path (table
    lookups, the state reset or advanced by a select, the unit stored unconditionally and counted
    only at a word's end), so word boundaries cost no mispredicted branch."""
    sep = SEPARATOR[1 if normalize else 0]
    hashed = HASHED[1 if normalize else 0]
    n = 0
    h = FNV_OFFSET
    in_unit = 0
    pos = start
    while pos < end:
        b = data[pos]
        if b < 0x80:
            s = np.int64(sep[b])
            out[n] = h
            n += s & in_unit
            advanced = (h ^ hashed[b]) * FNV_PRIME
            h = FNV_OFFSET if s else advanced
            in_unit = 1 - s
            pos += 1
            continue
        cp, size = _decode(data, pos, end)
        if _is_separator(cp, normalize):
            if in_unit:
                out[n] = h
                n += 1
                h = FNV_OFFSET
            in_unit = 0
        else:
            for k in range(size):
                h = (h ^ np.uint64(data[pos + k])) * FNV_PRIME
            in_unit = 1
        pos += size
    if in_unit:
        out[n] = h
        n += 1
    return n


@numba.njit(cache=True)
def _char_units(data, start, end, normalize, out):
    """Write the code points of ``data[start:end]`` into ``out``, each run of separators as one
    space (none at either end; digits as ``0`` when normalising); returns how many."""
    n = 0
    pos = start
    while pos < end:
        cp, size = _decode(data, pos, end)
        if _is_separator(cp, normalize):
            if n > 0 and out[n - 1] != np.uint64(32):
                out[n] = np.uint64(32)
                n += 1
        else:
            out[n] = np.uint64(48 if normalize and 48 <= cp <= 57 else cp)
            n += 1
        pos += size
    if n > 0 and out[n - 1] == np.uint64(32):
        n -= 1
    return n


@numba.njit(cache=True, inline="always")
def _shingle(units, first, width):
    x = np.uint64(width)
    for j in range(first, first + width):
        x = (x ^ units[j]) * M1
        x = (x << np.uint64(31)) | (x >> np.uint64(33))
    return _fmix(x)


@numba.njit(cache=True)
def minhash_rows(data, offsets, char_unit, normalize, ngram_size, mult, add, sigs, num_shingles):
    """Per document: its units, then for each window of ``ngram_size`` units (one window when there
    are fewer) the shingle hash ``x`` and ``best_i = min(best_i, mult_i * x + add_i)`` over the
    permutations (vectorised by LLVM); ``sigs`` keeps the high 32 bits of each minimum. A shingle
    equal to one already in this document's table of recent shingles (``SEEN_SLOTS``, indexed by
    the hash's top bits) is skipped: it cannot lower a minimum."""
    max_len = 0
    for r in range(len(offsets) - 1):
        max_len = max(max_len, offsets[r + 1] - offsets[r])
    units = np.empty(max_len + 1, np.uint64)
    num_perm = mult.shape[0]
    best = np.empty(num_perm, np.uint64)
    seen_hash = np.zeros(SEEN_SLOTS, np.uint64)
    seen_doc = np.full(SEEN_SLOTS, -1, np.int64)
    for r in range(len(offsets) - 1):
        if char_unit:
            n = _char_units(data, offsets[r], offsets[r + 1], normalize, units)
        else:
            n = _word_units(data, offsets[r], offsets[r + 1], normalize, units)
            for k in range(n):
                units[k] = _fmix(units[k])
        width = min(ngram_size, n)
        count = n - width + 1 if n > 0 else 0
        num_shingles[r] = count
        best[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
        for s in range(count):
            x = _shingle(units, s, width)
            slot = x >> SEEN_SHIFT
            if seen_hash[slot] == x and seen_doc[slot] == r:
                continue
            seen_hash[slot] = x
            seen_doc[slot] = r
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
