"""Static mixture weights: the user's ``weights = {group = w}``, normalised to sum to 1.

Groups the user does not name get weight 0; naming a group the data lacks is an error (a typo
would otherwise silently drop a source).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from curate.errors import RecipeError


def static_weights(weights: Mapping[str, float], groups: Sequence[str]) -> dict[str, float]:
    """``{g: weights[g] / sum(weights)}`` for every group in ``groups`` (0 when not named)."""
    unknown = sorted(set(weights) - set(groups))
    if unknown:
        raise RecipeError(f"weights: group {unknown[0]!r} is not in the data; groups: {', '.join(groups)}")
    if any(w < 0 or not math.isfinite(w) for w in weights.values()):
        raise RecipeError("weights: every weight must be finite and >= 0")
    total = math.fsum(weights.values())
    if total <= 0:
        raise RecipeError("weights: all zero; give at least one positive weight")
    return {g: weights.get(g, 0.0) / total for g in groups}
