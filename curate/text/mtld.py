"""MTLD lexical diversity (McCarthy & Jarvis 2010), bidirectional, one numba pass per batch.

MTLD is the mean length of the word runs that keep a type-token ratio (TTR) above a threshold
(0.72, the paper's choice). Forward pass: add words one by one to the current run; when the run's
TTR = types / tokens falls to ``threshold`` or below, count one factor and start a new run. The last,
unfinished run adds the partial factor ``(1 - TTR) / (1 - threshold)``; a text whose words never
repeat (no factor, partial 0) counts one factor. MTLD = words / factors. The score is the mean of the
forward pass and the same pass over the reversed words. This is ``lexicalrichness``' ``mtld``
(0.5.1) exactly, on the same word list; a text without words gets NaN.

Words: the text lower-cased and split on runs of characters that are not letters, marks, digits or
``_`` (Unicode classes, so any script), empty pieces dropped (lexicalrichness also deletes digits;
here numbers are words). A script without spaces (Chinese, Japanese) is one word per run. Per batch
the words are dictionary-encoded once (pyarrow), so the kernel only compares integer ids: O(words) time and one int64 per distinct word of the batch.
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.text.words import NON_WORD_RE

#: The paper's factor threshold (McCarthy & Jarvis 2010 recommend 0.660-0.750).
MTLD_THRESHOLD = 0.72


def word_ids(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(word ids, offsets): the lower-cased words of every text as dense ids, row i's words at
    ``ids[offsets[i]:offsets[i + 1]]``; a null text has no words."""
    lists = pc.split_pattern_regex(pc.utf8_lower(pc.fill_null(texts.cast(pa.large_string()), "")),
                                   NON_WORD_RE)
    flat = pc.list_flatten(lists)
    keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
    parent = pc.list_parent_indices(lists).to_numpy()[keep]
    ids = pc.dictionary_encode(flat.filter(pa.array(keep))).indices.to_numpy(zero_copy_only=False)
    counts = np.bincount(parent, minlength=len(texts))
    return ids.astype(np.int64), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


@numba.njit(cache=True)
def _factors(ids, start, end, step, threshold, last_run, run):
    """MTLD factors of ``ids[start:end]`` walked in ``step`` (+1 / -1) order; ``last_run[w]`` is the
    last run id in which word ``w`` was seen, ``run`` the first unused run id. Returns (factors, run)."""
    factors = 0.0
    types = 0
    tokens = 0
    ttr = 1.0
    i = start if step > 0 else end - 1
    for _ in range(end - start):
        w = ids[i]
        i += step
        tokens += 1
        if last_run[w] != run:
            last_run[w] = run
            types += 1
        ttr = types / tokens
        if ttr <= threshold:
            factors += 1.0
            run += 1
            types = 0
            tokens = 0
    if tokens > 0:
        factors += (1.0 - ttr) / (1.0 - threshold)
    if factors == 0.0:
        factors = 1.0
    return factors, run + 1


@numba.njit(cache=True)
def _mtld(ids, offsets, vocab, threshold):
    n = offsets.shape[0] - 1
    out = np.full(n, np.nan)
    last_run = np.full(vocab, -1, np.int64)
    run = 0
    for r in range(n):
        s, e = offsets[r], offsets[r + 1]
        if e == s:
            continue
        fwd, run = _factors(ids, s, e, 1, threshold, last_run, run)
        bwd, run = _factors(ids, s, e, -1, threshold, last_run, run)
        out[r] = 0.5 * ((e - s) / fwd + (e - s) / bwd)
    return out


def mtld(texts: pa.Array, threshold: float = MTLD_THRESHOLD) -> np.ndarray:
    """Bidirectional MTLD of every text (float64; NaN for a null text or one without words)."""
    ids, offsets = word_ids(texts)
    vocab = int(ids.max()) + 1 if len(ids) else 1
    return _mtld(ids, offsets, vocab, float(threshold))
