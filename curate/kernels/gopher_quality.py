"""Gopher quality kernel (the rules are in curate/steps/gopher_quality.py): one pass per batch over
the UTF-8 text, spaCy-English or given word spans, one int32 reason code per document."""

from __future__ import annotations

import numba
import numpy as np

from curate.kernels.lines import count_substring, next_line, strip_span
from curate.kernels.utf8 import decode_into
from curate.kernels.words import WORD_TABLES, doc_tokens
from curate.text import charclass as cc

SIGNATURES = {"gopher_quality_codes": f"void(u1[::1], i8[::1], i8, {WORD_TABLES}, f8[::1], i4[::1], i8[::1], "
                                      "i8[::1], i8[::1], i8[::1], i8[::1], i8[::1], i4[::1])"}

DOTS = np.array([46, 46, 46], np.int32)
ELLIPSIS = np.array([8230], np.int32)
HASH = np.array([35], np.int32)


@numba.njit(cache=True, nogil=True)
def _ratio(num, den):
    return num / den if den > 0 else 0.0


@numba.njit(cache=True, nogil=True)
def _line_stats(cps, n, flags):
    """(lines, lines starting with a bullet, lines ending with an ellipsis), as ``str.splitlines``."""
    lines = bullets = ellipses = 0
    i = 0
    while i < n:
        end, nxt = next_line(cps, i, n, flags)
        a, b = strip_span(cps, i, end, flags)
        lines += 1
        if a < end and (cps[a] == 8226 or cps[a] == 45):
            bullets += 1
        if b > i and (cps[b - 1] == 8230 or (b - i >= 3 and cps[b - 1] == 46 and cps[b - 2] == 46 and cps[b - 3] == 46)):
            ellipses += 1
        i = nxt
    return lines, bullets, ellipses


@numba.njit(cache=True, nogil=True)
def _stop_words_found(cps, ts, te, nt, stop_cps, stop_off, w0, w1):
    """How many distinct stop words (numbers ``w0`` .. ``w1`` of the list) occur as tokens."""
    seen = np.zeros(stop_off.shape[0] - 1, dtype=np.bool_)
    found = 0
    for t in range(nt):
        length = te[t] - ts[t]
        for w in range(w0, w1):
            a, b = stop_off[w], stop_off[w + 1]
            if seen[w] or b - a != length:
                continue
            same = True
            for k in range(length):
                if stop_cps[a + k] != cps[ts[t] + k]:
                    same = False
                    break
            if same:
                seen[w] = True
                found += 1
    return found


@numba.njit(cache=True, nogil=True)
def gopher_quality_codes(data, offsets, longest, flags, ex, units, unit_off, bounds, stop_cps, stop_off,
                         set_off, row_set, given_off, given_s, given_e, out):
    """Reason code per document (index into REASONS, -1 keeps). ``bounds``: min/max words, min/max
    mean word length, max symbol ratio, max bullet ratio, max end-ellipsis ratio, min alpha ratio,
    min stop words. Row ``d`` uses stop words ``set_off[row_set[d]]`` .. ``set_off[row_set[d] + 1]``.
    ``given_*``: word spans from another tokenizer (empty: spaCy-English)."""
    cps = np.empty(longest + 1, np.int32)
    ts = np.empty(longest + 1, np.int64)
    te = np.empty(longest + 1, np.int64)
    stack = np.empty(4 * longest + 4, np.int64)
    for d in range(offsets.shape[0] - 1):
        n = decode_into(data, offsets[d], offsets[d + 1], cps)
        nt = doc_tokens(cps, n, d, flags, ex, units, unit_off, ts, te, stack, given_off, given_s, given_e)
        words = 0
        word_chars = 0
        alpha_words = 0
        for t in range(nt):
            symbol, alpha = True, False
            for k in range(ts[t], te[t]):
                f = flags[cps[k]]
                if not (f & cc.DT_PUNCT):
                    symbol = False
                if f & cc.ALPHA:
                    alpha = True
            if not symbol:
                words += 1
                word_chars += te[t] - ts[t]
            if alpha:
                alpha_words += 1
        code = -1
        mean_len = word_chars / words if words > 0 else np.nan
        hashes = count_substring(cps, 0, n, HASH)
        if words < bounds[0]:
            code = 0
        elif words > bounds[1]:
            code = 1
        elif mean_len < bounds[2]:
            code = 2
        elif mean_len > bounds[3]:
            code = 3
        elif _ratio(hashes, nt) > bounds[4]:
            code = 4
        elif _ratio(count_substring(cps, 0, n, DOTS) + count_substring(cps, 0, n, ELLIPSIS), nt) > bounds[4]:
            code = 5
        if code < 0:
            lines, bullets, ellipses = _line_stats(cps, n, flags)
            if _ratio(bullets, lines) > bounds[5]:
                code = 6
            elif _ratio(ellipses, lines) > bounds[6]:
                code = 7
            elif _ratio(alpha_words, nt) < bounds[7]:
                code = 8
            elif bounds[8] > 0 and _stop_words_found(cps, ts, te, nt, stop_cps, stop_off, set_off[row_set[d]],
                                                         set_off[row_set[d] + 1]) < bounds[8]:
                code = 9
        out[d] = code
