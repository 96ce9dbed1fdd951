"""The mixture sampler: realised proportions, exact budgets, determinism, resume, holdout, Skill-It."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.errors import CurateError
from mixers import MixtureSpec, PhaseSpec, holdout_refs, make_sampler
from mixers.index import DocIndex, GroupDocs
from mixers.plan import plan_phase
from mixers.sampler import MixtureSampler
from tests.mix_fixtures import write_build


def _index(groups: dict[str, list[int]]) -> DocIndex:
    docs = {g: GroupDocs(np.zeros(len(c), np.int32), np.arange(len(c)), np.array(c, np.int64))
            for g, c in groups.items()}
    return DocIndex("source", tuple(sorted(groups)), docs)


def _phase(strategy="static", num_tokens=1000, group_by="source", **mix) -> PhaseSpec:
    return PhaseSpec(name="p1", num_tokens=num_tokens, group_by=group_by,
                     mixture=MixtureSpec(strategy=strategy, **mix))


def _sampler(groups, phase, seed=0) -> MixtureSampler:
    index = _index(groups)
    return MixtureSampler(index, plan_phase(phase, index.tokens()), seed)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(1, 60), min_size=1, max_size=30), min_size=1, max_size=5),
       st.lists(st.floats(0.05, 1.0), min_size=5, max_size=5), st.integers(500, 20_000), st.integers(0, 2**32))
def test_realised_token_proportions_track_targets(doc_tokens, raw_w, num_tokens, seed):
    """Tolerance: at every point of the stream each group's delivered tokens are within
    2 x the longest document of its share of all tokens delivered; at the end each group has its
    exact budget plus less than one document."""
    groups = {f"g{i}": c for i, c in enumerate(doc_tokens)}
    weights = {g: raw_w[i] for i, g in enumerate(groups)}
    phase = _phase(num_tokens=num_tokens, weights=weights, max_epochs=1e9)
    s = _sampler(groups, phase, seed)
    budgets = s.plan.segments[0].budgets
    share = {g: budgets[g] / num_tokens for g in groups}
    max_doc = max(max(c) for c in doc_tokens)
    delivered = dict.fromkeys(groups, 0)
    total = 0
    for ref in s:
        n = groups[ref.group][ref.row]
        delivered[ref.group] += n
        total += n
        for g in groups:
            if delivered[g] < budgets[g]:  # while the group is still active
                assert abs(delivered[g] - share[g] * total) <= 2 * max_doc
    for g in groups:
        assert budgets[g] <= delivered[g] < budgets[g] + max_doc + (budgets[g] == 0)


def test_long_stream_proportions_within_half_a_percent():
    rng = np.random.default_rng(0)
    groups = {"web": rng.integers(50, 2000, 500).tolist(), "code": rng.integers(10, 500, 300).tolist(),
              "wiki": rng.integers(100, 900, 40).tolist()}
    phase = _phase(num_tokens=2_000_000, weights={"web": 0.6, "code": 0.3, "wiki": 0.1}, max_epochs=100.0)
    s = _sampler(groups, phase)
    delivered = dict.fromkeys(groups, 0)
    for i, ref in enumerate(s):
        delivered[ref.group] += groups[ref.group][ref.row]
        if i == 2000:  # after ~2,000 documents (~1.5M tokens) already within 0.5 percentage points
            total = sum(delivered.values())
            for g, w in phase.mixture.weights.items():
                assert abs(delivered[g] / total - w) < 0.005
    assert sum(delivered.values()) - 2_000_000 < 3 * 2000


def test_every_epoch_is_a_fresh_permutation():
    groups = {"a": [3] * 20}
    s = _sampler(groups, _phase(num_tokens=3 * 60, weights={"a": 1.0}))
    rows = [r.row for r in s]
    epochs = [rows[0:20], rows[20:40], rows[40:60]]
    assert all(sorted(e) == list(range(20)) for e in epochs)
    assert epochs[0] != epochs[1] != epochs[2]


def test_same_seed_same_stream_other_seed_other_stream():
    groups = {"a": list(range(1, 40)), "b": [7] * 25}
    phase = _phase(num_tokens=3000, weights={"a": 2, "b": 1}, max_epochs=10.0)
    first = list(_sampler(groups, phase, seed=5))
    assert first == list(_sampler(groups, phase, seed=5))
    assert first != list(_sampler(groups, phase, seed=6))


@pytest.mark.parametrize("stop", [0, 1, 17, 150])
def test_resume_equals_continue(stop):
    groups = {"a": list(range(1, 40)), "b": [7] * 25, "c": [30, 40]}
    phase = _phase(num_tokens=3000, weights={"a": 2, "b": 1, "c": 0.1}, max_epochs=50.0)
    full = list(_sampler(groups, phase, seed=3))
    s = _sampler(groups, phase, seed=3)
    head = [next(s) for _ in range(stop)]
    state = json.loads(orjson.dumps(s.state_dict()))  # survives a JSON round trip
    resumed = _sampler(groups, phase, seed=3)
    resumed.load_state_dict(state)
    assert head + list(resumed) == full


def test_state_of_another_seed_is_refused():
    groups = {"a": [5] * 10}
    phase = _phase(num_tokens=30, weights={"a": 1})
    state = _sampler(groups, phase, seed=1).state_dict()
    with pytest.raises(CurateError, match="another phase, seed or build"):
        _sampler(groups, phase, seed=2).load_state_dict(state)


def _graph(tmp_path, skills, matrix):
    path = tmp_path / "graph.json"
    path.write_bytes(orjson.dumps({"skills": skills, "matrix": matrix}))
    return path


def test_skill_it_observe_updates_weights_and_resumes(tmp_path):
    groups = {"a": [10] * 50, "b": [10] * 50}
    graph = _graph(tmp_path, ["a", "b"], [[1, 1], [0, 1]])
    phase = _phase("skill_it", num_tokens=600, graph=graph, eta=0.5, window=3)
    s = _sampler(groups, phase, seed=0)
    assert s.weights()["a"] == pytest.approx(1 / (1 + np.exp(-0.25)))
    refs = [next(s) for _ in range(20)]
    s.observe({"a": 2.0, "b": 1.0})
    state = s.state_dict()
    s.observe({"a": 1.0, "b": 3.0})
    assert s.weights()["a"] == pytest.approx(np.exp(2.5) / (np.exp(2.5) + np.exp(2.0)))
    rest = list(s)
    total = sum(groups[r.group][r.row] for r in refs + rest)
    assert 600 <= total < 620
    resumed = _sampler(groups, phase, seed=0)
    resumed.load_state_dict(state)
    resumed.observe({"a": 1.0, "b": 3.0})
    assert list(resumed) == rest
    with pytest.raises(CurateError, match="'b'"):
        s.observe({"a": 1.0})


def test_skill_ordered_draws_prerequisites_first(tmp_path):
    groups = {"arith": [10] * 30, "algebra": [10] * 30, "calc": [10] * 30}
    graph = _graph(tmp_path, ["algebra", "arith", "calc"], [[1, 0, 0.5], [0.7, 1, 0], [0, 0, 1]])
    phase = _phase("skill_ordered", num_tokens=900, graph=graph)
    refs = list(_sampler(groups, phase))
    first = {g: next(i for i, r in enumerate(refs) if r.group == g) for g in groups}
    assert first["arith"] < first["algebra"] < first["calc"]
    assert all(r.group == "arith" for r in refs[:30])  # stage 1: only the level-0 skill


def test_holdout_docs_are_never_sampled_and_same_for_every_phase(tmp_path):
    m = write_build(tmp_path, {"web": [20] * 300, "wiki": [50] * 100})
    held = holdout_refs(m, "source", seed=4, holdout_frac=0.1)
    held_set = {(r.shard, r.row) for refs in held.values() for r in refs}
    assert 20 < len(held_set) < 70  # ~40 of 400
    for phase in (_phase(num_tokens=30_000, weights={"web": 1, "wiki": 1}),
                  _phase("temperature", num_tokens=20_000, temperature=3.0)):
        s = make_sampler(m, phase, seed=4, holdout_frac=0.1)
        drawn = {(r.shard, r.row) for r in s}
        assert drawn and not drawn & held_set
        assert len(drawn | held_set) == 400  # every non-held-out doc is used (several epochs)
    few = holdout_refs(m, "source", seed=4, holdout_frac=0.1, max_per_group=3)
    assert len(few["web"]) == 3 and set(few["web"]) <= set(held["web"])
    assert few == holdout_refs(m, "source", seed=4, holdout_frac=0.1, max_per_group=3)


def test_group_by_skill_reads_the_skill_column(tmp_path):
    m = write_build(tmp_path, {"web": [10] * 6, "wiki": [10] * 4},
                    skills={"web": ["code", "prose"] * 3, "wiki": ["prose"] * 4})
    s = make_sampler(m, _phase(num_tokens=100, group_by="skill", weights={"code": 1, "prose": 1}), seed=0)
    assert s.groups == ["code", "prose"]
    tables = {}
    import pyarrow.parquet as pq
    for ref in s:
        path = m.root / m.shards[ref.shard].path
        tables.setdefault(path, pq.read_table(path))
        assert tables[path].column("skill")[ref.row].as_py() == ref.group


def test_missing_token_or_skill_columns_are_clear_errors(tmp_path):
    m = write_build(tmp_path, {"web": [10] * 3})
    with pytest.raises(CurateError, match="no 'skill' column"):
        make_sampler(m, _phase(num_tokens=10, group_by="skill", weights={"x": 1}), seed=0)


def test_epoch_order_is_a_permutation_fixed_by_its_key():
    from curate.text.hashing import splitmix64
    from mixers.order import epoch_order

    # splitmix64 reference values (seed 0 stream of the published C code: x += golden; mix)
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4
    order = epoch_order(1000, 7, 123, 0)
    assert sorted(order.tolist()) == list(range(1000))
    assert (order == epoch_order(1000, 7, 123, 0)).all()
    assert not (order == epoch_order(1000, 7, 123, 1)).all()
    assert not (order == epoch_order(1000, 8, 123, 0)).all()


def test_repeat_column_upsamples_rows_in_the_index(tmp_path):
    """domain_balance's `repeat` column: a row with repeat r is r entries of its group."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.parquet as pq

    from mixers.index import build_index

    manifest = write_build(tmp_path, {"web": [5, 6, 7, 8]}, shard_rows=10)
    path = manifest.root / manifest.shards[0].path
    table = pq.read_table(path)
    pq.write_table(table.append_column("repeat", pa.array([1, 3, 0, 2], pa.int32())), path)
    manifest = dataclasses.replace(manifest, repeat_column="repeat")
    index = build_index(manifest, "source")
    assert index.docs["web"].row.tolist() == [0, 1, 1, 1, 3, 3]
    assert index.tokens() == {"web": 5 + 3 * 6 + 2 * 8}
