"""FineWeb quality kernel (the rules are in curate/steps/fineweb_quality.py): one pass per batch over
the UTF-8 text, one int32 reason code per document."""

from __future__ import annotations

import numba
import numpy as np

from curate.kernels.dupes import dup_stats
from curate.kernels.utf8 import decode_into
from curate.kernels.words import WORD_TABLES, doc_tokens, span_key
from curate.text import charclass as cc

SIGNATURES = {"fineweb_codes": f"void(u1[::1], i8[::1], i8, {WORD_TABLES}, i4[::1], f8[::1], b1, "
                               "i8[::1], i8[::1], i8[::1], i4[::1])"}


@numba.njit(cache=True, nogil=True)
def _is_stop(c, stop_chars):
    i = np.searchsorted(stop_chars, c)
    return i < stop_chars.shape[0] and stop_chars[i] == c


@numba.njit(cache=True, nogil=True)
def fineweb_codes(data, offsets, longest, flags, ex, units, unit_off, stop_chars, bounds, exclude_zero,
                  given_off, given_s, given_e, out):
    """Reason code per document (index into REASONS, -1 keeps). ``bounds``: min punct-line ratio,
    max short-line ratio, short-line length, max dup-char ratio, max newline-per-word ratio.
    ``given_*``: word spans from another tokenizer (empty: spaCy-English)."""
    size = longest + 2
    cps = np.empty(size, np.int32)
    ts, te = np.empty(size, np.int64), np.empty(size, np.int64)
    stack = np.empty(4 * size, np.int64)
    keys, lens = np.empty(size, np.uint64), np.empty(size, np.int64)
    for d in range(offsets.shape[0] - 1):
        n = decode_into(data, offsets[d], offsets[d + 1], cps)
        lines = punct = short = newlines = 0
        start = 0
        for i in range(n + 1):
            if i < n and cps[i] != 10:
                continue
            if i < n:
                newlines += 1
            blank = True
            for k in range(start, i):
                if not (flags[cps[k]] & cc.SPACE):
                    blank = False
                    break
            if not blank:
                keys[lines], lens[lines] = span_key(cps, start, i), i - start
                lines += 1
                punct += _is_stop(cps[i - 1], stop_chars)
                short += i - start <= bounds[2]
            start = i + 1
        code = -1
        if lines == 0:
            code = 0
        elif punct / lines < bounds[0] and not (punct == 0 and exclude_zero):
            code = 1
        elif short / lines > bounds[1]:
            code = 2
        elif dup_stats(keys, lens, lines)[1] / (n - newlines) > bounds[3]:
            code = 3
        else:
            nt = doc_tokens(cps, n, d, flags, ex, units, unit_off, ts, te, stack, given_off, given_s, given_e)
            if nt > 0 and newlines / nt > bounds[4]:
                code = 4
        out[d] = code
