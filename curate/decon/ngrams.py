"""Word n-gram hashes over normalised words, an eval n-gram index, and matching (numba kernels).

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
(``np.searchsorted`` in numba) per training n-gram.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numba
import numpy as np
import pyarrow as pa

from curate.text import charclass as cc
from curate.text.hashing import string_buffers
from curate.text.table_cache import cached_table
from curate.kernels.utf8 import decode_into, encode_into

FNV_OFFSET = np.uint64(14695981039346656037)
FNV_PRIME = np.uint64(1099511628211)
MIX1 = np.uint64(0x9E3779B185EBCA87)
MIX2 = np.uint64(0xC2B2AE3D27D4EB4F)
SEPARATOR = cc.SPACE | cc.UNI_PUNCT | cc.ICON | cc.DT_PUNCT


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
    """(character flags, lower-case table) that every kernel here takes."""
    return cc.char_flags(), lower_table()


@numba.njit(cache=True, nogil=True, inline="always")
def _is_word(c, flags):
    f = flags[c]
    if f & (cc.ALPHA | cc.DECIMAL):
        return True
    return c >= 0x80 and (f & SEPARATOR) == 0


@numba.njit(cache=True, nogil=True)
def scan_words(cps, n, flags, lower, hashes, starts, ends):
    """Words of ``cps[:n]``: their hashes and codepoint spans into the given buffers; returns the
    word count."""
    w = 0
    i = 0
    while i < n:
        if not _is_word(cps[i], flags):
            i += 1
            continue
        s = i
        h = FNV_OFFSET
        while i < n and _is_word(cps[i], flags):
            h = (h ^ np.uint64(lower[cps[i]])) * FNV_PRIME
            i += 1
        hashes[w] = h
        starts[w] = s
        ends[w] = i
        w += 1
    return w


@numba.njit(cache=True, nogil=True, inline="always")
def gram_hash(words, i, n):
    """64-bit hash of the n-gram ``words[i:i+n]`` (order-sensitive mix of the word hashes)."""
    h = np.uint64(n) * MIX2
    for j in range(n):
        h = (h ^ words[i + j]) * MIX1
        h = (h << np.uint64(31)) | (h >> np.uint64(33))
    h ^= h >> np.uint64(33)
    h *= MIX2
    h ^= h >> np.uint64(29)
    return h


@numba.njit(cache=True, nogil=True)
def _longest(offsets):
    """Bytes of the longest document (at least 1): enough codepoints for any of them."""
    longest = 1
    for d in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[d + 1] - offsets[d])
    return longest


@numba.njit(cache=True, nogil=True)
def _word_scratch(offsets):
    """Per-batch buffers of :func:`scan_words`, sized for the longest document: codepoints, word
    hashes, word starts, word ends."""
    longest = _longest(offsets)
    return (np.empty(longest, np.int32), np.empty(longest, np.uint64), np.empty(longest, np.int64),
            np.empty(longest, np.int64))


@numba.njit(cache=True, nogil=True)
def _count_words(data, offsets, flags, lower):
    num = offsets.shape[0] - 1
    cps, hashes, starts, ends = _word_scratch(offsets)
    counts = np.zeros(num, np.int64)
    for d in range(num):
        m = decode_into(data, offsets[d], offsets[d + 1], cps)
        counts[d] = scan_words(cps, m, flags, lower, hashes, starts, ends)
    return counts


@numba.njit(cache=True, nogil=True)
def _fill_grams(data, offsets, n, flags, lower, gram_off, out_hash, out_item, out_pos):
    cps, hashes, starts, ends = _word_scratch(offsets)
    for d in range(offsets.shape[0] - 1):
        m = decode_into(data, offsets[d], offsets[d + 1], cps)
        w = scan_words(cps, m, flags, lower, hashes, starts, ends)
        k = gram_off[d]
        for i in range(w - n + 1):
            out_hash[k] = gram_hash(hashes, i, n)
            out_item[k] = d
            out_pos[k] = i
            k += 1


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
        words = _count_words(data, offsets, flags, lower)
        grams = np.maximum(words - n + 1, 0)
        total = int(grams.sum())
        if total > max_ngrams:
            raise ValueError(f"the eval sets have {total:,} {n}-grams, more than max_index_ngrams="
                             f"{max_ngrams:,} ({16 * total / 1e9:.2f} GB); raise it or use fewer eval items")
        gram_off = np.concatenate([[0], np.cumsum(grams)]).astype(np.int64)
        h = np.empty(total, np.uint64)
        it = np.empty(total, np.int32)
        pos = np.empty(total, np.int32)
        _fill_grams(data, offsets, n, flags, lower, gram_off, h, it, pos)
        order = np.lexsort((pos, it, h))
        return cls(n, h[order], it[order], pos[order], words.astype(np.int64))


HIT_COLUMNS = 5  # doc, item, item position, codepoint start, codepoint end


@numba.njit(cache=True, nogil=True)
def _find_hits(data, offsets, n, flags, lower, idx_hash, idx_item, idx_pos):
    cps, hashes, starts, ends = _word_scratch(offsets)
    cap = 1024
    out = np.empty((cap, HIT_COLUMNS), np.int64)
    k = 0
    size = idx_hash.shape[0]
    if size == 0:
        return out[:0]
    for d in range(offsets.shape[0] - 1):
        m = decode_into(data, offsets[d], offsets[d + 1], cps)
        w = scan_words(cps, m, flags, lower, hashes, starts, ends)
        for i in range(w - n + 1):
            h = gram_hash(hashes, i, n)
            j = np.searchsorted(idx_hash, h)
            while j < size and idx_hash[j] == h:
                if k == cap:
                    bigger = np.empty((2 * cap, HIT_COLUMNS), np.int64)
                    bigger[:cap] = out
                    out = bigger
                    cap *= 2
                out[k, 0] = d
                out[k, 1] = idx_item[j]
                out[k, 2] = idx_pos[j]
                out[k, 3] = starts[i]
                out[k, 4] = ends[i + n - 1]
                k += 1
                j += 1
    return out[:k]


@numba.njit(cache=True, nogil=True)
def _covered(hits, n):
    """Per run of equal (doc, item) in ``hits`` (sorted by doc, item, item position): the number
    of the item's words covered by the matched n-grams. Returns (run starts, covered words)."""
    num = hits.shape[0]
    run_start = np.empty(num, np.int64)
    covered = np.empty(num, np.int64)
    r = -1
    reach = 0
    for k in range(num):
        if k == 0 or hits[k, 0] != hits[k - 1, 0] or hits[k, 1] != hits[k - 1, 1]:
            r += 1
            run_start[r] = k
            covered[r] = 0
            reach = 0
        s = hits[k, 2]
        e = s + n
        if e > reach:
            covered[r] += e - max(s, reach)
            reach = e
    return run_start[: r + 1], covered[: r + 1]


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
    hits = _find_hits(data, offsets, index.n, *tables(), index.hashes, index.items, index.positions)
    if len(hits) == 0:
        return Matches(np.zeros((0, 2), np.int64), np.zeros((0, 3), np.int64))
    hits = hits[np.lexsort((hits[:, 2], hits[:, 1], hits[:, 0]))]
    run_start, covered = _covered(hits, index.n)
    items = hits[run_start, 1]
    frac = covered / np.maximum(index.item_words[items], 1)
    ok = frac >= min_overlap - 1e-12
    pairs = hits[run_start[ok]][:, :2]
    run_len = np.diff(np.append(run_start, len(hits)))
    keep_hit = np.repeat(ok, run_len)
    spans = hits[keep_hit][:, [0, 3, 4]]
    spans = np.unique(spans, axis=0) if len(spans) else np.zeros((0, 3), np.int64)
    return Matches(pairs, spans)


