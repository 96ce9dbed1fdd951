"""The spaCy 3.8 English tokenizer (datatrove's ``split_into_words``) as numba code over codepoints.

datatrove 0.10.1 splits English text into words with ``spacy.blank("en")`` (~0.3 MB/s). This port
follows spaCy's algorithm on codepoints: split on whitespace; per chunk, repeatedly strip one
prefix and one suffix (spaCy's ``_split_affixes`` loop, stopping at a special case); then the core is
a special case (``"don't"`` -> ``do`` + ``n't``, ``"Mr."``), a URL, or is split at infixes. The
rules are spaCy's English ``TOKENIZER_PREFIXES`` / ``SUFFIXES`` / ``INFIXES`` written as code over
the character classes of ``curate/text/charclass.py``; its 1,343 special cases ship in
``reference_data.py`` and become lookup tables in ``curate/text/words.py`` (``word_tables``).
Known simplifications (rare in real text): spaCy's URL regex becomes a scheme/host/TLD/path scan
without the IP-address exclusions.

Exported: :func:`english_spans` (``curate/text/lang_words.py``). The step families
(``gopher_quality``, ``gopher_repetition``, ``fineweb_quality``, ``c4``) compile :func:`tokenize` /
:func:`doc_tokens` into their own libraries; their signatures spell the tables as
:data:`WORD_TABLES`. In JIT mode numba caches kernels (``cache=True``) but does not invalidate a
caller's cache when a callee's file changes: after editing this package delete
``__pycache__/*.nb[ic]``.
"""

from __future__ import annotations

import numba
import numpy as np

from curate.kernels.borrow import borrow
from curate.kernels.utf8 import decode_into
from curate.text import charclass as cc
from curate.text.words import MAX_MERGE_TOKENS, MAX_SPECIAL_LEN, MAX_UNIT_LEN

#: numba types of ``curate.text.words.word_tables()``: flags, the special-case tables, units, unit offsets.
WORD_TABLES = ("u4[::1], Tuple((u8[::1], i8[::1], i4[::1], i8[::1], i8[::1], i8[::1], i8[::1], i8[::1])), "
               "i4[::1], i8[::1]")
SIGNATURES = {"english_spans": f"void(u1[::1], i8[::1], i8, {WORD_TABLES}, i8[::1], i8[::1], i8[::1])"}


@numba.njit(cache=True, nogil=True, inline="always")
def span_key(cps, s, e):
    """FNV-1a style 64-bit key of ``cps[s:e]`` (never 0)."""
    h = np.uint64(14695981039346656037)
    for i in range(s, e):
        h = (h ^ np.uint64(cps[i])) * np.uint64(1099511628211)
    return h | np.uint64(1)


@numba.njit(cache=True, nogil=True, inline="always")
def find_special(cps, s, e, ex):
    """Index of the special case equal to ``cps[s:e]``, or -1."""
    if e - s > MAX_SPECIAL_LEN or e <= s:
        return -1
    keys, index, ex_cps, cp_off = ex[0], ex[1], ex[2], ex[3]
    key = span_key(cps, s, e)
    mask = keys.shape[0] - 1
    slot = np.int64(key) & mask
    while index[slot] >= 0:
        if keys[slot] == key:
            i = index[slot]
            a, b = cp_off[i], cp_off[i + 1]
            if b - a == e - s:
                same = True
                for k in range(e - s):
                    if ex_cps[a + k] != cps[s + k]:
                        same = False
                        break
                if same:
                    return i
        slot = (slot + 1) & mask
    return -1


@numba.njit(cache=True, nogil=True, inline="always")
def _is_digit(c):
    return 48 <= c <= 57


@numba.njit(cache=True, nogil=True, inline="always")
def find_prefix(cps, s, e, flags):
    """Length of spaCy's prefix match at ``cps[s]`` (0 if none)."""
    c = cps[s]
    if c == 43:  # "+" unless a digit follows
        return 0 if (s + 1 < e and _is_digit(cps[s + 1])) else 1
    if c == 46:  # \.\.+
        j = s
        while j < e and cps[j] == 46:
            j += 1
        return j - s if j - s >= 2 else 0
    if flags[c] & cc.PREFIX:
        return 1
    if s + 2 < e and c == 85 and cps[s + 1] == 83 and cps[s + 2] == 36:  # US$
        return 3
    if s + 1 < e and (c == 67 or c == 65) and cps[s + 1] == 36:  # C$ A$
        return 2
    return 0


