"""fasttext_score (differential against fastText's own predict), score_filter (exact) and
score_percentile (exact kept fraction per source, inverse too) through real builds."""

from __future__ import annotations

import collections
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.build import build
from curate.errors import RecipeError
from curate.models.fasttext_model import lid176_path, load_fasttext
from curate.recipe import load_recipe
from curate.steps.fasttext_score import FasttextScore
from curate.steps.score_filter import ScoreFilter

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
TEXTS = ["This is a sentence written in plain English about the weather today.",
         "Le chat est assis sur le tapis.", "Der Hund schläft\nim Garten.", ""]


def test_fasttext_score_equals_direct_predict() -> None:
    step = FasttextScore(model_path=lid176_path(), label="en", column="en_prob")
    batch = pa.RecordBatch.from_arrays([pa.array(TEXTS, pa.large_string())], names=["text"])
    got = step.annotate(batch).column("en_prob").to_numpy()
    model = load_fasttext(lid176_path())
    want = []
    for text in TEXTS:
        labels, probs = model.predict([text.replace("\n", " ")], k=-1)
        want.append(dict(zip(labels[0], probs[0])).get("__label__en", 0.0))
    np.testing.assert_allclose(got, np.minimum(want, 1.0), rtol=1e-6)
    assert got[0] > 0.9 and got[1] < 0.1


def test_fasttext_score_rejects_unknown_label() -> None:
    with pytest.raises(ValueError, match="not a label of the model"):
        FasttextScore(model_path=lid176_path(), label="klingon")


def test_score_filter_bounds_inverse_and_missing() -> None:
    batch = pa.RecordBatch.from_pydict({"q": pa.array([0.1, 0.5, None, 0.9], pa.float32())})
    reasons = lambda step: step.reject(batch).cast(pa.string()).to_pylist()  # noqa: E731
    assert reasons(ScoreFilter(column="q", min_score=0.5)) == ["q_below_min", None, None, None]
    assert reasons(ScoreFilter(column="q", max_score=0.5, missing="drop")) == [None, None, "q_missing", "q_above_max"]
    with pytest.raises(RecipeError, match="column 'nope'"):
        ScoreFilter(column="nope", min_score=0).reject(batch)


def _recipe(tmp_path: Path, keep: str, keep_frac: float, name: str, group_by: str = "source") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
[recipe]
name = "{name}"
[[sources]]
name = "web"
paths = ["{DATA / 'web_sample.jsonl.zst'}"]
[[sources]]
name = "reference"
paths = ["{DATA / 'reference_sample.jsonl.zst'}"]
[[steps]]
use = "fasttext_score"
model_path = "{lid176_path()}"
label = "en"
column = "en_prob"
[[steps]]
use = "score_percentile"
column = "en_prob"
keep_frac = {keep_frac}
keep = "{keep}"
group_by = "{group_by}"
[output]
dir = "{tmp_path / name}"
""")
    return path


@pytest.mark.parametrize("keep,keep_frac", [("top", 0.3), ("bottom", 0.25)])
def test_score_percentile_keeps_exact_fraction_per_source(tmp_path, keep, keep_frac) -> None:
    manifest = build(load_recipe(_recipe(tmp_path, keep, keep_frac, f"p-{keep}")))
    rows = pa.concat_tables([pq.read_table(p) for p in manifest.shard_paths()])
    kept = collections.Counter(rows.column("source").to_pylist())
    sizes = {"web": 306, "reference": 210}
    assert kept == {s: math.floor(keep_frac * n + 0.5) for s, n in sizes.items()}
    # the kept rows are exactly the top/bottom of their source by the score
    for source in sizes:
        mine = rows.filter(pa.compute.equal(rows.column("source"), source)).column("en_prob").to_numpy()
        scored = _all_scores(source)
        cut = np.sort(scored)[::-1][kept[source] - 1] if keep == "top" else np.sort(scored)[kept[source] - 1]
        assert (mine >= cut).all() if keep == "top" else (mine <= cut).all()


def _all_scores(source: str) -> np.ndarray:
    import io

    import polars as pl
    import zstandard

    name = "web_sample" if source == "web" else "reference_sample"
    raw = zstandard.ZstdDecompressor().stream_reader((DATA / f"{name}.jsonl.zst").open("rb")).read()
    text = pa.array(pl.read_ndjson(io.BytesIO(raw))["text"].to_list(), pa.large_string())
    batch = pa.RecordBatch.from_arrays([text], names=["text"])
    step = FasttextScore(model_path=lid176_path(), label="en", column="s")
    return step.annotate(batch).column("s").to_numpy()


def test_missing_model_fails_when_scoring_with_a_hint(tmp_path) -> None:
    step = FasttextScore(model_path=tmp_path / "quality.bin", label="hq")  # may be trained later
    batch = pa.RecordBatch.from_arrays([pa.array(["text"], pa.large_string())], names=["text"])
    with pytest.raises(RecipeError, match="classifier train"):
        step.annotate(batch)


def test_binary_fast_path_equals_all_labels(tmp_path) -> None:
    """A two-label model scored via the top label only equals fastText's all-label answer."""
    import fasttext

    from curate.models.fasttext_model import predict_label_prob
    from curate.models.fasttext_train import train_in_subprocess

    from tests.conftest import read_sample

    # real pages, labelled by crawl: a degenerate two-sentence corpus makes fastText diverge (NaN)
    docs = read_sample()
    train = tmp_path / "train.txt"
    lines = [f"__label__{'lq' if 'cc-main' in d['source'] else 'hq'} {' '.join(d['text'].split())[:2000]}"
             for d in docs]
    train.write_text("\n".join(lines) + "\n")
    train_in_subprocess(dict(input=str(train), dim=16, wordNgrams=2, thread=1, seed=1,
                             epoch=5, verbose=0), tmp_path / "m.bin", tmp_path)
    model = fasttext.load_model(str(tmp_path / "m.bin"))
    texts = [" ".join(d["text"].split())[:500] for d in docs[:20]] + ["something else entirely", ""]
    labels, probs = model.predict(texts, k=-1)
    want = [dict(zip(lab, p))["__label__lq"] for lab, p in zip(labels, probs)]
    # fastText can report probabilities a hair above 1 (1.00001); ours are clipped to 1
    np.testing.assert_allclose(predict_label_prob(model, texts, "lq"), np.minimum(want, 1.0), atol=2e-5)


def test_score_percentile_over_the_whole_corpus(tmp_path) -> None:
    manifest = build(load_recipe(_recipe(tmp_path, "top", 0.5, "p-all", group_by="all")))
    rows = pa.concat_tables([pq.read_table(p) for p in manifest.shard_paths()])
    assert rows.num_rows == 258  # floor(0.5 * 516 + 0.5)
    scores = np.concatenate([_all_scores("web"), _all_scores("reference")])
    assert rows.column("en_prob").to_numpy().min() >= np.sort(scores)[::-1][257]
