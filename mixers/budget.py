"""Token budgets per group: exact integer apportionment under repetition and share caps.

- :func:`apportion` splits ``total`` tokens by weights with the largest-remainder (Hamilton) method:
  floors of the quotas, then one more token to the largest fractional parts (ties: earlier group).
  The parts sum to ``total`` exactly and each is within 1 of its quota.
- :func:`caps`: a group may give at most ``floor(min(max_epochs * available, max_source_frac * total))``
  tokens (the repetition cap and the share cap).
- :func:`check_caps` fails naming the group when a requested budget exceeds its cap.
- :func:`water_fill`: the natural (size-proportional, or weighted) split that respects the caps:
  capped groups are fixed at their cap and the rest is re-apportioned among the others; fails naming
  the capped groups when even all caps together are below ``total``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from curate.errors import RecipeError


def apportion(weights: Mapping[str, float], total: int) -> dict[str, int]:
    """Integer parts of ``total`` proportional to ``weights`` (largest remainder), summing to ``total``."""
    names = list(weights)
    w = np.array([weights[g] for g in names], dtype=np.float64)
    if total < 0 or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("apportion: total and weights must be >= 0 and finite")
    if total == 0 or not names:
        return {g: 0 for g in names}
    if w.sum() <= 0:
        raise ValueError("apportion: weights are all zero")
    quota = w / math.fsum(w) * total
    parts = np.floor(quota).astype(np.int64)
    parts = np.minimum(parts, total)
    short = int(total - parts.sum())
    order = sorted(range(len(names)), key=lambda i: (-(quota[i] - parts[i]), i))
    if short >= 0:
        for i in order[:short]:
            parts[i] += 1
    else:  # float round-off put the floors above total: take back from the smallest remainders
        for i in reversed(order):
            if short == 0:
                break
            if parts[i] > 0:
                parts[i] -= 1
                short += 1
    return {g: int(p) for g, p in zip(names, parts)}


def caps(available: Mapping[str, int], total: int, max_epochs: float, max_source_frac: float) -> dict[str, int]:
    """The most tokens each group may contribute to a phase of ``total`` tokens."""
    return {g: int(math.floor(min(max_epochs * n, max_source_frac * total) + 1e-9)) for g, n in available.items()}


def check_caps(budgets: Mapping[str, int], available: Mapping[str, int], total: int,
               max_epochs: float, max_source_frac: float) -> None:
    """Raise naming the first group whose budget exceeds its repetition or share cap."""
    limit = caps(available, total, max_epochs, max_source_frac)
    for g, b in budgets.items():
        if b <= limit[g]:
            continue
        n = available[g]
        if n == 0:
            raise RecipeError(f"group {g!r} has no tokens but is asked for {b:,}; give it weight 0")
        if b > max_epochs * n:
            raise RecipeError(f"group {g!r}: {b:,} tokens requested but only {n:,} available; that is "
                              f"{b / n:.2f} epochs > max_epochs={max_epochs:g}; lower its weight, lower "
                              "num_tokens or raise max_epochs")
        raise RecipeError(f"group {g!r}: {b:,} tokens requested = {b / total:.4f} of the phase > "
                          f"max_source_frac={max_source_frac:g}; lower its weight or raise max_source_frac")


def water_fill(weights: Mapping[str, float], limit: Mapping[str, int], total: int) -> dict[str, int]:
    """Apportion ``total`` by ``weights`` but never above ``limit``; capped groups' excess goes to the
    others in proportion to their weights. Raises naming the capped groups when impossible."""
    names = [g for g in weights if weights[g] > 0]
    if sum(limit[g] for g in names) < total:
        capped = ", ".join(f"{g} (cap {limit[g]:,})" for g in names)
        raise RecipeError(f"cannot fill {total:,} tokens: the groups' caps sum to only "
                          f"{sum(limit[g] for g in names):,}: {capped}; raise max_epochs or "
                          "max_source_frac, or lower num_tokens")
    fixed: dict[str, int] = {}
    while True:
        free = {g: weights[g] for g in names if g not in fixed}
        parts = apportion(free, total - sum(fixed.values()))
        over = [g for g, p in parts.items() if p > limit[g]]
        if not over:
            out = {g: 0 for g in weights}
            out.update(fixed)
            out.update(parts)
            return out
        for g in over:
            fixed[g] = limit[g]