@numba.njit(cache=True, nogil=True)
def _unit_len(cps, s, e, units, unit_off):
    """Length of the unit that ends the span right after its last ASCII digit (0 if none)."""
    d = e - 1
    lo = max(s, e - MAX_UNIT_LEN - 1)
    while d >= lo and not _is_digit(cps[d]):
        d -= 1
    if d < lo or d == e - 1:
        return 0
    n = e - d - 1
    for u in range(unit_off.shape[0] - 1):
        a, b = unit_off[u], unit_off[u + 1]
        if b - a == n:
            same = True
            for k in range(n):
                if units[a + k] != cps[d + 1 + k]:
                    same = False
                    break
            if same:
                return n
    return 0


@numba.njit(cache=True, nogil=True, inline="always")
def _dot_suffix_ok(prev, flags):
    """spaCy's ``(?<=[0-9{al}%²\\-\\+{p}(?:{q})])\\.``: may a final period split off after ``prev``?"""
    if _is_digit(prev) or prev == 37 or prev == 178 or prev == 45 or prev == 43:
        return True
    if prev == 124 or prev == 40 or prev == 41 or prev == 63 or prev == 58:  # | ( ) ? :
        return True
    return (flags[prev] & (cc.LOWER | cc.SP_PUNCT | cc.QUOTE)) != 0


@numba.njit(cache=True, nogil=True, inline="always")
def find_suffix(cps, s, e, flags, units, unit_off):
    """Length of spaCy's (leftmost-starting) suffix match ending at ``e`` (0 if none)."""
    n = e - s
    c = cps[e - 1]
    best = 0
    if c == 46:
        j = e
        while j > s and cps[j - 1] == 46:
            j -= 1
        if e - j >= 2:
            best = e - j
        elif n >= 2 and _dot_suffix_ok(cps[e - 2], flags):
            best = 1
        elif n >= 3 and (flags[cps[e - 2]] & cc.UPPER) and (flags[cps[e - 3]] & cc.UPPER):
            best = 1
        elif n >= 3 and cps[e - 3] == 176 and cps[e - 2] in (70, 102, 67, 99, 75, 107):
            best = 1
    elif flags[c] & cc.SUFFIX:
        best = 1
        if c == 8230 and n >= 2 and cps[e - 2] == 8230:  # "……"
            best = 2
    if n >= 2 and (c == 115 or c == 83) and (cps[e - 2] == 39 or cps[e - 2] == 8217):  # 's ’s
        best = max(best, 2)
    if n >= 2 and _is_digit(cps[e - 2]):
        if c == 43 or (flags[c] & cc.CURRENCY):
            best = max(best, 1)
    if n >= 3 and c == 36 and _is_digit(cps[e - 3]) and (cps[e - 2] == 67 or cps[e - 2] == 65):
        best = max(best, 2)
    if n >= 4 and c == 36 and _is_digit(cps[e - 4]) and cps[e - 3] == 85 and cps[e - 2] == 83:
        best = max(best, 3)
    return max(best, _unit_len(cps, s, e, units, unit_off))