@numba.njit(cache=True, nogil=True)
def _cut(data, offsets, spans, span_off, whole_lines, flags, out_data, out_offsets, removed):
    longest = _longest(offsets)
    cps = np.empty(longest, np.int32)
    cut = np.zeros(longest + 1, np.bool_)
    pos = 0
    out_offsets[0] = 0
    for d in range(offsets.shape[0] - 1):
        a, b = span_off[d], span_off[d + 1]
        if a == b:
            size = offsets[d + 1] - offsets[d]
            out_data[pos:pos + size] = data[offsets[d]:offsets[d + 1]]
            pos += size
            removed[d] = 0
            out_offsets[d + 1] = pos
            continue
        m = decode_into(data, offsets[d], offsets[d + 1], cps)
        cut[:m] = False
        for k in range(a, b):
            s, e = spans[k, 1], spans[k, 2]
            if whole_lines:
                while s > 0 and not (flags[cps[s - 1]] & cc.LINE_BREAK):
                    s -= 1
                while e < m and not (flags[cps[e]] & cc.LINE_BREAK):
                    e += 1
                if e < m:  # the line's break goes with it (\r\n as one)
                    e += 2 if (cps[e] == 13 and e + 1 < m and cps[e + 1] == 10) else 1
            cut[s:e] = True
        i = 0
        gone = 0
        while i < m:
            j = i
            while j < m and cut[j] == cut[i]:
                j += 1
            if cut[i]:
                gone += j - i
            else:
                pos = encode_into(cps, i, j, out_data, pos)
            i = j
        removed[d] = gone
        out_offsets[d + 1] = pos


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
    _cut(data, offsets, spans, span_off, whole_lines, cc.char_flags(), out_data, out_offsets, removed)
    new = pa.LargeStringArray.from_buffers(num, pa.py_buffer(out_offsets),
                                           pa.py_buffer(out_data[: out_offsets[-1]]))
    return new, removed


def warm_up() -> None:
    """Compile every kernel on a tiny input (before workers fork)."""
    text = pa.array(["a b c d", "x"], pa.large_string())
    index = NgramIndex.build(text, 2, 100)
    m = find_matches(text, index, 0.0)
    cut_spans(text, m.spans, whole_lines=False)
    cut_spans(text, m.spans, whole_lines=True)
