"""The weight maths of mixers/: invariants (hypothesis), exact small cases, and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.errors import RecipeError
from mixers.budget import apportion, caps, check_caps, water_fill
from mixers.phases import MixtureSpec, PhaseSpec
from mixers.plan import plan_phase
from mixers.skill_it import prepare_graph, skill_it_weights
from mixers.skill_order import ordered_stages, skill_levels
from mixers.static import static_weights
from mixers.temperature import temperature_weights

names = st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=1, max_size=8, unique=True)
sizes = st.integers(0, 10**12)


def _is_distribution(w) -> None:
    values = np.array(list(w.values()) if isinstance(w, dict) else w)
    assert (values >= 0).all()
    assert math.isclose(values.sum(), 1.0, rel_tol=1e-9)


@settings(deadline=None, derandomize=True)
@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), st.floats(0, 1e9), min_size=1))
def test_static_weights_are_a_distribution(weights):
    if sum(weights.values()) <= 0:
        with pytest.raises(RecipeError):
            static_weights(weights, sorted(weights))
        return
    w = static_weights(weights, sorted(weights) + ["zzz"])
    _is_distribution(w)
    assert w["zzz"] == 0.0


def test_static_weights_unknown_group_is_named():
    with pytest.raises(RecipeError, match="'wikii'"):
        static_weights({"wikii": 1.0}, ["web", "wiki"])


@settings(deadline=None, derandomize=True)
@given(names.flatmap(lambda n: st.fixed_dictionaries({k: sizes for k in n})), st.floats(0.01, 1e4))
def test_temperature_weights_are_a_distribution(available, temperature):
    if not any(available.values()):
        with pytest.raises(RecipeError):
            temperature_weights(available, temperature)
        return
    w = temperature_weights(available, temperature)
    _is_distribution(w)
    assert all(w[g] == 0 for g, n in available.items() if n == 0)


def test_temperature_one_is_proportional_and_large_is_uniform():
    available = {"web": 900, "code": 90, "wiki": 10}
    assert temperature_weights(available, 1.0) == pytest.approx({"web": 0.9, "code": 0.09, "wiki": 0.01})
    assert temperature_weights(available, 1e5) == pytest.approx({g: 1 / 3 for g in available}, abs=1e-4)
    # T = 2: square roots, normalised
    root = {g: math.sqrt(n) for g, n in available.items()}
    expected = {g: r / sum(root.values()) for g, r in root.items()}
    assert temperature_weights(available, 2.0) == pytest.approx(expected)


@settings(deadline=None, derandomize=True)
@given(names.flatmap(lambda n: st.fixed_dictionaries({k: st.floats(0, 100) for k in n})), st.integers(0, 10**13))
def test_apportion_is_exact_and_within_one_of_quota(weights, total):
    if sum(weights.values()) <= 0:  # all zero: nothing to apportion, unless nothing is asked
        if total == 0:
            assert apportion(weights, total) == {g: 0 for g in weights}
        else:
            with pytest.raises(ValueError, match="all zero"):
                apportion(weights, total)
        return
    parts = apportion(weights, total)
    assert sum(parts.values()) == total
    s = math.fsum(weights.values())
    for g, p in parts.items():
        assert p >= 0
        assert abs(p - weights[g] / s * total) <= 1 + 1e-6 * total / 1e6


def test_apportion_largest_remainder_example():
    # quotas 3.333.., 3.333.., 3.333.. of 10: floors 3,3,3, the one left goes to the first (tie)
    assert apportion({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}
    # quotas 1.4, 2.7, 5.9 -> floors 1, 2, 5 (8), remainders .4 .7 .9 -> c then b
    assert apportion({"a": 14, "b": 27, "c": 59}, 10) == {"a": 1, "b": 3, "c": 6}


@settings(max_examples=200, deadline=None, derandomize=True)
@given(names.flatmap(lambda n: st.fixed_dictionaries({k: st.integers(0, 10_000) for k in n})),
       st.integers(1, 50_000), st.floats(0.1, 5), st.floats(0.05, 1))
def test_water_fill_respects_caps_exactly(available, total, max_epochs, max_frac):
    limit = caps(available, total, max_epochs, max_frac)
    weights = {g: float(n) for g, n in available.items()}
    if sum(limit[g] for g, w in weights.items() if w > 0) < total:
        with pytest.raises(RecipeError, match="cannot fill"):
            water_fill(weights, limit, total)
        return
    parts = water_fill(weights, limit, total)
    assert sum(parts.values()) == total
    assert all(0 <= parts[g] <= limit[g] for g in parts)


def test_water_fill_moves_the_excess_of_a_capped_group():
    available = {"web": 1000, "wiki": 100}
    limit = caps(available, 500, max_epochs=4.0, max_source_frac=0.6)
    assert limit == {"web": 300, "wiki": 300}
    assert water_fill({g: float(n) for g, n in available.items()}, limit, 500) == {"web": 300, "wiki": 200}


def _phase(strategy="static", num_tokens=1000, **mix):
    return PhaseSpec(name="anneal", num_tokens=num_tokens, mixture=MixtureSpec(strategy=strategy, **mix))


def test_impossible_budget_names_the_source():
    available = {"web": 10_000, "math": 100}
    with pytest.raises(RecipeError, match=r"phase 'anneal': group 'math'.*5\.00 epochs > max_epochs=4"):
        plan_phase(_phase(weights={"web": 0.5, "math": 0.5}), available)
    with pytest.raises(RecipeError, match=r"group 'web'.*max_source_frac=0.4"):
        plan_phase(_phase(weights={"web": 0.5, "math": 0.5}, max_source_frac=0.4, max_epochs=10), available)
    with pytest.raises(RecipeError, match="math"):
        plan_phase(_phase("budget", num_tokens=700, tokens={"web": 100, "math": 600}), available)


def test_budget_tokens_and_caps_are_exact():
    available = {"web": 10_000, "math": 100, "wiki": 300}
    plan = plan_phase(_phase("budget", num_tokens=900, tokens={"web": 300, "math": 400, "wiki": 200}), available)
    assert plan.requested() == {"web": 300, "math": 400, "wiki": 200}
    # natural split with web capped at half the phase; its excess goes to math:wiki = 1:3
    natural = plan_phase(_phase("budget", num_tokens=5000, max_epochs=10.0, max_source_frac=0.5), available)
    assert natural.requested() == {"web": 2500, "math": 625, "wiki": 1875}


def test_check_caps_allows_exactly_the_cap():
    check_caps({"a": 400}, {"a": 100}, 400, max_epochs=4.0, max_source_frac=1.0)
    with pytest.raises(RecipeError, match="'a'"):
        check_caps({"a": 401}, {"a": 100}, 401, max_epochs=4.0, max_source_frac=1.0)


def test_skill_it_update_matches_hand_computed_example():
    # A = [[1, 1], [0, 1]]; the off-diagonal 1 becomes 0.5.  eta = 0.5.
    graph = prepare_graph(np.array([[1.0, 1.0], [0.0, 1.0]]))
    assert graph.tolist() == [[1.0, 0.5], [0.0, 1.0]]
    # init: A @ 1 = [1.5, 1]  ->  p_1 = softmax(0.5 * [1.5, 1]) ; p_1[0] = 1 / (1 + e^-0.25)
    p1 = skill_it_weights(graph, [], eta=0.5, window=3)
    assert p1[0] == pytest.approx(1 / (1 + math.exp(-0.25)))
    # two rounds of losses [2, 1], [1, 3]; window 3 sums both: [3, 4]; A @ [3, 4] = [5, 4]
    p3 = skill_it_weights(graph, [[2.0, 1.0], [1.0, 3.0]], eta=0.5, window=3)
    assert p3.tolist() == pytest.approx([math.exp(2.5) / (math.exp(2.5) + math.exp(2.0)),
                                         math.exp(2.0) / (math.exp(2.5) + math.exp(2.0))])
    # window 1 keeps only [1, 3]: A @ [1, 3] = [2.5, 3]
    p3w = skill_it_weights(graph, [[2.0, 1.0], [1.0, 3.0]], eta=0.5, window=1)
    assert p3w[0] == pytest.approx(1 / (1 + math.exp(0.25)))
    # fine-tuning variant: the window is averaged, [1.5, 2]; A @ [1.5, 2] = [2.5, 2]
    pm = skill_it_weights(graph, [[2.0, 1.0], [1.0, 3.0]], eta=0.5, window=3, reduce="mean")
    assert pm[0] == pytest.approx(1 / (1 + math.exp(-0.25)))
    # normalize_loss: L / L_0 = [1, 1], [0.5, 3]; sum [1.5, 4]; A @ = [3.5, 4]
    pn = skill_it_weights(graph, [[2.0, 1.0], [1.0, 3.0]], eta=0.5, window=3, normalize_loss=True)
    assert pn[0] == pytest.approx(1 / (1 + math.exp(0.25)))
    # a prior w0 multiplies: w0 = [3, 1] adds log 3 to the first logit
    pp = skill_it_weights(graph, [], eta=0.5, window=3, prior=[3.0, 1.0])
    assert pp[0] == pytest.approx(3 * math.exp(0.75) / (3 * math.exp(0.75) + math.exp(0.5)))


@settings(deadline=None, derandomize=True)
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(
    st.lists(st.lists(st.floats(0, 50), min_size=k, max_size=k), min_size=k, max_size=k),
    st.lists(st.lists(st.floats(0, 20), min_size=k, max_size=k), max_size=5))),
    st.floats(0, 5), st.integers(1, 4))
def test_skill_it_weights_are_a_distribution(graph_and_losses, eta, window):
    graph, losses = graph_and_losses
    _is_distribution(skill_it_weights(prepare_graph(np.array(graph)), losses, eta, window))


def test_skill_levels_put_prerequisites_first():
    skills = ["algebra", "arithmetic", "calculus", "poetry"]
    a = np.eye(4)
    a[1, 0] = 0.8  # arithmetic -> algebra
    a[0, 2] = 0.3  # algebra -> calculus
    assert skill_levels(a, skills) == [["arithmetic", "poetry"], ["algebra"], ["calculus"]]
    a[2, 1] = 0.1  # a cycle; arithmetic has the most net outgoing weight, so it is promoted
    assert skill_levels(a, skills) == [["arithmetic", "poetry"], ["algebra"], ["calculus"]]


@settings(deadline=None, derandomize=True)
@given(st.lists(st.floats(0.0, 10.0), min_size=3, max_size=3), st.integers(3, 10**9))
def test_ordered_stages_are_distributions_and_sum_to_total(base_w, total):
    base = dict(zip(["x", "y", "z"], base_w))
    stages = ordered_stages([["x"], ["y", "z"]], base, total)
    assert sum(n for n, _ in stages) == total
    for _, w in stages:
        _is_distribution(w)
    assert stages[0][1]["y"] == stages[0][1]["z"] == 0.0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.sampled_from(["static", "temperature", "budget", "skill_it", "skill_ordered"]),
       st.lists(st.integers(0, 10**7), min_size=3, max_size=3), st.integers(1, 10**8),
       st.lists(st.floats(0, 1), min_size=3, max_size=3))
def test_every_strategy_plans_distributions_and_exact_budgets(tmp_path_factory, strategy, sizes, total, raw):
    available = dict(zip(["a", "b", "c"], sizes))
    graph = tmp_path_factory.getbasetemp() / "graph.json"
    graph.write_bytes(b'{"skills": ["a", "b", "c"], "matrix": [[1, 1, 0], [0, 1, 0.5], [0, 0, 1]]}')
    mix = {"max_epochs": 1e9}
    if strategy == "static" or (strategy == "budget" and sum(raw) > 0):
        mix["weights"] = dict(zip(["a", "b", "c"], [x + 0.01 * (strategy == "static") for x in raw]))
    if strategy.startswith("skill"):
        mix["graph"] = graph
    try:
        plan = plan_phase(_phase(strategy, num_tokens=total, **mix), available)
    except RecipeError as exc:  # only when a positive-weight group is empty or weights are all zero
        assert "no tokens" in str(exc) or "all zero" in str(exc) or "cannot fill" in str(exc) \
            or "every group is empty" in str(exc) or "epochs" in str(exc)
        return
    assert sum(s.num_tokens for s in plan.segments) == total
    for seg in plan.segments:
        _is_distribution(seg.weights)
        assert sum(seg.budgets.values()) == seg.num_tokens
        assert all(seg.budgets[g] == 0 for g, n in available.items() if n == 0)
    assert all(plan.requested()[g] <= plan.caps[g] for g in available)


def test_temperature_prior_multiplies_and_zero_drops_a_group():
    available = {"web": 900, "code": 100, "wiki": 400}
    plan = plan_phase(_phase("temperature", num_tokens=1000, temperature=2.0,
                             weights={"web": 1.0, "code": 2.0, "wiki": 0.0}), available)
    w = plan.segments[0].weights
    assert w["wiki"] == 0.0
    assert w["code"] / w["web"] == pytest.approx(2.0 * math.sqrt(100) / math.sqrt(900))