@numba.njit(cache=True, nogil=True, inline="always")
def _infix_at(cps, s, i, e, flags):
    """Length of an infix match starting at ``i`` within the core ``cps[s:e]`` (0 if none)."""
    c = cps[i]
    if c == 46 and i + 1 < e and cps[i + 1] == 46:
        j = i
        while j < e and cps[j] == 46:
            j += 1
        return j - i
    if c == 8230 or (flags[c] & cc.ICON):
        return 1
    if i == s:
        return 0
    prev = cps[i - 1]
    nxt = cps[i + 1] if i + 1 < e else -1
    fp = flags[prev]
    fn = flags[nxt] if nxt >= 0 else 0
    if _is_digit(prev) and (c == 43 or c == 45 or c == 42 or c == 94) and (_is_digit(nxt) or nxt == 45):
        return 1
    if c == 46 and (fp & (cc.LOWER | cc.QUOTE)) and nxt >= 0 and (fn & (cc.UPPER | cc.QUOTE)):
        return 1
    if c == 44 and (fp & cc.SP_ALPHA) and (fn & cc.SP_ALPHA):
        return 1
    if (fp & cc.SP_ALPHA) or _is_digit(prev):
        if c == 45:  # - -- ---
            for k in range(1, 4):
                if i + k < e and cps[i + k - 1] == 45:
                    if flags[cps[i + k]] & cc.SP_ALPHA:
                        return k
                else:
                    break
        if (c == 8211 or c == 8212 or c == 126) and (fn & cc.SP_ALPHA):
            return 1
        if c == 8212 and nxt == 8212 and i + 2 < e and (flags[cps[i + 2]] & cc.SP_ALPHA):
            return 2
        if (c == 58 or c == 60 or c == 62 or c == 61 or c == 47) and (fn & cc.SP_ALPHA):
            return 1
    return 0


@numba.njit(cache=True, nogil=True, inline="always")
def _host_char(c, flags):
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or (0xA1 <= c <= 0xFFFF)


@numba.njit(cache=True, nogil=True)
def is_url(cps, s, e, flags):
    """Approximation of spaCy's URL_MATCH: [scheme://][user@]host.tld[:port][/?#path]."""
    i = s
    for k in range(s, e - 2):
        if cps[k] == 58 and cps[k + 1] == 47 and cps[k + 2] == 47:
            if k - s < 2:
                return False
            for j in range(s, k):  # scheme: [\w+\-.]{2,}
                c = cps[j]
                if not ((flags[c] & (cc.ALPHA | cc.DECIMAL)) or c == 95 or c == 43 or c == 45 or c == 46):
                    return False
            i = k + 3
            break
    for k in range(i, e):
        c = cps[k]
        if c == 47 or c == 63 or c == 35:
            break
        if c == 64:
            i = k + 1
    dots = 0
    label_start = i
    j = i
    while j < e:
        c = cps[j]
        if c == 46:
            if j == label_start:
                return False
            dots += 1
            label_start = j + 1
        elif not (_host_char(c, flags) or c == 95 or c == 45):
            break
        j += 1
    if dots == 0 or j - label_start < 2:
        return False
    for k in range(label_start, j):
        if not (flags[cps[k]] & cc.LOWER):
            return False
    if j < e and cps[j] == 58:
        p = j + 1
        while p < e and _is_digit(cps[p]):
            p += 1
        if p - j - 1 < 2 or p - j - 1 > 5:
            return False
        j = p
    return j == e or cps[j] == 47 or cps[j] == 63 or cps[j] == 35


@numba.njit(cache=True, nogil=True, inline="always")
def _emit(out_s, out_e, n, s, e):
    out_s[n] = s
    out_e[n] = e
    return n + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _emit_special(idx, s, ex, out_s, out_e, n):
    lens, len_off = ex[4], ex[5]
    for k in range(len_off[idx], len_off[idx + 1]):
        n = _emit(out_s, out_e, n, s, s + lens[k])
        s += lens[k]
    return n


@numba.njit(cache=True, nogil=True, inline="always")
def _plain_word(cps, s, e, flags):
    """Letters only: no prefix, suffix, infix or URL can apply (the fast path)."""
    for i in range(s, e):
        if (flags[cps[i]] & (cc.ALPHA | cc.PREFIX | cc.SUFFIX)) != cc.ALPHA:
            return False
    return True


@numba.njit(cache=True, nogil=True, inline="always")
def _attach_core(cps, s, e, flags, ex, out_s, out_e, n):
    sp = find_special(cps, s, e, ex)
    if sp >= 0:
        return _emit_special(sp, s, ex, out_s, out_e, n)
    if _plain_word(cps, s, e, flags):
        return _emit(out_s, out_e, n, s, e)
    if is_url(cps, s, e, flags):
        return _emit(out_s, out_e, n, s, e)
    start = s
    i = s
    while i < e:
        k = _infix_at(cps, s, i, e, flags)
        if k == 0 or i == s:
            i += max(k, 1)
            continue
        if i != start:
            n = _emit(out_s, out_e, n, start, i)
        n = _emit(out_s, out_e, n, i, i + k)
        start = i + k
        i += k
    if start < e:
        n = _emit(out_s, out_e, n, start, e)
    return n


