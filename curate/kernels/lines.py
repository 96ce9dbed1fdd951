"""Line and whitespace helpers for numba kernels over codepoints, matching Python's ``str`` methods
(helpers of the quality-filter families; no exports).

``next_line`` walks ``str.splitlines()`` boundaries (``\\n``, ``\\r``, ``\\r\\n``, ``\\v``, ``\\f``,
``\\x1c-\\x1e``, ``\\x85``, ``\\u2028``, ``\\u2029``); ``strip_span`` is ``str.strip()``.
"""

from __future__ import annotations

import numba

from curate.text import charclass as cc


@numba.njit(cache=True, nogil=True, inline="always")
def next_line(cps, i, n, flags):
    """The line starting at ``i``: returns (end of its text, start of the next line)."""
    j = i
    while j < n and not (flags[cps[j]] & cc.LINE_BREAK):
        j += 1
    if j < n:
        if cps[j] == 13 and j + 1 < n and cps[j + 1] == 10:
            return j, j + 2
        return j, j + 1
    return j, n


@numba.njit(cache=True, nogil=True, inline="always")
def strip_span(cps, a, b, flags):
    """``str.strip()`` of ``cps[a:b]`` as a (start, end) span."""
    while a < b and (flags[cps[a]] & cc.SPACE):
        a += 1
    while b > a and (flags[cps[b - 1]] & cc.SPACE):
        b -= 1
    return a, b


@numba.njit(cache=True, nogil=True)
def count_substring(cps, a, b, pat):
    """``str.count(pat)`` (non-overlapping) within ``cps[a:b]``; ``pat`` is an int32 array."""
    m = pat.shape[0]
    count = 0
    i = a
    while i + m <= b:
        same = True
        for k in range(m):
            if cps[i + k] != pat[k]:
                same = False
                break
        if same:
            count += 1
            i += m
        else:
            i += 1
    return count


@numba.njit(cache=True, nogil=True)
def contains_ascii_lower(cps, a, b, pat):
    """Whether ``pat`` (lower-case ASCII, int32) occurs in ``cps[a:b].lower()`` (ASCII folding)."""
    m = pat.shape[0]
    for i in range(a, b - m + 1):
        same = True
        for k in range(m):
            c = cps[i + k]
            if 65 <= c <= 90:
                c += 32
            if c != pat[k]:
                same = False
                break
        if same:
            return True
    return False
