"""`curate card DIR`: the HF dataset card (README.md), card.html and plots of a finished build.

A tiny two-source build with known duplicates, lengths and toxicity is carded and every number
is checked against an independent computation on the shards and the inputs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.card import collect
from curate.card.render_md import size_category
from curate.card.thresholds import all_cuts, resolved_cuts, static_cuts
from curate.cli import main
from curate.manifest import Manifest
from curate.text.hashing import hash_strings
from tests.conftest import run_cli, write_jsonl, write_recipe

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def _doc(i: int, n_words: int, year: int | None, host: str, bad: int = 0) -> dict:
    words = [WORDS[(i + k) % len(WORDS)] for k in range(n_words - bad)] + ["rotten"] * bad
    d = {"id": f"d{i:02d}", "text": " ".join(words), "url": f"https://{host}/p/{i}"}
    if year:
        d["timestamp"] = f"{year}-03-01T00:00:00Z"
    return d


def _inputs() -> tuple[list[dict], list[dict]]:
    a = [_doc(i, 5 + 3 * i, 2019 + i % 3, "a.example") for i in range(8)]
    a.append({**a[0], "id": "d50"})            # exact duplicate of d00 (size-3 cluster with d51)
    a.append({**a[0], "id": "d51"})
    a.append(_doc(52, 2, 2020, "a.example"))   # too few words
    a.append(_doc(53, 10, None, "bad.example", bad=5))  # toxicity 0.5 > 0.2
    b = [_doc(20 + i, 40 + 50 * i, None if i % 2 else 2024, "b.example") for i in range(5)]
    b.append({**b[1], "id": "d60"})            # size-2 cluster
    return a, b


RECIPE = """
[recipe]
name = "cardtest"
seed = 1
[[sources]]
name = "a"
paths = ["a.jsonl"]
[[sources]]
name = "b"
paths = ["b.jsonl"]
[[steps]]
use = "length"
min_words = 3
[[steps]]
use = "exact_dedup"
[[steps]]
use = "word_list_score"
words_path = "bad.txt"
[[steps]]
use = "score_filter"
column = "toxicity"
max_score = 0.2
[output]
dir = "out"
max_shard_rows = 4
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("card")
    a, b = _inputs()
    write_jsonl(root / "a.jsonl", a)
    write_jsonl(root / "b.jsonl", b)
    (root / "bad.txt").write_text("rotten\n", encoding="utf-8")
    recipe = write_recipe(root / "recipe.toml", RECIPE)
    assert main(["build", str(recipe), "--no-progress"]) == 0
    assert main(["card", str(root / "out"), "--license", "odc-by"]) == 0
    return root


def _front_matter(readme: Path) -> dict:
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_front_matter_configs_point_at_the_shards(built):
    out = built / "out"
    m = Manifest.load(out)
    meta = _front_matter(out / "README.md")
    assert meta["license"] == "odc-by" and meta["size_categories"] == ["n<1K"] and meta["pretty_name"] == "cardtest"
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert configs["default"]["default"] is True
    assert configs["default"]["data_files"] == [{"split": "train", "path": [s.path for s in m.shards]}]
    for source in ("a", "b"):
        assert configs[source]["data_files"][0]["path"] == [s.path for s in m.shards if s.source == source]
    assert "language" not in meta  # no lang column and no lang_id step