@numba.njit(cache=True, nogil=True, inline="always")
def tokenize_chunk(cps, s, e, flags, ex, units, unit_off, out_s, out_e, n, stack):
    """Tokens of the whitespace-free chunk ``cps[s:e]`` appended at ``n``; returns the new count."""
    if _plain_word(cps, s, e, flags):
        sp = find_special(cps, s, e, ex)
        if sp >= 0:
            return _emit_special(sp, s, ex, out_s, out_e, n)
        return _emit(out_s, out_e, n, s, e)
    num_suffixes = 0
    last = -1
    if find_special(cps, s, e, ex) >= 0:
        last = e - s
    while s < e and e - s != last:
        last = e - s
        pre = find_prefix(cps, s, e, flags)
        if pre and s + pre < e and find_special(cps, s + pre, e, ex) >= 0:
            n = _emit(out_s, out_e, n, s, s + pre)
            s += pre
            break
        suf = find_suffix(cps, s + pre, e, flags, units, unit_off) if s + pre < e else 0
        if suf and e - suf > s and find_special(cps, s, e - suf, ex) >= 0:
            stack[2 * num_suffixes], stack[2 * num_suffixes + 1] = e - suf, e
            num_suffixes += 1
            e -= suf
            break
        if pre:
            n = _emit(out_s, out_e, n, s, s + pre)
            s += pre
        if suf:
            stack[2 * num_suffixes], stack[2 * num_suffixes + 1] = e - suf, e
            num_suffixes += 1
            e -= suf
        if s < e and find_special(cps, s, e, ex) >= 0:
            break
    if s < e:
        n = _attach_core(cps, s, e, flags, ex, out_s, out_e, n)
    for k in range(num_suffixes - 1, -1, -1):
        n = _emit(out_s, out_e, n, stack[2 * k], stack[2 * k + 1])
    return n


@numba.njit(cache=True, nogil=True)
def tokenize(cps, s, e, flags, ex, units, unit_off, out_s, out_e, stack):
    """spaCy-English word tokens of ``cps[s:e]`` into ``out_s``/``out_e`` (codepoint spans, no
    whitespace tokens); returns the number of tokens. ``out_*`` need ``e - s`` slots, ``stack`` ``4 * (e - s)``.
    The arrays are borrowed (``borrow.py``) before the helpers see them: ~10x faster."""
    cps, flags, units, unit_off = borrow(cps), borrow(flags), borrow(units), borrow(unit_off)
    out_s, out_e, stack = borrow(out_s), borrow(out_e), borrow(stack)
    ex = (borrow(ex[0]), borrow(ex[1]), borrow(ex[2]), borrow(ex[3]), borrow(ex[4]), borrow(ex[5]), borrow(ex[6]),
          borrow(ex[7]))
    n = 0
    i = s
    while i < e:
        while i < e and (flags[cps[i]] & cc.SPACE):
            i += 1
        j = i
        while j < e and not (flags[cps[j]] & cc.SPACE):
            j += 1
        if j > i:
            n0 = n
            n = tokenize_chunk(cps, i, j, flags, ex, units, unit_off, out_s, out_e, n, stack)
            if n - n0 > 1:
                n = merge_specials(cps, flags, ex, out_s, out_e, n0, n, stack)
        i = j
    return n


@numba.njit(cache=True, nogil=True)
def doc_tokens(cps, n, d, flags, ex, units, unit_off, out_s, out_e, stack, given_off, given_s, given_e):
    """Word spans of document ``d`` (decoded into ``cps[:n]``): spaCy-English tokens when
    ``given_off`` is empty, else the spans another tokenizer gave (``curate/text/lang_words.py``)."""
    if given_off.shape[0] == 0:
        return tokenize(cps, 0, n, flags, ex, units, unit_off, out_s, out_e, stack)
    a, b = given_off[d], given_off[d + 1]
    for k in range(b - a):
        out_s[k] = given_s[a + k]
        out_e[k] = given_e[a + k]
    return b - a


