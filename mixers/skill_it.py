"""Skill-It online mixing (Chen et al., NeurIPS 2023), exactly as METHODS.md s.2 / ``mw_trainer.py``.

With the skills graph A (k training skills x m evaluation skills; A[i, j] > 0: training on skill i
lowers the loss of skill j), prior w0 (ones by default), learning rate eta and window w:

    p_1     ∝ w0 * exp(eta * A @ ones(m))            # loss_init = ones: row sums of A
    p_{t+1} ∝ w0 * exp(eta * A @ sum_{s=t-w+1..t} L_s) # L_s: per-eval-skill validation losses

Before use, any off-diagonal entry of A equal to 1 becomes 0.5 (as the reference code does).
Options of the reference code: ``reduce="mean"`` averages the window instead of summing it (its
fine-tuning variant); ``normalize_loss`` divides each loss by the first observed round's (``L / L_0``).
Defaults eta = 0.5, window = 3 (LEGO continual pretraining). Computed with a max-shift in log space
(mathematically identical; it only avoids overflow).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def prepare_graph(matrix: np.ndarray) -> np.ndarray:
    """A copy of ``matrix`` (float64) with off-diagonal entries equal to 1 replaced by 0.5."""
    a = np.array(matrix, dtype=np.float64, copy=True)
    if a.ndim != 2:
        raise ValueError(f"skills graph must be a 2-d matrix, got shape {a.shape}")
    off = ~np.eye(a.shape[0], a.shape[1], dtype=bool)
    a[off & (a == 1.0)] = 0.5
    return a


def skill_it_weights(graph: np.ndarray, loss_history: Sequence[Sequence[float]], eta: float,
                     window: int, prior: Sequence[float] | None = None, reduce: str = "sum",
                     normalize_loss: bool = False) -> np.ndarray:
    """The mixture p over the k training skills after the rounds in ``loss_history`` (each a vector of
    m evaluation losses); with no history, the initial mixture (losses = ones). ``graph`` is used as
    given: pass it through :func:`prepare_graph` first."""
    a = np.asarray(graph, dtype=np.float64)
    k, m = a.shape
    w0 = np.ones(k) if prior is None else np.asarray(prior, dtype=np.float64)
    if w0.shape != (k,) or (w0 < 0).any() or w0.sum() <= 0:
        raise ValueError(f"prior must be {k} non-negative numbers, not all zero")
    if loss_history:
        recent = np.asarray(loss_history[-window:], dtype=np.float64)
        if recent.shape[1] != m:
            raise ValueError(f"losses have {recent.shape[1]} entries; the graph has {m} evaluation skills")
        if normalize_loss:
            first = np.asarray(loss_history[0], dtype=np.float64)
            recent = recent / np.where(first == 0, 1.0, first)
        loss_sum = recent.mean(axis=0) if reduce == "mean" else recent.sum(axis=0)
    else:
        loss_sum = np.ones(m)
    logits = eta * (a @ loss_sum)
    with np.errstate(divide="ignore"):
        logits = logits + np.log(w0)
    p = np.exp(logits - logits[np.isfinite(logits)].max())
    return p / p.sum()
