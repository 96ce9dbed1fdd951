"""Gopher repetition kernel (the rules and their hashing are in curate/steps/gopher_repetition.py):
one pass per batch over the UTF-8 text, one int32 reason code per document."""

from __future__ import annotations

import numba
import numpy as np

from curate.kernels.dupes import dup_stats, greedy_dup_chars, top_repeat_chars
from curate.kernels.utf8 import decode_into
from curate.kernels.words import WORD_TABLES, doc_tokens, span_key
from curate.text import charclass as cc

SIGNATURES = {"gopher_repetition_codes": f"void(u1[::1], i8[::1], i8, {WORD_TABLES}, f8[::1], i8[::1], f8[::1], "
                                         "i8[::1], f8[::1], i8[::1], i8[::1], i8[::1], i4[::1])"}

BASE = np.uint64(0x100000001B3)  # odd multiplier of the polynomial hash (mod 2^64, wrapping)


@numba.njit(cache=True, nogil=True)
def _split_dups(cps, a, b, min_run, keys, lens):
    """Duplicate stats of ``cps[a:b]`` split on runs of >= ``min_run`` newlines."""
    num = 0
    start = a
    i = a
    while i < b:
        if cps[i] == 10:
            j = i
            while j < b and cps[j] == 10:
                j += 1
            if j - i >= min_run:
                keys[num], lens[num] = span_key(cps, start, i), i - start
                num += 1
                start = j
            i = j
        else:
            i += 1
    keys[num], lens[num] = span_key(cps, start, b), b - start
    num += 1
    dups, chars = dup_stats(keys, lens, num)
    return num, dups, chars


@numba.njit(cache=True, nogil=True)
def _tuple_keys(tok_keys, tok_lens, nt, n, keys, lens):
    """Keys and ``" ".join`` lengths of the word n-grams; returns how many."""
    count = nt - n + 1
    for i in range(count):
        h = np.uint64(0)
        length = n - 1
        for k in range(i, i + n):
            h = (h ^ tok_keys[k]) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(k - i)
            length += tok_lens[k]
        keys[i], lens[i] = h ^ (h >> np.uint64(29)), length
    return count


@numba.njit(cache=True, nogil=True)
def _concat_keys(prefix, powers, stream_off, nt, n, keys, lens):
    """Keys and lengths of the word n-grams joined without separator (substring hashes of the
    concatenated words); returns how many."""
    count = nt - n + 1
    for i in range(count):
        lo, hi = stream_off[i], stream_off[i + n]
        keys[i], lens[i] = prefix[hi] - prefix[lo] * powers[hi - lo], hi - lo
    return max(count, 0)


@numba.njit(cache=True, nogil=True)
def _token_keys(cps, ts, te, nt, tok_keys, tok_lens):
    for t in range(nt):
        tok_keys[t], tok_lens[t] = span_key(cps, ts[t], te[t]), te[t] - ts[t]


@numba.njit(cache=True, nogil=True)
def _stream_hashes(cps, ts, te, nt, stream_off, prefix):
    """Prefix hashes of the words' characters concatenated, and each word's offset in that stream."""
    stream_off[0] = 0
    prefix[0] = 0
    pos = 0
    for t in range(nt):
        for k in range(ts[t], te[t]):
            prefix[pos + 1] = prefix[pos] * BASE + np.uint64(cps[k])
            pos += 1
        stream_off[t + 1] = pos


@numba.njit(cache=True, nogil=True)
def gopher_repetition_codes(data, offsets, longest, flags, ex, units, unit_off, fracs, top_n, top_frac,
                            dup_n, dup_frac, given_off, given_s, given_e, out):
    """Reason code per document: 0 empty, 1-4 paragraph/line rules (``fracs``), then one per
    ``top_n`` entry, then one per ``dup_n`` entry; -1 keeps. ``given_*``: word spans from another
    tokenizer (empty: spaCy-English)."""
    size = longest + 2
    cps = np.empty(size, np.int32)
    ts, te = np.empty(size, np.int64), np.empty(size, np.int64)
    stack = np.empty(4 * size, np.int64)
    keys, lens = np.empty(size, np.uint64), np.empty(size, np.int64)
    tok_keys, tok_lens, stream_off = np.empty(size, np.uint64), np.empty(size, np.int64), np.empty(size, np.int64)
    prefix, powers = np.empty(size, np.uint64), np.ones(size, np.uint64)
    for i in range(1, size):
        powers[i] = powers[i - 1] * BASE
    table = np.zeros(1, np.uint64)
    for d in range(offsets.shape[0] - 1):
        n = decode_into(data, offsets[d], offsets[d + 1], cps)
        out[d] = -1
        if n == 0:
            out[d] = 0
            continue
        a, b = 0, n
        while a < b and (flags[cps[a]] & cc.SPACE):
            a += 1
        while b > a and (flags[cps[b - 1]] & cc.SPACE):
            b -= 1
        num, dups, chars = _split_dups(cps, a, b, 2, keys, lens)
        if dups / num > fracs[0]:
            out[d] = 1
            continue
        if chars / n > fracs[1]:
            out[d] = 2
            continue
        num, dups, chars = _split_dups(cps, 0, n, 1, keys, lens)
        if dups / num > fracs[2]:
            out[d] = 3
            continue
        if chars / n > fracs[3]:
            out[d] = 4
            continue
        nt = doc_tokens(cps, n, d, flags, ex, units, unit_off, ts, te, stack, given_off, given_s, given_e)
        _token_keys(cps, ts, te, nt, tok_keys, tok_lens)
        for j in range(top_n.shape[0]):
            if nt < top_n[j]:
                continue
            count = _tuple_keys(tok_keys, tok_lens, nt, top_n[j], keys, lens)
            if top_repeat_chars(keys, lens, count) / n > top_frac[j]:
                out[d] = 5 + j
                break
        if out[d] >= 0:
            continue
        _stream_hashes(cps, ts, te, nt, stream_off, prefix)
        if table.shape[0] <= 2 * nt:
            table = np.zeros(1 << int(np.ceil(np.log2(2 * nt + 2))), np.uint64)
        for j in range(dup_n.shape[0]):
            count = _concat_keys(prefix, powers, stream_off, nt, dup_n[j], keys, lens)
            if greedy_dup_chars(keys, lens, count, dup_n[j], table) / n > dup_frac[j]:
                out[d] = 5 + top_n.shape[0] + j
                break