@numba.njit(cache=True, nogil=True)
def english_spans(data, offsets, longest, flags, ex, units, unit_off, out_off, out_s, out_e):
    """spaCy-English token spans of every document (UTF-8 ``data``/``offsets``) into ``out_*``
    (``out_off``: one more slot than documents; ``out_s``/``out_e``: ``len(data)`` slots)."""
    cps = np.empty(longest + 1, np.int32)
    ts, te = np.empty(longest + 1, np.int64), np.empty(longest + 1, np.int64)
    stack = np.empty(4 * longest + 4, np.int64)
    total = 0
    out_off[0] = 0
    for d in range(offsets.shape[0] - 1):
        n = decode_into(data, offsets[d], offsets[d + 1], cps)
        nt = tokenize(cps, 0, n, flags, ex, units, unit_off, ts, te, stack)
        out_s[total:total + nt] = ts[:nt]
        out_e[total:total + nt] = te[:nt]
        total += nt
        out_off[d + 1] = total


@numba.njit(cache=True, nogil=True, inline="always")
def _matcher_special(cps, flags, ex, starts, ends, off, i, length):
    """The special case that tokens ``i .. i+length`` (spans ``starts[off + k]`` ..
    ``ends[off + k]``) spell, if spaCy's matcher would join them (the special contains affixes and
    the tokens are its affix split); else -1."""
    s, e = starts[off + i], ends[off + i + length - 1]
    if e - s > MAX_SPECIAL_LEN or not (flags[cps[e - 1]] & cc.MATCH_LAST) or not (flags[cps[s]] & cc.MATCH_FIRST):
        return -1
    idx = find_special(cps, s, e, ex)
    if idx < 0:
        return -1
    match_lens, match_off, len_off = ex[6], ex[7], ex[5]
    if match_off[idx + 1] - match_off[idx] != length or len_off[idx + 1] - len_off[idx] > length:
        return -1  # (a special that splits into more tokens would not fit the in-place rewrite)
    for k in range(length):
        if ends[off + i + k] - starts[off + i + k] != match_lens[match_off[idx] + k]:
            return -1
    return idx


@numba.njit(cache=True, nogil=True, inline="always")
def merge_specials(cps, flags, ex, out_s, out_e, n0, n, scratch):
    """spaCy's special-case matcher within one chunk: runs of tokens that spell a special case with
    affixes (``)`` + ``:`` -> ``):``, ``d`` + ``.`` -> ``d.``) become that special case's tokens.
    Like spaCy: longest runs first, earlier starts first among equals, skipping a run whose first or
    last token is taken. ``scratch`` needs 2 * (n - n0) slots. Rewrites ``out_*[n0:n]``; returns the
    new end."""
    m = n - n0
    if m == 2:  # the common case ("word," "end."): one candidate
        idx = _matcher_special(cps, flags, ex, out_s, out_e, n0, 0, 2)
        return n if idx < 0 else _emit_special(idx, out_s[n0], ex, out_s, out_e, n0)
    for k in range(m):  # scratch[k]: token k taken by a match; scratch[m + k]: match length at k
        scratch[k], scratch[m + k] = 0, 0
    found = False
    for length in range(min(m, MAX_MERGE_TOKENS), 1, -1):
        for i in range(m - length + 1):
            if _matcher_special(cps, flags, ex, out_s, out_e, n0, i, length) < 0:
                continue
            if not scratch[i] and not scratch[i + length - 1]:
                scratch[m + i] = length
                found = True
            for k in range(i, i + length):
                scratch[k] = 1
    if not found:
        return n
    w = n0
    i = 0
    while i < m:  # rewrite in place: w <= n0 + i, and token i is read before slot w is written
        s, length = out_s[n0 + i], scratch[m + i]
        if length:
            idx = find_special(cps, s, out_e[n0 + i + length - 1], ex)
            w = _emit_special(idx, s, ex, out_s, out_e, w)
            i += length
        else:
            w = _emit(out_s, out_e, w, s, out_e[n0 + i])
            i += 1
    return w
