"""Decontamination kernels: normalised words of UTF-8 documents, their n-gram hashes, index
lookup, match coverage and span cutting (the method is in curate/decon/ngrams.py; the character
flag and lower-case tables are arguments, ``curate/decon/ngrams.py:tables``)."""

from __future__ import annotations

import numba
import numpy as np

from curate.kernels.utf8 import decode_into, encode_into
from curate.text import charclass as cc

SIGNATURES = {
    "count_words": "i8[::1](u1[::1], i8[::1], u4[::1], i4[::1])",
    "fill_grams": "void(u1[::1], i8[::1], i8, u4[::1], i4[::1], i8[::1], u8[::1], i4[::1], i4[::1])",
    "find_hits": "i8[:, ::1](u1[::1], i8[::1], i8, u4[::1], i4[::1], u8[::1], i4[::1], i4[::1])",
    "coverage": "UniTuple(i8[::1], 2)(i8[:, ::1], i8)",
    "remove_spans": "void(u1[::1], i8[::1], i8[:, ::1], i8[::1], b1, u4[::1], u1[::1], i8[::1], i8[::1])",
}

FNV_OFFSET = np.uint64(14695981039346656037)
FNV_PRIME = np.uint64(1099511628211)
MIX1 = np.uint64(0x9E3779B185EBCA87)
MIX2 = np.uint64(0xC2B2AE3D27D4EB4F)
SEPARATOR = cc.SPACE | cc.UNI_PUNCT | cc.ICON | cc.DT_PUNCT
HIT_COLUMNS = 5  # doc, item, item position, codepoint start, codepoint end


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
def count_words(data, offsets, flags, lower):
    """Normalised words per document."""
    num = offsets.shape[0] - 1
    cps, hashes, starts, ends = _word_scratch(offsets)
    counts = np.zeros(num, np.int64)
    for d in range(num):
        m = decode_into(data, offsets[d], offsets[d + 1], cps)
        counts[d] = scan_words(cps, m, flags, lower, hashes, starts, ends)
    return counts


@numba.njit(cache=True, nogil=True)
def fill_grams(data, offsets, n, flags, lower, gram_off, out_hash, out_item, out_pos):
    """Every n-gram of document d, from ``gram_off[d]`` on: its hash, d, its first word."""
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


@numba.njit(cache=True, nogil=True)
def find_hits(data, offsets, n, flags, lower, idx_hash, idx_item, idx_pos):
    """Every (n-gram of a document, equal-hash index entry) pair: rows of ``HIT_COLUMNS``, in
    document order (the buffer doubles as it fills)."""
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
def coverage(hits, n):
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


@numba.njit(cache=True, nogil=True)
def remove_spans(data, offsets, spans, span_off, whole_lines, flags, out_data, out_offsets, removed):
    """Document d without its codepoint spans ``spans[span_off[d]:span_off[d + 1]]`` (or the lines
    they touch, with their breaks), as UTF-8 into ``out_data``; codepoints removed per document."""
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
