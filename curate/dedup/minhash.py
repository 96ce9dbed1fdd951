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

Kernels: ``curate/kernels/minhash.py``. Speed: one pass over the bytes (branch-free for ASCII) and
``num_perm`` multiply-adds per shingle (vectorised by LLVM, 512-bit where the CPU has AVX-512),
skipped for a shingle the document already had (a table of recent shingles; ~20 % of the bench
corpus's shingles repeat within their document); no Python per document. On the bench corpus's
first 19.8 MB, 5-word shingles, 126 permutations: the kernel takes 0.103 CPU s (190 MB/s; 0.165 s
before these three changes, same values), :func:`signatures` with lower-casing 0.12 s (165 MB/s).
Everything is deterministic and independent of machine and library versions.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import kernels
from curate.text.hashing import splitmix64_stream, string_buffers

EMPTY = np.uint32(0xFFFFFFFF)
UNITS = ("word", "char")


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers (odd) and offsets of the ``num_perm`` hash functions."""
    r = splitmix64_stream(seed, 2 * num_perm)
    return r[:num_perm] | np.uint64(1), r[num_perm:]


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
    kernels.load("minhash").minhash_rows(data, offsets, unit == "char", normalize, ngram_size, mult, add, sigs,
                                         counts)
    return sigs, counts


def band_keys(sigs: np.ndarray, num_bands: int, rows_per_band: int, seed: int = 0) -> np.ndarray:
    """uint64 ``[n, num_bands]``: one key per band of ``rows_per_band`` signature values."""
    if sigs.shape[1] < num_bands * rows_per_band:
        raise ValueError(f"signature has {sigs.shape[1]} values; "
                         f"bands need {num_bands * rows_per_band}")
    out = np.empty((sigs.shape[0], num_bands), np.uint64)
    kernels.load("minhash").band_keys(np.ascontiguousarray(sigs, np.uint32), num_bands, rows_per_band,
                                      np.uint64(seed & 0xFFFFFFFFFFFFFFFF), out)
    return out


_WARM = False


def warm_up() -> None:
    """Load the compiled kernels now (~1 ms; compiled once per machine, curate/kernels), so that worker
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
