"""Source-code quality kernel (the rules are in curate/steps/code_quality.py): one pass per batch
over the UTF-8 text, one int32 reason code per file."""

from __future__ import annotations

import numba
import numpy as np

from curate.kernels.lines import contains_ascii_lower, next_line
from curate.kernels.utf8 import decode_into
from curate.text import charclass as cc

SIGNATURES = {"code_quality_codes": "void(u1[::1], i8[::1], i8, u4[::1], f8[::1], i8, i4[::1], i8[::1], b1, i4[::1])"}

XML = np.array([ord(c) for c in "<?xml version="], np.int32)
INF = float("inf")
BASE64_MIN = 64
ESCAPES_MIN = 8
HEX_MIN = 8


@numba.njit(cache=True, nogil=True, inline="always")
def _is_hex(c):
    return (48 <= c <= 57) or (65 <= c <= 70) or (97 <= c <= 102)


@numba.njit(cache=True, nogil=True, inline="always")
def _is_b64(c):
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 43 or c == 47 or c == 61 or c == 10


@numba.njit(cache=True, nogil=True)
def _escape_run(cps, i, n):
    """Length of the run of ``\\uXXXX`` escapes starting at ``i`` (0 if none)."""
    j = i
    while j + 6 <= n and cps[j] == 92 and cps[j + 1] == 117 and _is_hex(cps[j + 2]) and _is_hex(cps[j + 3]) \
            and _is_hex(cps[j + 4]) and _is_hex(cps[j + 5]):
        j += 6
    return j - i


@numba.njit(cache=True, nogil=True)
def _hex_item(cps, i, n, flags):
    """Length of one hex byte item at ``i`` (prefix, two digits, separator), 0 if none."""
    j = i
    if j + 1 < n and cps[j] == 48 and (cps[j + 1] == 120 or cps[j + 1] == 88):
        j += 2
    elif j + 1 < n and cps[j] == 92 and cps[j + 1] == 120:
        j += 2
    if not (j + 1 < n and _is_hex(cps[j]) and _is_hex(cps[j + 1])):
        return 0
    j += 2
    if j == n:
        return j - i
    if cps[j] == 44:
        j += 1
    elif not (flags[cps[j]] & cc.SPACE):
        return 0
    while j < n and (flags[cps[j]] & cc.SPACE):
        j += 1
    return j - i


@numba.njit(cache=True, nogil=True)
def encoded_runs(cps, n, flags):
    """(longest encoded run, chars in encoded runs) of ``cps[:n]``."""
    longest = total = 0
    i = 0
    while i < n:
        run = 0
        k = _escape_run(cps, i, n)
        if k >= 6 * ESCAPES_MIN:
            run = k
        else:
            j, items = i, 0
            while True:
                m = _hex_item(cps, j, n, flags)
                if m == 0:
                    break
                j += m
                items += 1
            if items >= HEX_MIN:
                run = j - i
            elif _is_b64(cps[i]):
                j = i
                while j < n and _is_b64(cps[j]):
                    j += 1
                if j - i >= BASE64_MIN:
                    run = j - i
                else:
                    i = j  # a maximal base64-alphabet run shorter than the minimum: skip it whole
                    continue
        if run > 0:
            longest = max(longest, run)
            total += run
            i += run
        else:
            i += 1
    return longest, total


@numba.njit(cache=True, nogil=True)
def code_quality_codes(data, offsets, longest, flags, bounds, scan_lines, markers, marker_off, check_xml, out):
    """Reason code per file (index into REASONS, -1 keeps; data-file rule is applied outside).
    ``bounds``: max line length, max mean line length, min alphanumeric fraction, max encoded run,
    max encoded fraction."""
    cps = np.empty(longest + 1, np.int32)
    for d in range(offsets.shape[0] - 1):
        n = decode_into(data, offsets[d], offsets[d + 1], cps)
        lines = max_len = total_len = alnum = 0
        head_end = 0
        i = 0
        while i < n:
            end, nxt = next_line(cps, i, n, flags)
            lines += 1
            max_len = max(max_len, end - i)
            total_len += end - i
            if lines <= scan_lines:
                head_end = end
            i = nxt
        for k in range(n):
            if flags[cps[k]] & cc.ALNUM:
                alnum += 1
        mean_len = total_len / lines if lines > 0 else 0.0
        code = -1
        if max_len > bounds[0]:
            code = 0
        elif mean_len > bounds[1]:
            code = 1
        elif (alnum / n if n > 0 else 0.0) < bounds[2]:
            code = 2
        else:
            for m in range(marker_off.shape[0] - 1):
                if contains_ascii_lower(cps, 0, head_end, markers[marker_off[m]:marker_off[m + 1]]):
                    code = 3
                    break
        if code < 0 and check_xml:
            for k in range(min(n, 100) - XML.shape[0] + 1):
                same = True
                for j in range(XML.shape[0]):
                    if cps[k + j] != XML[j]:
                        same = False
                        break
                if same:
                    code = 4
                    break
        if code < 0 and (bounds[3] < INF or bounds[4] < INF):
            run, total = encoded_runs(cps, n, flags)
            if run > bounds[3] or (n > 0 and total / n > bounds[4]):
                code = 5
        out[d] = code