def test_card_numbers_match_the_shards(built):
    out = built / "out"
    m = Manifest.load(out)
    sh = collect.collect_shards(m)
    df = pl.read_parquet([str(p) for p in m.shard_paths()])
    assert sorted(df["id"]) == ["d00", "d01", "d02", "d03", "d04", "d05", "d06", "d07",
                                "d20", "d21", "d22", "d23", "d24"]
    kept = {"a": 8, "b": 5}
    assert {s: r["num_docs"] for s, r in sh["sources"].items()} == kept == m.docs_by_source()
    chars = df.group_by("source").agg(pl.col("text").str.strip_chars().str.len_chars().sum())
    assert {s: r["num_chars"] for s, r in sh["sources"].items()} == dict(chars.iter_rows())
    words = df.select(pl.col("text").str.split(" ").list.len()).to_series().to_numpy()
    expect = np.histogram(np.minimum(words, 1e8 - 1), bins=collect.log_edges())[0]
    got = np.sum([np.array(c) for c in sh["lengths"]["words"]["counts"].values()], axis=0)
    assert got.tolist() == expect.tolist()
    assert "tokens" not in sh["lengths"]
    years = df.select(pl.col("timestamp").dt.year()).to_series().value_counts()
    assert {k: v["num_docs"] for k, v in sh["years"].items()} == {
        ("(none)" if y is None else str(y)): n for y, n in years.iter_rows()}
    assert sh["domains"] == [("a.example", 8), ("b.example", 5)]
    assert list(sh["scores"]) == ["toxicity"] and sum(sum(c) for c in sh["scores"]["toxicity"]["counts"].values()) == 13
    # samples: per source the 3 ids with the smallest seeded hash
    for source, docs in sh["samples"].items():
        ids = df.filter(pl.col("source") == source)["id"]
        h = hash_strings(ids.to_arrow(), collect.SAMPLE_SEED)
        assert [d["id"] for d in docs] == [ids[int(i)] for i in np.argsort(h, kind="stable")[:3]]
        for d in docs:
            assert d["text"] == df.filter(pl.col("id") == d["id"])["text"][0][:collect.EXCERPT_CHARS]


def test_batch_size_does_not_change_the_card(built, monkeypatch):
    m = Manifest.load(built / "out")
    whole = collect.collect_shards(m)
    monkeypatch.setattr(collect, "BATCH_ROWS", 1)
    assert collect.collect_shards(m) == whole


def test_rejected_clusters_and_samples(built):
    rej = collect.collect_rejected(built / "out")
    assert rej["cluster_sizes"] == {"exact_dedup": {2: 1, 3: 1}}
    assert sorted(rej["samples"]) == ["exact_dedup/exact_duplicate", "length/too_few_words",
                                      "score_filter/toxicity_above_max"]
    assert [d["id"] for d in rej["samples"]["length/too_few_words"]] == ["d52"]
    assert {d["id"] for d in rej["samples"]["exact_dedup/exact_duplicate"]} == {"d50", "d51", "d60"}
    readme = (built / "out" / "README.md").read_text(encoding="utf-8")
    # the dropped documents' text was read back from the inputs by their lineage
    too_toxic = _inputs()[0][-1]["text"]
    assert too_toxic in readme and "- id `d53`" in readme


def test_thresholds_on_the_histograms(built):
    readme = (built / "out" / "README.md").read_text(encoding="utf-8")
    assert "| toxicity | score_filter.max_score | 0.2 |" in readme
    assert "| words | length.min_words | 3 |" in readme
    steps = [{"use": "length", "min_chars": 1, "max_chars": None, "min_words": 50}, {"use": "lang_id", "min_score": 0.65},
             {"use": "score_filter", "column": "q", "min_score": 0.1, "max_score": None},
             {"use": "score_band", "column": "lm_loss"}, {"use": "score_percentile", "column": "q"}]
    assert static_cuts(steps) == {"chars": [("length.min_chars", 1.0)], "words": [("length.min_words", 50.0)],
                                  "lang_score": [("lang_id.min_score", 0.65)], "q": [("score_filter.min_score", 0.1)]}
    global_steps = {"3:score_band": {"groups": {"web": {"low_score": 2.0, "high_score": 5.5}}},
                    "4:score_percentile": {"groups": {"web": {"cut_score": 0.4}}}, "9:exact_dedup": {}}
    assert resolved_cuts(steps, global_steps) == {
        "lm_loss": [("score_band low (web)", 2.0), ("score_band high (web)", 5.5)],
        "q": [("score_percentile cut (web)", 0.4)]}
    assert all_cuts(steps, global_steps)["q"] == [("score_filter.min_score", 0.1), ("score_percentile cut (web)", 0.4)]


