"""Skill-ordered offline schedule: prerequisites first, as a fixed order for trainers without online
feedback (the offline counterpart of Skill-It's ordered skill sets).

From the skills graph A (square, A[i, j] > ``edge_threshold`` with i != j: skill i is a prerequisite
of skill j) the skills are put into *levels* by Kahn's topological sort (level 0: no prerequisites;
each skill one level after its latest prerequisite; ties in name order). A cycle is broken by
promoting the remaining skill with the most outgoing minus incoming edge weight (then name).

The phase is cut into one stage per level of equal token length; stage l mixes every skill of level
<= l (earlier skills stay in the mix, so they are not forgotten) with the base weights renormalised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mixers.budget import apportion


def skill_levels(graph: np.ndarray, skills: Sequence[str], edge_threshold: float = 0.0) -> list[list[str]]:
    """Skills grouped by level, prerequisites first; every skill appears exactly once."""
    a = np.asarray(graph, dtype=np.float64)
    k = len(skills)
    if a.shape != (k, k):
        raise ValueError(f"skill_ordered needs a square graph over the {k} skills, got shape {a.shape}")
    edge = (a > edge_threshold) & ~np.eye(k, dtype=bool)
    level = np.zeros(k, dtype=np.int64)
    done = np.zeros(k, dtype=bool)
    while not done.all():
        ready = [i for i in range(k) if not done[i] and not (edge[:, i] & ~done).any()]
        if not ready:  # a cycle: promote the most "prerequisite-like" remaining skill
            rest = [i for i in range(k) if not done[i]]
            score = {i: a[i, rest].sum() - a[rest, i].sum() for i in rest}
            ready = [min(rest, key=lambda i: (-score[i], skills[i]))]
        for i in sorted(ready, key=lambda i: skills[i]):
            preds = np.flatnonzero(edge[:, i] & done)
            level[i] = level[preds].max() + 1 if len(preds) else 0
            done[i] = True
    return [sorted((skills[i] for i in range(k) if level[i] == lv)) for lv in sorted(set(level.tolist()))]


def ordered_stages(levels: Sequence[Sequence[str]], base: Mapping[str, float],
                   total: int) -> list[tuple[int, dict[str, float]]]:
    """``[(stage_tokens, weights)]``: one stage per level, equal lengths summing to ``total``; stage l
    weights = ``base`` restricted to skills of level <= l, renormalised (0 elsewhere)."""
    lengths = apportion({str(i): 1.0 for i in range(len(levels))}, total)
    stages = []
    seen: set[str] = set()
    for i, names in enumerate(levels):
        seen.update(names)
        w = {g: (base.get(g, 0.0) if g in seen else 0.0) for g in base}
        s = sum(w.values())
        if s <= 0:  # this level's skills all have zero base weight: fall back to uniform over seen
            w = {g: (1.0 if g in seen else 0.0) for g in base}
            s = sum(w.values())
        stages.append((lengths[str(i)], {g: x / s for g, x in w.items()}))
    return stages
