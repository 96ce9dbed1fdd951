"""End to end: recipes/web_quality.toml builds from the shipped sample, the funnel has the quality
steps with datatrove's reasons, and every kept document satisfies the C4 line rules it was rewritten
by (each line ends in terminal punctuation and has >= 3 words; no '{', no 'lorem ipsum')."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import polars as pl

from curate.build import build
from curate.recipe import load_recipe

REPO = Path(__file__).resolve().parents[1]


def test_web_quality_recipe_builds(tmp_path):
    recipe = load_recipe(REPO / "recipes" / "web_quality.toml")
    recipe = dataclasses.replace(recipe, output=dataclasses.replace(recipe.output, dir=tmp_path / "out"))
    build(recipe, workers=1)
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())["total"]
    steps = {s["name"]: s for s in stats["steps"]}
    assert {"gopher_repetition", "gopher_quality", "c4", "fineweb_quality"} <= set(steps)
    assert set(steps["gopher_quality"]["dropped"]) <= {
        "gopher_short_doc", "gopher_long_doc", "gopher_below_avg_threshold", "gopher_above_avg_threshold",
        "gopher_too_many_hashes", "gopher_too_many_ellipsis", "gopher_too_many_bullets",
        "gopher_too_many_end_ellipsis", "gopher_below_alpha_threshold", "gopher_enough_stop_words"}
    assert steps["c4"]["in"] > steps["c4"]["kept"] > 0
    texts = pl.read_parquet(tmp_path / "out" / "shards" / "*.parquet")["text"].to_list()
    assert len(texts) == stats["kept"] > 0
    for text in texts:
        assert "{" not in text and "lorem ipsum" not in text.lower()
        for line in text.split("\n"):
            assert line.rstrip().endswith((".", "?", "!", '"', "'")) and len(line.split()) >= 3
    assert "_c4_reason" not in pl.read_parquet_schema(next((tmp_path / "out" / "shards").glob("*.parquet")))
