"""From a phase and the tokens available per group to a plan: segments of (tokens, weights, exact
per-group token budgets). One function per strategy; the sampler only follows segments.

- static: ``weights`` normalised; budgets apportioned, then the caps checked.
- temperature: weights ∝ tokens^(1/T) (times ``weights`` when given); budgets apportioned, then the
  caps checked.
- budget: ``tokens`` as given, or ``weights`` apportioned (caps checked), or else the natural
  (size-proportional) split water-filled under the caps.
- skill_it: Skill-It's p_1 (updated online by ``observe``), water-filled under the caps.
- skill_ordered: one segment per level of the skills graph, base weights over the skills of
  level <= l, apportioned per stage; the caps checked on each group's total.

- fractions (any of the first three): the named groups get that share of their own tokens (DMT's
  k of the specialised data), the strategy splits the rest of the phase among the other groups.

Caps (``max_epochs`` x available, ``max_source_frac`` x phase) are never exceeded: a plan that would
exceed one fails with a message naming the group.
"""

from __future__ import annotations

import dataclasses
import math

from curate.errors import RecipeError
from mixers.budget import apportion, caps, check_caps, water_fill
from mixers.graph import SkillsGraph, load_graph
from mixers.phases import PhaseSpec
from mixers.skill_it import prepare_graph, skill_it_weights
from mixers.skill_order import ordered_stages, skill_levels
from mixers.static import static_weights
from mixers.temperature import temperature_weights


@dataclasses.dataclass(frozen=True)
class Segment:
    num_tokens: int
    weights: dict[str, float]
    budgets: dict[str, int]  # sums to num_tokens


@dataclasses.dataclass(frozen=True)
class PhasePlan:
    phase: PhaseSpec
    available: dict[str, int]
    caps: dict[str, int]
    segments: tuple[Segment, ...]
    graph: SkillsGraph | None = None

    def requested(self) -> dict[str, int]:
        return {g: sum(s.budgets[g] for s in self.segments) for g in self.available}


def plan_phase(phase: PhaseSpec, available: dict[str, int]) -> PhasePlan:
    """The plan of ``phase`` over groups with ``available`` tokens (name -> tokens)."""
    if not available:
        raise RecipeError(f"phase {phase.name!r}: the build has no documents with tokens to mix")
    mix, total = phase.mixture, phase.num_tokens
    limit = caps(available, total, mix.max_epochs, mix.max_source_frac)
    groups = list(available)
    graph = None
    if mix.fractions:
        segments = (_with_fractions(phase, available, limit),)
    elif mix.strategy in ("static", "temperature") or (mix.strategy == "budget" and (mix.weights or mix.tokens)):
        if mix.strategy == "temperature":
            weights = temperature_weights(available, mix.temperature)
            if mix.weights:  # a prior multiplies (0 drops a group)
                prior = static_weights(mix.weights, groups)
                weights = static_weights({g: weights[g] * prior[g] for g in groups}, groups)
        elif mix.tokens:
            weights = static_weights({g: float(n) for g, n in mix.tokens.items()}, groups)
        else:
            weights = static_weights(mix.weights, groups)
        budgets = {g: mix.tokens.get(g, 0) for g in groups} if mix.tokens else apportion(weights, total)
        _check(phase, budgets, available, limit)
        segments = (Segment(total, weights, budgets),)
    elif mix.strategy == "budget":
        natural = _filled(phase, {g: float(n) for g, n in available.items()}, limit, total)
        weights = {g: b / total for g, b in natural.budgets.items()}  # after the caps moved tokens
        segments = (Segment(total, weights, natural.budgets),)
    else:
        graph = load_graph(mix.graph, groups)
        prior = static_weights(mix.weights, groups) if mix.weights else None
        if mix.strategy == "skill_it":
            weights = initial_skill_it(graph, groups, mix, prior)
            segments = (_filled(phase, weights, limit, total),)
        else:
            segments = _ordered(phase, graph, groups, available, limit, prior)
    return PhasePlan(phase, dict(available), limit, segments, graph)


