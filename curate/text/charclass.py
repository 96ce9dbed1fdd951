"""Per-codepoint character classes for the numba text kernels: one uint32 flag word per codepoint.

Python's ``str`` predicates (``isalpha``, ``isspace``, ...) and the reference character sets of
datatrove 0.10.1 and spaCy 3.8 (``reference_data.py``) become bits in a 0x110000-entry table, built
once per install (~0.5 s) and then loaded from a cache file (``table_cache.py``, ~5 ms), so a
numba kernel classifies a codepoint with one load.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

from curate.text import reference_data as ref
from curate.text.table_cache import cached_table

ALPHA = 1 << 0  # str.isalpha
SPACE = 1 << 1  # str.isspace (str.split / str.strip)
LOWER = 1 << 2  # spaCy ALPHA_LOWER (lower-case and uncased letters of the scripts spaCy lists)
UPPER = 1 << 3  # spaCy ALPHA_UPPER
DT_PUNCT = 1 << 4  # datatrove PUNCTUATION_SET (a "symbol" word has only these)
SENT_END = 1 << 5  # spaCy sentencizer punct_chars
UNI_PUNCT = 1 << 6  # Unicode category P* (spaCy is_punct)
PREFIX = 1 << 7  # one-character spaCy tokenizer prefix
SUFFIX = 1 << 8  # one-character spaCy tokenizer suffix
QUOTE = 1 << 9  # spaCy CONCAT_QUOTES
ICON = 1 << 10  # spaCy LIST_ICONS (symbols, emoji)
SP_PUNCT = 1 << 11  # spaCy PUNCT
LINE_BREAK = 1 << 12  # str.splitlines boundaries
DECIMAL = 1 << 13  # str.isdecimal (Python re ``\d``)
DT_TERMINAL = 1 << 14  # datatrove TERMINAL_PUNCTUATION (FineWeb's default stop_chars)
CURRENCY = 1 << 15  # one-character spaCy currency symbol
SP_ALPHA = 1 << 16  # spaCy ALPHA (its tokenizer's letters; not every str.isalpha script)
MATCH_FIRST = 1 << 17  # first character of a special case spaCy's matcher re-joins
MATCH_LAST = 1 << 18  # last character of one
ALNUM = 1 << 19  # str.isalnum (The Stack's alphanum_fraction)

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


ASSIGNED_END = 0x32400  # end of CJK Extension H: the last letters/punctuation in Unicode 15


def _predicate(chars: list[str], pred, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[: len(chars)] = np.frombuffer(bytes(map(pred, chars)), np.uint8).astype(bool)
    return out


def _set(table: np.ndarray, chars, bit: int) -> None:
    for ch in chars:
        if len(ch) == 1:
            table[ord(ch)] |= bit


@lru_cache(maxsize=1)
def char_flags() -> np.ndarray:
    """The flag table (uint32, indexed by codepoint), from the table cache file
    (``curate/text/table_cache.py``) when it holds a valid copy, else built and stored there."""
    return cached_table("char_flags", build_char_flags, (__name__, ref.__name__), np.uint32)


def build_char_flags() -> np.ndarray:
    """Build the flag table from ``str`` predicates and the reference sets (~0.5 s)."""
    n = 0x110000
    chars = [chr(cp) for cp in range(ASSIGNED_END)]  # no letters, spaces or punctuation above
    alpha = _predicate(chars, str.isalpha, n).astype(np.uint32)
    space = _predicate(chars, str.isspace, n).astype(np.uint32)
    decimal = _predicate(chars, str.isdecimal, n).astype(np.uint32)
    alnum = _predicate(chars, str.isalnum, n).astype(np.uint32)
    table = alpha * ALPHA | space * SPACE | decimal * DECIMAL | alnum * ALNUM
    for bit, spans in ((SP_ALPHA, ref.SPACY_ALPHA_RANGES), (LOWER, ref.SPACY_LOWER_RANGES),
                       (UPPER, ref.SPACY_UPPER_RANGES), (ICON, ref.SPACY_ICON_RANGES)):
        for lo, hi in spans:
            table[lo : hi + 1] |= bit
    for cp in np.flatnonzero((alpha | space | decimal)[:ASSIGNED_END] == 0):
        if unicodedata.category(chars[cp])[0] == "P":
            table[cp] |= UNI_PUNCT
    _set(table, ref.DT_PUNCTUATION, DT_PUNCT)
    _set(table, ref.DT_TERMINAL, DT_TERMINAL)
    _set(table, ref.SPACY_SENT_PUNCT, SENT_END)
    _set(table, LINE_BREAKS, LINE_BREAK)
    _set(table, ref.SPACY_QUOTES, QUOTE)
    _set(table, ref.SPACY_PUNCT, SP_PUNCT)
    _set(table, ref.SPACY_CURRENCY, CURRENCY)
    singles = ref.SPACY_PUNCT + ref.SPACY_QUOTES
    _set(table, singles + ["§", "%", "=", "—", "–"] + ref.SPACY_CURRENCY, PREFIX)
    _set(table, singles + ["—", "–"], SUFFIX)
    table[table & ICON > 0] |= PREFIX | SUFFIX
    _set(table, [orth[0] for orth in ref.SPACY_MATCHER], MATCH_FIRST)
    _set(table, [orth[-1] for orth in ref.SPACY_MATCHER], MATCH_LAST)
    return table
