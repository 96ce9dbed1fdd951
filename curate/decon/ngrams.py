"""Word n-gram hashes over normalised words, an eval n-gram index, and matching (kernels compiled
ahead of time: ``curate/kernels/ngrams.py``).

Normalised words: a document's codepoints are split into maximal runs of word characters (letters
and decimal digits, ``str.isalpha`` / ``str.isdecimal``, and any non-ASCII codepoint that is not a
space, punctuation or symbol), lower-cased codepoint by codepoint (``str.lower`` where it gives one
codepoint). Everything else (spaces, ASCII and Unicode punctuation, symbols) separates words and
never matters, so ``"The Answer, is: 42!"`` and ``"the answer is 42"`` give the same words, as with
datatrove's ``simplify_text`` + word split and GPT-3's lower-cased, punctuation-free 13-grams.
Digits are kept (eval answers are often numbers). NFKC is not applied (offsets must stay those of
the original text, for span removal): full-width forms do not match their ASCII twins.

A word hashes to 64 bits (FNV-1a over its lower-cased codepoints); an n-gram of ``n`` consecutive
words to a 64-bit mix of its word hashes (order-sensitive). Two distinct n-grams collide with
probability 2^-64 per pair: with 1e7 eval n-grams and 1e12 training n-grams, about 5e-4 expected
false hits in total.

The index (:class:`NgramIndex`) holds every n-gram of every eval item as three aligned arrays
sorted by hash: ``hashes`` (uint64), ``items`` (int32, global item number) and ``positions``
(int32, the n-gram's first word in the item): 16 bytes per eval n-gram. Lookup is a binary search
(``np.searchsorted`` in the kernel) per training n-gram.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
import pyarrow as pa

from curate import kernels
from curate.text import charclass as cc
from curate.text.hashing import string_buffers
from curate.text.table_cache import cached_table


@lru_cache(maxsize=1)
def lower_table() -> np.ndarray:
    """int32 codepoint -> its ``str.lower`` codepoint (itself where lower is not one codepoint);
    from the table cache file when valid (``curate/text/table_cache.py``)."""
    return cached_table("lower", _build_lower_table, (__name__, cc.__name__), np.int32)


def _build_lower_table() -> np.ndarray:
    table = np.arange(0x110000, dtype=np.int32)
    for cp in range(cc.ASSIGNED_END):
        low = chr(cp).lower()
        if len(low) == 1 and ord(low) != cp:
            table[cp] = ord(low)
    return table


def tables() -> tuple[np.ndarray, np.ndarray]:
    """(character flags, lower-case table) that the kernels take."""
    return cc.char_flags(), lower_table()


@dataclasses.dataclass(frozen=True)
class NgramIndex:
    """Every n-gram of every item, sorted by hash (see the module docstring); ``item_words``: each
    item's word count (an item with fewer than ``n`` words has no n-gram and can never match)."""

    n: int
    hashes: np.ndarray
    items: np.ndarray
    positions: np.ndarray
    item_words: np.ndarray

    @property
    def num_bytes(self) -> int:
        return self.hashes.nbytes + self.items.nbytes + self.positions.nbytes

    @classmethod
    def build(cls, text: pa.Array, n: int, max_ngrams: int) -> "NgramIndex":
        """Index the n-grams of each string of ``text`` (item i = row i). Raises ``ValueError``
        when there would be more than ``max_ngrams`` (the memory bound: 16 bytes each)."""
        data, offsets = string_buffers(text)
        flags, lower = tables()
        lib = kernels.load("ngrams")
        words = lib.count_words(data, offsets, flags, lower)
        grams = np.maximum(words - n + 1, 0)
        total = int(grams.sum())
        if total > max_ngrams:
            raise ValueError(f"the eval sets have {total:,} {n}-grams, more than max_index_ngrams="
                             f"{max_ngrams:,} ({16 * total / 1e9:.2f} GB); raise it or use fewer eval items")
        gram_off = np.concatenate([[0], np.cumsum(grams)]).astype(np.int64)
        h = np.empty(total, np.uint64)
        it = np.empty(total, np.int32)
        pos = np.empty(total, np.int32)
        lib.fill_grams(data, offsets, n, flags, lower, gram_off, h, it, pos)
        order = np.lexsort((pos, it, h))
        return cls(n, h[order], it[order], pos[order], words.astype(np.int64))


@dataclasses.dataclass(frozen=True)
class Matches:
    """Matches of a batch against an index: ``pairs`` (int64 ``[k, 2]``: doc row, item) of the
    (document, item) pairs that count as contamination, sorted; ``spans`` (int64 ``[m, 3]``: doc
    row, codepoint start, end) of their matched n-grams in the documents, sorted."""

    pairs: np.ndarray
    spans: np.ndarray


def find_matches(text: pa.Array, index: NgramIndex, min_overlap: float) -> Matches:
    """The (document, item) pairs where the document contains at least one of the item's n-grams
    and those n-grams cover at least ``min_overlap`` of the item's words (0: any one n-gram, the
    GPT-3 / OLMo 13-gram rule; Llama 2 counts a sample contaminated from a covered fraction)."""
    data, offsets = string_buffers(text)
    lib = kernels.load("ngrams")
    idx = (np.ascontiguousarray(index.hashes, np.uint64), np.ascontiguousarray(index.items, np.int32),
           np.ascontiguousarray(index.positions, np.int32))
    hits = lib.find_hits(data, offsets, index.n, *tables(), *idx)
    if len(hits) == 0:
        return Matches(np.zeros((0, 2), np.int64), np.zeros((0, 3), np.int64))
    hits = hits[np.lexsort((hits[:, 2], hits[:, 1], hits[:, 0]))]
    run_start, covered = lib.coverage(hits, index.n)
    items = hits[run_start, 1]
    frac = covered / np.maximum(index.item_words[items], 1)
    ok = frac >= min_overlap - 1e-12
    pairs = hits[run_start[ok]][:, :2]
    run_len = np.diff(np.append(run_start, len(hits)))
    keep_hit = np.repeat(ok, run_len)
    spans = hits[keep_hit][:, [0, 3, 4]]
    spans = np.unique(spans, axis=0) if len(spans) else np.zeros((0, 3), np.int64)
    return Matches(pairs, spans)


def cut_spans(text: pa.Array, spans: np.ndarray, *, whole_lines: bool) -> tuple[pa.Array, np.ndarray]:
    """``text`` with the codepoint spans (``[m, 3]`` doc row, start, end; sorted by row) removed,
    or, with ``whole_lines``, every line (``str.splitlines`` boundaries) a span touches, with its
    line break. Returns (new large_string array, codepoints removed per row)."""
    data, offsets = string_buffers(text)
    num = len(offsets) - 1
    span_off = np.searchsorted(spans[:, 0], np.arange(num + 1)).astype(np.int64)
    out_data = np.empty(max(len(data), 1), np.uint8)
    out_offsets = np.empty(num + 1, np.int64)
    removed = np.zeros(num, np.int64)
    spans = np.ascontiguousarray(spans, np.int64)
    kernels.load("ngrams").remove_spans(data, offsets, spans, span_off, whole_lines, cc.char_flags(), out_data,
                                        out_offsets, removed)
    new = pa.LargeStringArray.from_buffers(num, pa.py_buffer(out_offsets),
                                           pa.py_buffer(out_data[: out_offsets[-1]]))
    return new, removed