def test_html_is_offline_and_complete(built):
    out = built / "out"
    html = (out / "card.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in html and "<script" not in html.lower()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert refs and not [r for r in refs if re.match(r"^[a-z][a-z0-9+.-]*:|^//", r, re.I)]
    images = [r for r in re.findall(r"""<img src="([^"]+)\"""", html)]
    assert len(images) >= 6 and all((out / i).is_file() and (out / i).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                                    for i in images)
    for title in ("Funnel", "Sources", "Languages", "Top domains", "Lengths", "Scores", "Timestamps",
                  "Deduplication", "Skills", "Phases", "Samples"):
        assert f">{title}</h2>" in html
    assert "d00" in html and "rotten rotten" in html


def test_rerun_replaces_the_card_and_plots_are_deterministic(built, tmp_path):
    out = built / "out"
    before = {p.name: p.read_bytes() for p in (out / "card_plots").iterdir()}
    (out / "card_plots" / "stale.png").write_bytes(b"x")
    assert main(["card", str(out), "--license", "odc-by"]) == 0
    after = {p.name: p.read_bytes() for p in (out / "card_plots").iterdir()}
    assert after == before and not list(out.glob(".*.tmp"))


def test_size_categories():
    assert [size_category(n) for n in (0, 999, 1000, 9999, 10_000, 10**6, 10**12 + 1)] == [
        "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "10K<n<100K", "1M<n<10M", "n>1T"]


@settings(deadline=None, derandomize=True, max_examples=300)
@given(st.lists(st.one_of(st.integers(0, 10**9), st.floats(0, 1e9, allow_nan=False)), min_size=1, max_size=50))
def test_bin_index_puts_every_value_in_its_bin(values):
    edges = collect.log_edges()
    x = np.array(values, dtype=np.float64)
    b = collect.bin_index(edges, x)
    inside = x < edges[-1]
    assert ((edges[b] <= x) | ~inside).all() and ((x < edges[b + 1]) | ~inside).all()
    assert (b[~inside] == len(edges) - 2).all()
    assert collect.bin_index(edges, np.array([0, 0.5, 1, 10, 1e12])).tolist() == [0, 0, 1, 11, len(edges) - 2]


def test_not_a_build_is_one_line(tmp_path):
    proc = run_cli("card", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"curate card: error: {tmp_path}: no manifest.json; is this the output dir of a finished `curate build`?"]


def test_card_of_a_materialised_mix_and_load_dataset(token_build, tmp_path, monkeypatch):
    """A token build with [[phases]]: the plan per phase; its mix: the realised tokens, the build's funnel;
    and `datasets.load_dataset(DIR)` reads exactly the shards through the card's configs."""
    build = tmp_path / "build"
    shutil.copytree(token_build.manifest.root, build)
    recipe = str(token_build.recipe)
    assert main(["card", str(build), "--recipe", recipe]) == 0
    readme = (build / "README.md").read_text(encoding="utf-8")
    assert "**phase pretrain: 4,096 tokens, strategy temperature, group_by source**" in readme
    assert "**phase cooldown: 1,024 tokens, strategy temperature, group_by skill**" in readme
    assert (build / "card_plots" / "phases.png").is_file() and (build / "card_plots" / "lengths.png").is_file()
    meta = _front_matter(build / "README.md")
    assert {c["config_name"] for c in meta["configs"]} == {"default", "web", "wiki"}
    assert main(["mix", str(build), "--phase", "cooldown", "--recipe", recipe]) == 0
    mix = build / "mix" / "cooldown"
    assert main(["card", str(mix), "--recipe", recipe]) == 0
    text = (mix / "README.md").read_text(encoding="utf-8")
    m = Manifest.load(mix)
    groups = m.mix["groups"]
    assert "**phase pretrain" not in text and "tokens in this mix" in text
    for g, c in groups.items():
        assert re.search(rf"\| {g} \|[^\n]*\| {c['num_tokens']:,} \|\n", text), g
    assert f"The funnel of the build this mix was drawn from ({build})." in text
    assert _front_matter(mix / "README.md")["configs"][0]["data_files"][0]["path"] == [s.path for s in m.shards]
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for root, manifest in ((build, Manifest.load(build)), (mix, m)):
        ds = datasets.load_dataset(str(root), split="train", cache_dir=str(tmp_path / "hf"))
        assert ds.num_rows == sum(s.num_docs for s in manifest.shards)
        assert sorted(ds["id"]) == sorted(pl.read_parquet([str(p) for p in manifest.shard_paths()])["id"])


def test_bad_options_are_one_line(built, capsys):
    out = str(built / "out")
    assert main(["card", out, "--readback-mb", "-1"]) == 2
    assert capsys.readouterr().err.splitlines() == ["curate card: error: --readback-mb=-1.0 is out of range; allowed: >= 0"]
    assert main(["card", out, "--recipe", str(built / "nope.toml")]) == 2
    assert capsys.readouterr().err.splitlines() == [f"curate card: error: --recipe {built / 'nope.toml'}: no such file"]
