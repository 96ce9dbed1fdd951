"""The MinHash signature kernel (curate/kernels/minhash.py) against a plain-Python reference of the
method in curate/dedup/minhash.py, and pinned values (a saved index only matches builds whose
band keys are the same, so the hash values must never change silently)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.dedup.minhash import EMPTY, permutations, signatures
from curate.kernels.minhash import _is_separator

MASK = 2**64 - 1
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
M1, M2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53
# words, digits, punctuation, whitespace (ASCII and not), multi-byte letters: a small vocabulary, so
# documents repeat shingles (the kernel skips repeats) and share them across documents of a batch
TOKENS = ["the", "cat", "Sat", "a1", "42", "ß", "日本", "é", " ", "  ", ", ", "!", "\n", "\t",
          "\u00a0", "\u0085", "\u2014", "\u3000", "😀", "x-y", "½"]
texts = st.lists(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join), min_size=1, max_size=12)


def fmix(h: int) -> int:
    h ^= h >> 33
    h = h * M1 & MASK
    h ^= h >> 33
    h = h * M2 & MASK
    return h ^ (h >> 33)


def reference_units(text: str, unit: str, normalize: bool) -> list[int]:
    """Words: fmix of FNV-1a over the word's UTF-8 bytes (ASCII digits as "0" when normalising);
    chars: code points, each run of separators one space, none at either end."""
    units: list[int] = []
    word: list[int] = []
    for ch in text + " ":
        cp = ord(ch)
        sep = _is_separator.py_func(cp, normalize)
        if normalize and ch.isascii() and ch.isdigit():
            cp = 48
        if unit == "char":
            if not sep:
                units.append(cp)
            elif units and units[-1] != 32:
                units.append(32)
            continue
        if not sep:
            word += [48 if normalize and 48 <= b <= 57 else b for b in ch.encode()]
        elif word:
            h = FNV_OFFSET
            for b in word:
                h = (h ^ b) * FNV_PRIME & MASK
            units.append(fmix(h))
            word = []
    if units and units[-1] == 32:
        units.pop()
    return units


def reference_signature(text: str, num_perm: int, ngram_size: int, unit: str, normalize: bool,
                        seed: int) -> tuple[list[int], int]:
    units = reference_units(text, unit, normalize)
    width = min(ngram_size, len(units))
    shingles = []
    for i in range(len(units) - width + 1 if units else 0):
        x = width
        for u in units[i:i + width]:
            x = (x ^ u) * M1 & MASK
            x = ((x << 31) | (x >> 33)) & MASK
        shingles.append(fmix(x))
    mult, add = permutations(num_perm, seed)
    sig = [min(((int(a) * x + int(b)) & MASK) >> 32 for x in shingles) if shingles else int(EMPTY)
           for a, b in zip(mult, add)]
    return sig, len(shingles)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(texts, st.sampled_from(["word", "char"]), st.booleans(), st.integers(1, 6))
def test_kernel_equals_the_python_reference(values, unit, normalize, ngram_size):
    arr = pa.array(values, pa.large_string())
    sigs, counts = signatures(arr, num_perm=9, ngram_size=ngram_size, unit=unit, normalize=normalize,
                              seed=11)
    lowered = pc.utf8_lower(arr).to_pylist() if normalize else values
    for k, text in enumerate(lowered):
        sig, count = reference_signature(text, 9, ngram_size, unit, normalize, 11)
        assert (sigs[k].tolist(), int(counts[k])) == (sig, count), (text, unit, normalize)


def test_signature_values_are_pinned():
    """The values of curate 6b4ff4b (before the branch-free word path and repeat skipping)."""
    texts = pa.array(["The quick brown fox jumps over the lazy dog 1984 times.",
                      "Ünïcode — «text» 日本語 ok", "ab  cd, ef!"])
    words, word_counts = signatures(texts, num_perm=4, ngram_size=3, seed=3)
    chars, char_counts = signatures(texts, num_perm=4, ngram_size=4, unit="char", seed=3)
    assert words.tolist() == [[585416484, 392848317, 1176794252, 1007777],
                              [2273531414, 724597314, 1291555359, 2797554469],
                              [3680023209, 695957336, 4085961940, 138652430]]
    assert word_counts.tolist() == [9, 2, 1]
    assert chars.tolist() == [[97827088, 79409765, 36797786, 96620532],
                              [526134300, 405053100, 242961608, 23444297],
                              [1660132203, 588616541, 373625548, 1315165078]]
    assert char_counts.tolist() == [51, 16, 5]


def test_repeated_shingles_keep_the_signature():
    """A document that repeats itself has the signature of one copy (every shingle of the copy is
    a repeat, skipped or not), and its neighbour in the batch is unaffected by the skip table."""
    once = "alpha beta gamma delta epsilon zeta eta theta"
    arr = pa.array([once, " ".join([once] * 50), once + " iota"], pa.large_string())
    sigs, counts = signatures(arr, num_perm=32, ngram_size=3)
    alone, _ = signatures(pa.array([once + " iota"], pa.large_string()), num_perm=32, ngram_size=3)
    twice, _ = signatures(pa.array([once + " " + once], pa.large_string()), num_perm=32, ngram_size=3)
    np.testing.assert_array_equal(sigs[1], twice[0])
    np.testing.assert_array_equal(sigs[2], alone[0])
    assert counts.tolist() == [6, 398, 7]


def test_wide_vectors_are_scoped_to_the_family_that_asks():
    """compile.py's 512-bit switch (``VECTOR_BITS = 512``: the minhash family) is undone after its
    compile, so a family compiled next in the same process gets numba's own target features."""
    from numba.core.codegen import AOTCPUCodegen

    from curate.kernels import minhash
    from curate.kernels.compile import _vectors

    own = AOTCPUCodegen._customize_tm_features
    with _vectors(True):
        assert AOTCPUCodegen._customize_tm_features(None) == "-prefer-256-bit"
    with _vectors(False):
        assert AOTCPUCodegen._customize_tm_features is own
    assert AOTCPUCodegen._customize_tm_features is own and own(None) == ""
    assert minhash.VECTOR_BITS == 512
