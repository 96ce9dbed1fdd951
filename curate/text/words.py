"""Tables of the spaCy-English word tokenizer (datatrove's ``split_into_words``), whose compiled
code is ``curate/kernels/words.py``; this module imports no numba.

:func:`word_tables` is everything the tokenizer needs besides the text: the character-class table
(``charclass.py``), spaCy's 1,343 special cases (``reference_data.py``) in an open-addressing table
keyed by :func:`span_key` (FNV-1a over codepoints, the kernels' ``span_key``), and spaCy's unit
suffixes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from curate.text import charclass as cc
from curate.text import reference_data as ref

#: RE2 pattern of a run of non-word characters in any script, for vectorised word splits with
#: ``pyarrow.compute.split_pattern_regex`` (RE2's ``\\W`` is ASCII-only: Korean or Hindi text would
#: have no words). Word characters: letters, combining marks, digits and ``_``.
NON_WORD_RE = r"[^\p{L}\p{M}\p{N}_]+"

EX_TABLE_SIZE = 1 << 13  # open-addressing table for the special cases (load < 0.2)
MAX_SPECIAL_LEN = 16
MAX_MERGE_TOKENS = 6  # longest affix split of a special case that real text contains (emoticons)
MAX_UNIT_LEN = max(len(u) for u in ref.SPACY_UNITS)

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
MASK64 = (1 << 64) - 1


def span_key(text: str) -> int:
    """64-bit FNV-1a style key of ``text``'s codepoints with the low bit set (never 0): the value the
    kernels' ``span_key`` computes for the same codepoints."""
    h = FNV_OFFSET
    for c in text:
        h = ((h ^ ord(c)) * FNV_PRIME) & MASK64
    return h | 1


@lru_cache(maxsize=1)
def special_cases() -> tuple[np.ndarray, ...]:
    """spaCy's special cases as numba-friendly arrays: (keys, index, codepoints, cp offsets,
    token lengths, length offsets, matcher token lengths, matcher offsets). The matcher lengths are
    the tokens a special case that contains affixes splits into without special cases (empty for
    the others); the kernels' ``merge_specials`` re-joins such runs, as spaCy's special-case matcher
    does."""
    orths = list(ref.SPACY_EXCEPTIONS)
    match_off = np.zeros(len(orths) + 1, np.int64)
    match_lens: list[int] = []
    for i, orth in enumerate(orths):
        match_lens.extend(ref.SPACY_MATCHER.get(orth, ()))
        match_off[i + 1] = len(match_lens)
    keys = np.zeros(EX_TABLE_SIZE, np.uint64)
    index = np.full(EX_TABLE_SIZE, -1, np.int64)
    cp_off = np.zeros(len(orths) + 1, np.int64)
    len_off = np.zeros(len(orths) + 1, np.int64)
    cps, lens = [], []
    for i, orth in enumerate(orths):
        cps.extend(ord(c) for c in orth)
        lens.extend(ref.SPACY_EXCEPTIONS[orth])
        cp_off[i + 1], len_off[i + 1] = len(cps), len(lens)
    for i, orth in enumerate(orths):
        key = span_key(orth)
        slot = key & (EX_TABLE_SIZE - 1)
        while index[slot] >= 0:
            slot = (slot + 1) & (EX_TABLE_SIZE - 1)
        keys[slot], index[slot] = key, i
    return (keys, index, np.array(cps, np.int32), cp_off, np.array(lens, np.int64), len_off,
            np.array(match_lens, np.int64), match_off)


@lru_cache(maxsize=1)
def unit_table() -> tuple[np.ndarray, np.ndarray]:
    """spaCy's unit suffixes as (codepoints, offsets)."""
    units = [u for u in ref.SPACY_UNITS if u]
    off = np.zeros(len(units) + 1, np.int64)
    cps: list[int] = []
    for i, u in enumerate(units):
        cps.extend(ord(c) for c in u)
        off[i + 1] = len(cps)
    return np.array(cps, np.int32), off


def word_tables() -> tuple:
    """Everything the tokenizer needs besides the text: (flags, special cases, units, offsets), in
    the dtypes of ``curate.kernels.words.WORD_TABLES``."""
    units, unit_off = unit_table()
    return cc.char_flags(), special_cases(), units, unit_off
