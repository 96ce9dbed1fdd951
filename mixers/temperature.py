"""Temperature sampling: weight of group i ∝ size_i^(1/T) (sizes in tokens).

T = 1 gives the natural (proportional) mixture; T -> inf tends to uniform over non-empty groups;
T < 1 sharpens towards the largest group. Computed in log space so huge sizes and small T do not
overflow. (Arivazhagan et al. 2019 / XLM-R's multilingual sampling use the same form, usually T ~ 3
[MEM].) Empty groups get 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from curate.errors import RecipeError


def temperature_weights(sizes: Mapping[str, int], temperature: float) -> dict[str, float]:
    """``w_i = size_i^(1/T) / sum_j size_j^(1/T)`` over the groups with size > 0."""
    if temperature <= 0:
        raise RecipeError(f"temperature={temperature!r} is out of range; allowed: > 0")
    names = list(sizes)
    size = np.array([sizes[g] for g in names], dtype=np.float64)
    if not (size > 0).any():
        raise RecipeError("temperature: every group is empty; nothing to mix")
    logw = np.full(len(names), -np.inf)
    logw[size > 0] = np.log(size[size > 0]) / temperature
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return {g: float(x) for g, x in zip(names, w)}
