"""Mean ± std over seeds, and whether an arm's difference from the baseline exceeds seed noise.

Rule: with ``n_a, n_b >= 2`` seeds, the difference of means ``d = mean_a - mean_b`` **exceeds seed
noise** when ``|d| > 2 * se``, ``se = sqrt(s_a^2 / n_a + s_b^2 / n_b)`` (sample std, ddof 1: the
standard error of a difference of two means, Welch's; ``2 se`` is about a 95% interval). With one
seed, or when no arm's value varies over seeds (``se = 0``), there is no noise estimate and the
verdict is ``"n/a"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

NOISE_RULE = "|diff| > 2 * sqrt(std_a^2/n_a + std_b^2/n_b) (std over seeds, ddof 1)"


@dataclasses.dataclass(frozen=True)
class Summary:
    mean: float
    std: float          # sample std (ddof 1); 0 for one value
    n: int


def summarise(values: Sequence[float]) -> Summary:
    v = np.asarray(values, dtype=np.float64)
    return Summary(float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v))


@dataclasses.dataclass(frozen=True)
class Difference:
    diff: float
    two_se: float | None   # None with fewer than 2 seeds on a side
    exceeds: bool | None

    @property
    def verdict(self) -> str:
        return "n/a" if self.exceeds is None else "yes" if self.exceeds else "no"


def difference(arm: Summary, base: Summary) -> Difference:
    d = arm.mean - base.mean
    if arm.n < 2 or base.n < 2:
        return Difference(d, None, None)
    two_se = 2 * math.sqrt(arm.std ** 2 / arm.n + base.std ** 2 / base.n)
    if two_se == 0:
        return Difference(d, 0.0, None)
    return Difference(d, two_se, abs(d) > two_se)
