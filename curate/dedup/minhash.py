"""MinHash signatures and LSH band keys, computed in numba straight over Arrow's UTF-8 buffers.

Method (Broder 1997; banding as in Leskovec et al., *Mining of Massive Datasets*, ch. 3):

1. **Units.** ``unit="word"``: a word is a maximal run of non-separator code points; ``"char"``: a
   code point, with each run of separators collapsed to one space. With ``normalize`` the text is
   lower-cased first (``pyarrow.compute.utf8_lower``), ASCII digits hash as ``0`` and separators are
   whitespace, ASCII punctuation/symbols and the common Unicode punctuation and symbol blocks
   (U+00A0-00BF, U+2000-2BFF, U+2E00-2E7F, U+3000-303F, U+FE30-FE6F, fullwidth punctuation,
   U+1F000-1FAFF); this approximates ``curate.text.normalize`` (no NFKC) at a fraction of its cost.
   Without ``normalize`` only whitespace separates words and bytes hash as they are.
2. **Shingles.** Each run of ``ngram_size`` consecutive units hashes to 64 bits (a document with
   fewer units than that is one shingle; a document with no unit has no signature).
3. **Signature.** ``num_perm = num_bands * rows_per_band`` hash functions
   ``h_i(x) = (a_i * x + b_i) mod 2^64 >> 32`` (multiply-shift; ``a_i`` odd, from splitmix64 of the
   seed), each keeping its minimum over the document's shingles:
   ``P[sig_i(A) = sig_i(B)] = J(A, B)``.
   The estimate ``mean(sig(A) == sig(B))`` has standard deviation ``sqrt(J(1-J)/num_perm)``
   (<= 0.044 at 128 permutations).
4. **Band keys.** The signature is cut into ``num_bands`` bands of ``rows_per_band`` values; each
   band hashes, with its band number, to one 64-bit key. Two documents are candidates when any key
   is equal: ``P = 1 - (1 - J^r)^b``; the curve's midpoint is near ``(1/b)^(1/r)``
   (b=14, r=9, the default: 0.75; b=9, r=13: 0.84; datatrove's b=14, r=8: 0.72).

Speed: one pass over the bytes and ``num_perm`` multiply-adds per shingle (vectorised by LLVM); no
Python per document. Everything is deterministic and independent of machine and library versions.
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.text.hashing import GOLDEN, splitmix64_stream, string_buffers

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
M1 = np.uint64(0xFF51AFD7ED558CCD)
M2 = np.uint64(0xC4CEB9FE1A85EC53)
EMPTY = np.uint32(0xFFFFFFFF)
UNITS = ("word", "char")


@numba.njit(cache=True, inline="always")
def _fmix(h):
    h ^= h >> np.uint64(33)
    h *= M1
    h ^= h >> np.uint64(33)
    h *= M2
    h ^= h >> np.uint64(33)
    return h


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers (odd) and offsets of the ``num_perm`` hash functions."""
    r = splitmix64_stream(seed, 2 * num_perm)
    return r[:num_perm] | np.uint64(1), r[num_perm:]


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
def _minhash_rows(data, offsets, char_unit, normalize, ngram_size, mult, add, sigs, num_shingles):
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


def signatures(text: pa.Array, *, num_perm: int, ngram_size: int = 5, unit: str = "word",
               normalize: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(uint32 signatures ``[n, num_perm]``, number of shingles per document) of a string array.

    Note: the minimum is taken over the full 64-bit value before keeping its high 32 bits, which
    equals the minimum of the 32-bit values."""
    if unit not in UNITS:
        raise ValueError(f"unit={unit!r}; allowed: {', '.join(UNITS)}")
    if normalize:
        text = pc.utf8_lower(text)
    data, offsets = string_buffers(text)
    mult, add = permutations(num_perm, seed)
    sigs = np.empty((len(offsets) - 1, num_perm), np.uint32)
    counts = np.empty(len(offsets) - 1, np.int64)
    _minhash_rows(data, offsets, unit == "char", normalize, ngram_size, mult, add, sigs, counts)
    return sigs, counts


@numba.njit(cache=True)
def _band_keys(sigs, num_bands, rows_per_band, seed, out):
    for r in range(sigs.shape[0]):
        for b in range(num_bands):
            h = seed ^ (np.uint64(b + 1) * GOLDEN)
            for j in range(b * rows_per_band, (b + 1) * rows_per_band):
                h = (h ^ np.uint64(sigs[r, j])) * FNV_PRIME
                h = (h << np.uint64(27)) | (h >> np.uint64(37))
            out[r, b] = _fmix(h)


def band_keys(sigs: np.ndarray, num_bands: int, rows_per_band: int, seed: int = 0) -> np.ndarray:
    """uint64 ``[n, num_bands]``: one key per band of ``rows_per_band`` signature values."""
    if sigs.shape[1] < num_bands * rows_per_band:
        raise ValueError(f"signature has {sigs.shape[1]} values; "
                         f"bands need {num_bands * rows_per_band}")
    out = np.empty((sigs.shape[0], num_bands), np.uint64)
    _band_keys(sigs, num_bands, rows_per_band, np.uint64(seed & 0xFFFFFFFFFFFFFFFF), out)
    return out


_WARM = False


def warm_up() -> None:
    """Load the compiled kernels now (about 1 s for numba's first use in a process), so that worker
    processes forked later inherit them instead of each loading them again."""
    global _WARM
    if not _WARM:
        offsets = pa.py_buffer(np.array([0, 3], np.int64).tobytes())
        text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(b"a b")])
        band_keys(signatures(text, num_perm=2, ngram_size=1)[0], 1, 2)  # (pa.array(list): pandas)
        _WARM = True


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The MinHash estimate of the Jaccard similarity: the fraction of equal signature values."""
    return float(np.mean(sig_a == sig_b))
