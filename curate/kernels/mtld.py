"""MTLD kernel (the method is in curate/text/mtld.py): forward and backward factor counts over each
row's dense word ids, one pass per batch."""

from __future__ import annotations

import numba
import numpy as np

SIGNATURES = {"mtld_scores": "void(i8[::1], i8[::1], i8, f8, f8[::1])"}


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
def mtld_scores(ids, offsets, vocab, threshold, out):
    """Bidirectional MTLD of each row's word ids ``ids[offsets[r]:offsets[r + 1]]`` into ``out``
    (NaN for a row without words); ``vocab`` > every id."""
    n = offsets.shape[0] - 1
    out[:] = np.nan
    last_run = np.full(vocab, -1, np.int64)
    run = 0
    for r in range(n):
        s, e = offsets[r], offsets[r + 1]
        if e == s:
            continue
        fwd, run = _factors(ids, s, e, 1, threshold, last_run, run)
        bwd, run = _factors(ids, s, e, -1, threshold, last_run, run)
        out[r] = 0.5 * ((e - s) / fwd + (e - s) / bwd)
