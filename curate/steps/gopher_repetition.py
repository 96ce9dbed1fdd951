"""Gopher repetition rules (Rae et al. 2021, Table A1), as datatrove 0.10.1's ``GopherRepetitionFilter``
applies them, in one numba pass per batch.

Paragraphs are ``text.strip()`` split on ``\\n{2,}``, lines ``text`` split on ``\\n+``, words
spaCy-English tokens (``curate/text/words.py``) or ``language``'s (``curate/text/lang_words.py``).
All character fractions divide by ``len(text)``. A document is dropped by the first failing rule, in this order (reasons are datatrove's):

| reason | rule (defaults) |
|---|---|
| ``empty`` | empty text |
| ``dup_para_frac`` / ``dup_para_char_frac`` | duplicate paragraphs > 30 % of paragraphs / > 20 % of chars |
| ``dup_line_frac`` / ``dup_line_char_frac`` | duplicate lines > 30 % of lines / > 20 % of chars |
| ``top_{n}_gram`` | most frequent word n-gram (joined by spaces) x count > 20 / 18 / 16 % of chars, n = 2 / 3 / 4 |
| ``duplicated_{n}_n_grams`` | chars of repeated n-grams (joined without spaces, greedy scan) > 15 ... 10 % for n = 5 ... 10 |

N-grams are keyed by 64-bit hashes: top n-grams by the word tuple, duplicated n-grams by the
concatenated characters (a polynomial hash mod 2^64 over the words' characters, so any n-gram's key
is two prefix lookups), exactly the equalities datatrove uses (up to 64-bit collisions).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numba
import numpy as np
import pyarrow as pa

from curate.config import check_range, param
from curate.schema import TEXT
from curate.steps.doc_kernel import codes_to_reasons, text_buffers, threshold
from curate.text import charclass as cc
from curate.text.dupes import dup_stats, greedy_dup_chars, top_repeat_chars
from curate.kernels.utf8 import decode_into
from curate.text.lang_words import check_language_params, step_spans
from curate.text.words import doc_tokens, span_key, word_tables

INF = float("inf")
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class GopherRepetition:
    """Gopher repetition rules (datatrove GopherRepetitionFilter): duplicate paragraphs and lines,
    top word n-grams, duplicated word n-grams."""

    name: ClassVar[str] = "gopher_repetition"
    dup_para_frac: float | None = param(0.3, doc="max fraction of duplicate paragraphs; none = off")
    dup_para_char_frac: float | None = param(0.2, doc="max fraction of chars in duplicate paragraphs")
    dup_line_frac: float | None = param(0.3, doc="max fraction of duplicate lines; none = off")
    dup_line_char_frac: float | None = param(0.2, doc="max fraction of chars in duplicate lines")
    top_ngram_sizes: tuple[int, ...] = param((2, 3, 4), doc="n of the top n-gram rules")
    top_ngram_max_fracs: tuple[float, ...] = param((0.2, 0.18, 0.16), doc="max char fraction of the top n-gram, per n")
    dup_ngram_sizes: tuple[int, ...] = param((5, 6, 7, 8, 9, 10), doc="n of the duplicated n-gram rules")
    dup_ngram_max_fracs: tuple[float, ...] = param(
        (0.15, 0.14, 0.13, 0.12, 0.11, 0.10), doc="max char fraction of duplicated n-grams, per n")
    language: str = param("en", doc="word splitting (curate/text/lang_words.py): en, de, deu_Latn, ...")
    thresholds: str | None = param(None, doc="'fineweb2': FineWeb-2's values for `language` where the recipe sets none")
    lang_column: str | None = param(
        None, doc="column with each row's language (lang_id's `lang`): words per row; `language` where null/unknown")

    def __post_init__(self) -> None:
        check_language_params(self.language, self.thresholds, self.lang_column)
        for key in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            if getattr(self, key) is not None:
                check_range(key, getattr(self, key), 0.0, 1.0)
        for sizes, fracs in (("top_ngram_sizes", "top_ngram_max_fracs"), ("dup_ngram_sizes", "dup_ngram_max_fracs")):
            if len(getattr(self, sizes)) != len(getattr(self, fracs)):
                raise ValueError(f"{fracs} has {len(getattr(self, fracs))} values for "
                                 f"{len(getattr(self, sizes))} {sizes}; give one per size")
            for n in getattr(self, sizes):
                check_range(sizes, n, 1)

    @property
    def reasons(self) -> list[str]:
        return (["empty", "dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"]
                + [f"top_{n}_gram" for n in self.top_ngram_sizes]
                + [f"duplicated_{n}_n_grams" for n in self.dup_ngram_sizes])

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        data, offsets, longest = text_buffers(batch.column(TEXT))
        fracs = np.array([threshold(v, INF) for v in (self.dup_para_frac, self.dup_para_char_frac,
                                                       self.dup_line_frac, self.dup_line_char_frac)])
        codes = np.empty(batch.num_rows, np.int32)
        gopher_repetition_codes(
            data, offsets, longest, *word_tables(), fracs,
            np.array(self.top_ngram_sizes, np.int64), np.array(self.top_ngram_max_fracs, np.float64),
            np.array(self.dup_ngram_sizes, np.int64), np.array(self.dup_ngram_max_fracs, np.float64),
            *step_spans(batch, TEXT, self.language, self.lang_column)[0], codes)
        return codes_to_reasons(codes, self.reasons)
