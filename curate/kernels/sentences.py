"""Sentence counting as spaCy 3.8's ``Sentencizer`` does it (datatrove's ``split_into_sentences``).

Over the spaCy-English tokens of a span (``tokenize`` of ``words.py``), a sentence starts at the
first token that is neither punctuation (all characters Unicode ``P*``) nor a sentence-final
character (``!``, ``.``, ``?`` and their equivalents in other scripts) after a sentence-final token.
spaCy also makes tokens of whitespace runs (any whitespace gap except one plain space); they count
as non-punctuation here too. A helper of the ``c4`` family (no exports).
"""

from __future__ import annotations

import numba

from curate.kernels.words import tokenize
from curate.text import charclass as cc


@numba.njit(cache=True, nogil=True)
def count_sentences(cps, s, e, flags, ex, units, unit_off, ts, te, stack):
    """Number of sentences spaCy's sentencizer finds in ``cps[s:e]`` (1 when there is no token)."""
    nt = tokenize(cps, s, e, flags, ex, units, unit_off, ts, te, stack)
    sentences = 1
    seen_end = False
    prev_end = s
    for t in range(nt):
        gap = ts[t] - prev_end
        if t > 0 and seen_end and (gap > 1 or (gap == 1 and cps[prev_end] != 32)):
            sentences += 1  # a whitespace token starts the new sentence
            seen_end = False
        length = te[t] - ts[t]
        is_end = length == 1 and (flags[cps[ts[t]]] & cc.SENT_END) != 0
        is_punct = True
        for k in range(ts[t], te[t]):
            if not (flags[cps[k]] & cc.UNI_PUNCT):
                is_punct = False
                break
        if seen_end and not is_punct and not is_end:
            sentences += 1
            seen_end = False
        elif is_end:
            seen_end = True
        prev_end = te[t]
    gap = e - prev_end
    if nt > 0 and seen_end and (gap > 1 or (gap == 1 and cps[prev_end] != 32)):
        sentences += 1
    return sentences
