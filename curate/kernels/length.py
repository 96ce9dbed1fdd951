"""Characters (whitespace-trimmed) and whitespace-separated words per document, in one pass over
the UTF-8 bytes (curate/steps/length.py)."""

from __future__ import annotations

import numba
import numpy as np

SIGNATURES = {"char_word_counts": "void(u1[::1], i8[::1], i8[::1], i8[::1])"}


@numba.njit(cache=True, nogil=True, inline="always")
def is_space(cp):
    """``str.isspace`` (and pyarrow's Unicode whitespace): bidi classes WS, B, S or category Zs."""
    if cp < 128:
        return cp == 32 or 9 <= cp <= 13 or 28 <= cp <= 31
    return (cp == 0x85 or cp == 0xA0 or cp == 0x1680 or 0x2000 <= cp <= 0x200A or cp == 0x2028 or cp == 0x2029
            or cp == 0x202F or cp == 0x205F or cp == 0x3000)


@numba.njit(cache=True, nogil=True)
def char_word_counts(data, offsets, chars, words):
    for d in range(offsets.shape[0] - 1):
        num_chars, num_words, lead, trail = 0, 0, 0, 0
        in_word = False
        i = offsets[d]
        while i < offsets[d + 1]:
            b = data[i]
            size = 1 if b < 0x80 else (2 if b < 0xE0 else (3 if b < 0xF0 else 4))
            cp = np.int64(b)
            if size > 1:
                cp = cp & (0x1F if size == 2 else (0x0F if size == 3 else 0x07))
                for k in range(1, size):
                    cp = (cp << 6) | (np.int64(data[i + k]) & 0x3F)
            if is_space(cp):
                trail += 1
                if num_chars == lead:
                    lead += 1
                in_word = False
            else:
                trail = 0
                if not in_word:
                    num_words += 1
                in_word = True
            num_chars += 1
            i += size
        chars[d] = num_chars - lead - trail if num_chars > lead else 0
        words[d] = num_words
