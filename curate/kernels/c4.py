"""C4 kernel (the rules are in curate/steps/c4.py): one pass per batch over the UTF-8 text that
writes one int32 reason code per document and the rewritten texts (kept lines)."""

from __future__ import annotations

import numba
import numpy as np

from curate.kernels.lines import contains_ascii_lower, next_line, strip_span
from curate.kernels.sentences import count_sentences
from curate.kernels.utf8 import decode_into, encode_into
from curate.kernels.words import WORD_TABLES
from curate.text import charclass as cc

SIGNATURES = {"c4_kernel": f"void(u1[::1], i8[::1], i8, {WORD_TABLES}, i8[::1], u1[::1], i8[::1], i4[::1])"}

POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
LOREM = np.array([ord(c) for c in "lorem ipsum"], np.int32)
JAVASCRIPT = np.array([ord(c) for c in "javascript"], np.int32)
POLICY_CPS = np.array([ord(c) for p in POLICY for c in p], np.int32)
POLICY_OFF = np.cumsum([0] + [len(p) for p in POLICY]).astype(np.int64)
EDIT = np.array([ord(c) for c in "[edit]"], np.int32)
CITATION_NEEDED = np.array([ord(c) for c in "[citation needed]"], np.int32)


@numba.njit(cache=True, nogil=True)
def _starts_with(cps, k, b, pat):
    if b - k < pat.shape[0]:
        return False
    for j in range(pat.shape[0]):
        if cps[k + j] != pat[j]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def citation_len(cps, k, b, flags):
    """Length of ``\\[\\d*]|\\[edit]|\\[citation needed]`` at ``cps[k]`` (0 if none)."""
    j = k + 1
    while j < b and (flags[cps[j]] & cc.DECIMAL):
        j += 1
    if j < b and cps[j] == 93:
        return j + 1 - k
    if _starts_with(cps, k, b, EDIT):
        return EDIT.shape[0]
    if _starts_with(cps, k, b, CITATION_NEEDED):
        return CITATION_NEEDED.shape[0]
    return 0


@numba.njit(cache=True, nogil=True)
def _copy_line(cps, a, b, flags, remove_citations, line):
    """Copy ``cps[a:b]`` into ``line`` without citations (when asked); returns its length."""
    m = 0
    k = a
    while k < b:
        skip = citation_len(cps, k, b, flags) if (remove_citations and cps[k] == 91) else 0
        if skip:
            k += skip
        else:
            line[m] = cps[k]
            m += 1
            k += 1
    return m


@numba.njit(cache=True, nogil=True)
def _line_words(cps, a, b, flags, max_word_length):
    """(number of whitespace-separated words, whether one is longer than ``max_word_length``)."""
    words, too_long = 0, False
    k = a
    while k < b:
        while k < b and (flags[cps[k]] & cc.SPACE):
            k += 1
        j = k
        while j < b and not (flags[cps[j]] & cc.SPACE):
            j += 1
        if j > k:
            words += 1
            too_long |= max_word_length >= 0 and j - k > max_word_length
        k = j
    return words, too_long


@numba.njit(cache=True, nogil=True)
def _ends_terminal(line, m):
    if m == 0:
        return False
    c = line[m - 1]
    if not (c == 46 or c == 63 or c == 33 or c == 34 or c == 39):
        return False
    return not (m >= 3 and c == 46 and line[m - 2] == 46 and line[m - 3] == 46)


@numba.njit(cache=True, nogil=True)
def _contains(line, m, c):
    for k in range(m):
        if line[k] == c:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _has_policy(line, m):
    for p in range(POLICY_OFF.shape[0] - 1):
        if contains_ascii_lower(line, 0, m, POLICY_CPS[POLICY_OFF[p]:POLICY_OFF[p + 1]]):
            return True
    return False


@numba.njit(cache=True, nogil=True)
def c4_kernel(data, offsets, longest, flags, ex, units, unit_off, opts, out_data, out_offsets, out):
    """Reason code per document (index into REASONS, -1 keeps) and the rewritten texts. ``opts``:
    remove_citations, filter_no_terminal_punct, min_num_sentences, min_words_per_line,
    max_word_length, filter_lorem_ipsum, filter_javascript, filter_curly_bracket, filter_policy,
    remove_lines."""
    size = longest + 2
    cps, line, kept = np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size, np.int32)
    ts, te = np.empty(size, np.int64), np.empty(size, np.int64)
    stack = np.empty(4 * size, np.int64)
    pos = 0
    out_offsets[0] = 0
    for d in range(offsets.shape[0] - 1):
        n = decode_into(data, offsets[d], offsets[d + 1], cps)
        code, w, num_kept, sentences = -1, 0, 0, 0
        i = 0
        while i < n and code < 0:
            start = i
            end, i = next_line(cps, start, n, flags)
            a, b = strip_span(cps, start, end, flags)
            words, too_long = _line_words(cps, a, b, flags, opts[4])
            if too_long:
                continue
            m = _copy_line(cps, a, b, flags, opts[0], line)
            if (opts[1] and not _ends_terminal(line, m)) or words < opts[3]:
                continue
            if opts[5] and contains_ascii_lower(line, 0, m, LOREM):
                code = 0
            elif opts[6] and contains_ascii_lower(line, 0, m, JAVASCRIPT):
                continue
            elif opts[7] and _contains(line, m, 123):
                code = 1
            elif opts[8] and _has_policy(line, m):
                continue
            else:
                if opts[2] != -1:
                    sentences += count_sentences(line, 0, m, flags, ex, units, unit_off, ts, te, stack)
                if num_kept > 0:
                    kept[w] = 10
                    w += 1
                kept[w:w + m] = line[:m]
                w += m
                num_kept += 1
        if code < 0 and sentences < opts[2]:
            code = 2
        out[d] = code
        if code < 0 and opts[9]:
            a, b = strip_span(kept, 0, w, flags)
            pos = encode_into(kept, a, b, out_data, pos)
        else:
            out_data[pos:pos + offsets[d + 1] - offsets[d]] = data[offsets[d]:offsets[d + 1]]
            pos += offsets[d + 1] - offsets[d]
        out_offsets[d + 1] = pos