def _with_fractions(phase: PhaseSpec, available: dict[str, int], limit: dict[str, int]) -> Segment:
    """``fractions``: group g gets ``floor(f_g x available_g)`` tokens; the other groups share the
    rest of the phase by the strategy's weights (static: ``weights``; temperature: tokens^(1/T)
    times ``weights``; budget: natural sizes)."""
    mix, total = phase.mixture, phase.num_tokens
    unknown = sorted(set(mix.fractions) - set(available))
    if unknown:
        raise RecipeError(f"phase {phase.name!r}: fractions: group {unknown[0]!r} is not in the data; "
                          f"groups: {', '.join(available)}")
    fixed = {g: int(math.floor(f * available[g] + 1e-9)) for g, f in mix.fractions.items()}
    empty = [g for g, n in fixed.items() if n == 0]
    if empty:
        raise RecipeError(f"phase {phase.name!r}: fractions.{empty[0]} = {mix.fractions[empty[0]]:g} of "
                          f"{available[empty[0]]:,} tokens is 0 tokens; raise the fraction or add data")
    rest = {g: n for g, n in available.items() if g not in fixed}
    left = total - sum(fixed.values())
    if left < 0 or (left > 0 and not rest):
        raise RecipeError(f"phase {phase.name!r}: fractions fix {sum(fixed.values()):,} tokens but "
                          f"num_tokens = {total:,} and {len(rest)} other groups; adjust num_tokens")
    budgets = dict(fixed)
    if rest:
        if mix.strategy == "temperature":
            weights = temperature_weights(rest, mix.temperature)
        else:
            weights = {g: float(n) for g, n in rest.items()}
        if mix.weights:
            prior = static_weights({g: w for g, w in mix.weights.items() if g in rest}, list(rest))
            weights = prior if mix.strategy == "static" else {g: weights[g] * prior[g] for g in rest}
        budgets.update(apportion(weights, left))
    budgets = {g: budgets.get(g, 0) for g in available}
    _check(phase, budgets, available, limit)
    return Segment(total, {g: b / total for g, b in budgets.items()}, budgets)


def initial_skill_it(graph: SkillsGraph, groups: list[str], mix, prior: dict[str, float] | None,
                     history: list[list[float]] | None = None) -> dict[str, float]:
    """Skill-It mixture over ``groups`` (0 for groups not in the graph's training skills) after the
    rounds of ``history``, with the settings of the MixtureSpec ``mix``."""
    w0 = None if prior is None else [prior.get(s, 0.0) for s in graph.train_skills]
    p = skill_it_weights(prepare_graph(graph.matrix), history or [], mix.eta, mix.window, w0,
                         mix.window_reduce, mix.normalize_loss)
    out = {g: 0.0 for g in groups}
    out.update({s: float(x) for s, x in zip(graph.train_skills, p)})
    return out


def _check(phase: PhaseSpec, budgets, available, limit) -> None:
    try:
        check_caps(budgets, available, phase.num_tokens, phase.mixture.max_epochs, phase.mixture.max_source_frac)
    except RecipeError as exc:
        raise RecipeError(f"phase {phase.name!r}: {exc}") from None


def _filled(phase: PhaseSpec, weights: dict[str, float], limit: dict[str, int], total: int) -> Segment:
    try:
        budgets = water_fill(weights, limit, total)
    except RecipeError as exc:
        raise RecipeError(f"phase {phase.name!r}: {exc}") from None
    return Segment(total, weights, budgets)


def _ordered(phase, graph, groups, available, limit, prior) -> tuple[Segment, ...]:
    if graph.train_skills != graph.eval_skills:
        raise RecipeError(f"phase {phase.name!r}: skill_ordered needs a square graph ('skills')")
    names = list(graph.train_skills)
    levels = skill_levels(graph.matrix, names, phase.mixture.edge_threshold)
    base = prior or {g: float(available[g]) for g in groups}
    base = {g: (base.get(g, 0.0) if g in names else 0.0) for g in groups}
    stages = ordered_stages(levels, base, phase.num_tokens)
    segments = tuple(Segment(n, w, apportion(w, n)) for n, w in stages)
    totals = {g: sum(s.budgets[g] for s in segments) for g in groups}
    _check(phase, totals, available, limit)
    return segments


def skill_order_levels(plan: PhasePlan) -> list[list[str]] | None:
    """The levels of a skill_ordered plan (for printing), else None."""
    if plan.phase.mixture.strategy != "skill_ordered" or plan.graph is None:
        return None
    return skill_levels(plan.graph.matrix, list(plan.graph.train_skills), plan.phase.mixture.edge_threshold)


def plan_rows(plan: PhasePlan) -> list[dict]:
    """Per group: tokens available, requested, epochs implied, share of the phase, cap."""
    requested = plan.requested()
    total = max(sum(requested.values()), 1)
    return [{"group": g, "available": n, "requested": requested[g],
             "epochs": requested[g] / n if n else 0.0, "share": requested[g] / total, "cap": plan.caps[g]}
            for g, n in plan.available.items()]
