"""score_percentile and score_band share one exact ranking and one rule for missing scores
(null and NaN alike); score columns must be numeric and errors never print document text."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.errors import CurateError
from curate.steps.minhash_dedup import MinHashDedup
from curate.steps.ranking import numeric_scores, rank_codes
from curate.steps.score_band import ScoreBand
from curate.steps.score_filter import ScoreFilter
from curate.steps.score_percentile import ScorePercentile
from curate.steps.step import ResolveContext

SECRET = "my private diary entry"


def resolve(step, tmp_path: Path, scores: list, sources: list[str] | None = None) -> tuple[list, dict]:
    n = len(scores)
    table = pa.table({"id": [f"d{i}" for i in range(n)], "source": sources or ["web"] * n,
                      "q": pa.array(scores, pa.float64())})
    part = tmp_path / f"part-{step.name}.parquet"
    pq.write_table(table, part)
    out = tmp_path / f"decision-{step.name}.parquet"
    stats = step.resolve(ResolveContext([part], [out], tmp_path, 0, 1))
    return pq.read_table(out).column("reason").to_pylist(), stats


def test_rank_codes_exact_with_ties():
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.5])
    # one ascending ranking, ties by position: 0.1(3) < 0.5(0) < 0.5(2) < 0.5(4) < 0.9(1)
    assert rank_codes(scores, 1, 1).tolist() == [-1, 2, -1, 1, -1]
    assert rank_codes(scores, 3, 0).tolist() == [1, -1, 1, 1, -1]
    assert rank_codes(scores, 4, 4).tolist() == [1, 2, 1, 1, 1]  # the cuts never overlap


@settings(deadline=None, derandomize=True, max_examples=100)
@given(st.lists(st.one_of(st.integers(0, 4).map(float), st.just(math.nan), st.none()), max_size=30),
       st.floats(0, 1), st.sampled_from(["top", "bottom"]))
def test_percentile_and_band_agree_and_match_a_sorted_reference(tmp_path_factory, values, frac, keep):
    tmp = tmp_path_factory.mktemp("rank")
    present = [i for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    ranked = sorted(present, key=lambda i: (values[i], i))
    n = len(ranked)
    num_keep = math.floor(frac * n + 0.5)
    want_kept = set(ranked[n - num_keep:] if keep == "top" else ranked[:num_keep])
    got, stats = resolve(ScorePercentile(column="q", keep_frac=frac, keep=keep), tmp, values)
    want = [None if i in want_kept else ("q_missing" if i not in present else f"q_not_in_{keep}_frac")
            for i in range(len(values))]
    assert got == want
    assert stats["num_scored"] == n and stats["num_kept"] == num_keep
    # the same selection as a band: drop the complement on one side
    cut = 1 - frac
    band = ScoreBand(column="q", drop_bottom_frac=cut if keep == "top" else 0.0,
                     drop_top_frac=0.0 if keep == "top" else cut)
    band_got, band_stats = resolve(band, tmp, values)
    if n - math.floor(cut * n + 0.5) == num_keep:  # same count (rounding may differ at .5)
        assert [r is None for r in band_got] == [r is None for r in got]
    assert [r == "q_missing" for r in band_got] == [r == "q_missing" for r in got]
    assert band_stats["num_scored"] == n


def test_nan_is_missing_in_both_steps(tmp_path):
    """NaN used to be 'missing' for score_band but 'not in top' for score_percentile."""
    scores = [0.3, math.nan, None, 0.9, 0.1]
    reasons, stats = resolve(ScorePercentile(column="q", keep_frac=0.5), tmp_path, scores)
    assert reasons == [None, "q_missing", "q_missing", None, "q_not_in_top_frac"]
    assert stats["groups"]["web"] == {"scored": 3, "kept": 2, "cut_score": 0.3}
    reasons, _ = resolve(ScoreBand(column="q", drop_bottom_frac=0.34, drop_top_frac=0.0), tmp_path, scores)
    assert reasons == [None, "q_missing", "q_missing", None, "q_below_band"]


def test_score_filter_treats_nan_as_missing():
    batch = pa.RecordBatch.from_pydict({"q": pa.array([0.2, math.nan, None, 0.9])})
    drop = ScoreFilter(column="q", min_score=0.5, missing="drop").reject(batch).cast(pa.string())
    assert drop.to_pylist() == ["q_below_min", "q_missing", "q_missing", None]
    keep = ScoreFilter(column="q", min_score=0.5).reject(batch).cast(pa.string())
    assert keep.to_pylist() == ["q_below_min", None, None, None]


def test_numeric_scores_accepts_ints_bools_and_nulls():
    values, present = numeric_scores(pa.array([1, None, 3], pa.int32()), "q", "s")
    assert values.tolist() == [1.0, 0.0, 3.0] and present.tolist() == [True, False, True]
    assert numeric_scores(pa.array([True, False]), "q", "s")[1].all()


def _string_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"id": ["a", "b"], "source": ["web", "web"],
                                       "text": [SECRET, SECRET], "q": [SECRET, "0.5"]})


def test_string_column_for_score_filter_names_column_and_type_not_text():
    with pytest.raises(CurateError) as err:
        ScoreFilter(column="q", min_score=0.5).reject(_string_batch())
    assert str(err.value).startswith("score_filter: column 'q' has type string, not a number")
    assert SECRET not in str(err.value)


@pytest.mark.parametrize("step", [ScorePercentile(column="q", keep_frac=0.5), ScoreBand(column="q")],
                         ids=["score_percentile", "score_band"])
def test_string_column_for_ranking_steps_names_column_and_type_not_text(tmp_path, step):
    with pytest.raises(CurateError) as err:  # in the parallel pass, before any resolve
        step.prepare(_string_batch())
    assert f"{step.name}: column 'q' has type string, not a number" in str(err.value)
    assert SECRET not in str(err.value)
    part = tmp_path / "part.parquet"  # a part written by another version: resolve checks too
    pq.write_table(pa.Table.from_batches([_string_batch()]), part)
    with pytest.raises(CurateError) as err:
        step.resolve(ResolveContext([part], [tmp_path / "d.parquet"], tmp_path, 0, 1))
    assert SECRET not in str(err.value)


def test_string_column_for_minhash_keep_max_names_column_and_type_not_text():
    step = MinHashDedup(keep="max", score_column="q")
    with pytest.raises(CurateError) as err:
        step.prepare(_string_batch())
    assert "column 'q' has type string, not a number" in str(err.value)
    assert SECRET not in str(err.value)


@pytest.mark.parametrize("step", ['use = "score_filter"\ncolumn = "text"\nmin_score = 0.5',
                                  'use = "score_percentile"\ncolumn = "text"\nkeep_frac = 0.5',
                                  'use = "minhash_dedup"\nkeep = "max"\nscore_column = "text"'],
                         ids=["score_filter", "score_percentile", "minhash_dedup"])
def test_string_column_through_the_cli_is_one_line_without_document_text(tmp_path, step):
    from tests.conftest import TEST_DATA, read_sample, run_cli, write_recipe

    path = write_recipe(tmp_path / "r.toml", f'[recipe]\nname = "t"\n[[sources]]\nname = "web"\n'
                        f'paths = ["{TEST_DATA / "web_sample.jsonl.zst"}"]\n[[steps]]\n{step}\n'
                        f'[output]\ndir = "{tmp_path / "out"}"\n')
    result = run_cli("build", str(path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "column 'text' has type large_string, not a number" in result.stderr
    first_words = read_sample(1)[0]["text"][:40]
    assert first_words not in result.stderr and first_words not in result.stdout
