"""url_dedup and url_key: the normalisation table, each rule's kept document and duplicate_of on
tiny inline data, real pages with planted recrawls, 1 vs 2 workers, resume after SIGKILL."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest

import curate
from curate.recipe import load_recipe
from curate.text.urls import url_key
from tests.conftest import read_sample, write_jsonl, write_recipe
from tests.test_segment_dedup import global_stats, rejected


def build(tmp_path, docs, rule, out="out", workers=1, files=1):
    for i in range(files):
        write_jsonl(tmp_path / "data" / f"part-{i}.jsonl", docs[i::files] if files > 1 else docs)
    recipe = write_recipe(tmp_path / f"{out}.toml", f"""
[recipe]
name = "urls"
[[sources]]
name = "web"
paths = ["data/part-*.jsonl"]
[[steps]]
use = "url_dedup"
rule = "{rule}"
[output]
dir = "{out}"
batch_rows = 3
""")
    return curate.build(load_recipe(recipe), workers=workers)


def test_url_key_normalisation():
    urls = ["HTTPS://www.Example.com:443/a/?q=1#top", "http://example.com/a?q=1", "example.com/a/?q=1",
            "http://user:pw@EXAMPLE.com./a", "http://example.com:8080/a", "http://example.com/A",
            "http://example.com/a?b=2&a=1", "http://example.com\\a", "https://www2.example.com/a",
            "http://[::1]:80//", "https:///nohost", "", None, "  http://example.com/a?  "]
    assert url_key(pa.array(urls)).to_pylist() == [
        "example.com/a?q=1", "example.com/a?q=1", "example.com/a?q=1",
        "example.com/a", "example.com:8080/a", "example.com/A",
        "example.com/a?b=2&a=1", "example.com/a", "www2.example.com/a",
        "[::1]", None, None, None, "example.com/a"]


DOCS = [
    {"id": "a", "text": "short", "url": "http://x.com/p", "timestamp": "2020-01-01"},
    {"id": "b", "text": "the longest text", "url": "https://www.x.com/p/", "timestamp": "2022-06-01"},
    {"id": "c", "text": "middle one", "url": "http://x.com/p#c", "timestamp": None},
    {"id": "d", "text": "the longest text", "url": "http://x.com/p", "timestamp": "2022-06-01"},
    {"id": "e", "text": "no url"},
    {"id": "f", "text": "no url either", "url": None},
    {"id": "g", "text": "other page", "url": "http://x.com/q"},
]


@pytest.mark.parametrize("rule,kept", [("first", "a"), ("newest", "b"), ("longest", "b")])
def test_each_rule_keeps_one_document_per_url_and_names_it(tmp_path, rule, kept):
    m = build(tmp_path, DOCS, rule)
    ids = set(curate.scan(m.root).collect()["id"])
    assert ids == {kept, "e", "f", "g"}
    r = rejected(m)
    assert set(r["id"]) == {"a", "b", "c", "d"} - {kept}
    assert set(r["duplicate_of"]) == {kept} and set(r["reason"]) == {"url_duplicate"}
    assert global_stats(m) == {"rule": rule, "num_docs": 7, "num_without_url": 2, "num_duplicate_groups": 1,
                               "num_duplicates": 3}


def test_newest_ranks_undated_documents_last(tmp_path):
    docs = [{"id": "u", "text": "t", "url": "http://y.org/"}, {"id": "v", "text": "t", "url": "y.org",
                                                                "timestamp": "1999-01-01"}]
    assert set(curate.scan(build(tmp_path, docs, "newest").root).collect()["id"]) == {"v"}


def planted(n: int = 150) -> list[dict]:
    """Real pages plus recrawls of 30 of them: the URL respelled (other scheme, host in upper case,
    a fragment), newer timestamp, longer text."""
    docs = read_sample(n)
    rng = random.Random(7)
    copies = []
    for i, d in enumerate(rng.sample(docs, 30)):
        scheme, rest = d["url"].split("://", 1)
        host, _, path = rest.partition("/")
        url = f"{'HTTP' if scheme == 'https' else 'https'}://{host.upper()}/{path}#recrawl"
        copies.append({**d, "id": f"recrawl-{i}", "url": url, "text": d["text"] + "\nUpdated.",
                       "timestamp": "2030-01-01T00:00:00Z"})
    return docs + copies


def test_planted_recrawls_of_real_pages(tmp_path):
    docs = planted()
    newest = build(tmp_path, docs, "newest", out="newest", files=3)
    kept = set(curate.scan(newest.root).collect()["id"])
    assert {f"recrawl-{i}" for i in range(30)} <= kept and len(kept) == 150
    assert global_stats(newest)["num_duplicates"] == 30
    first = build(tmp_path, docs, "first", out="first", files=3)
    r = rejected(first)
    by_text = {d["text"]: d["id"] for d in docs[:150]}
    pairs = {frozenset((f"recrawl-{i}", by_text[d["text"][:-len("\nUpdated.")]])) for i, d in enumerate(docs[150:])}
    assert {frozenset(p) for p in zip(r["id"], r["duplicate_of"])} == pairs  # whichever came first is kept


def test_one_and_two_workers_give_identical_shards(tmp_path):
    docs = planted()
    one = build(tmp_path, docs, "longest", out="w1", files=4)
    two = build(tmp_path, docs, "longest", out="w2", files=4, workers=2)
    names = sorted(p.name for p in (one.root / "shards").glob("*.parquet"))
    assert names and names == sorted(p.name for p in (two.root / "shards").glob("*.parquet"))
    assert all((one.root / "shards" / n).read_bytes() == (two.root / "shards" / n).read_bytes() for n in names)
    assert json.loads((one.root / "stats.json").read_text())["total"]["kept"] == 150


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_and_resumed_equals_uninterrupted(tmp_path, workers):
    from tests.test_resume import (FAULTS, killed_build, make_inputs, make_recipe, stats_without_timings,
                                   tree_bytes)

    step = '[[steps]]\nuse = "url_dedup"\nrule = "longest"'
    make_inputs(tmp_path)
    ref = curate.build(make_recipe(tmp_path, step, out="ref"))
    recipe = make_recipe(tmp_path, step)
    for fault in FAULTS:
        ended = killed_build(recipe, fault, workers, tmp_path)
        assert ended == "SIGKILL" or "was killed by the kernel" in ended
    resumed = curate.build(load_recipe(recipe), workers=workers)
    assert tree_bytes(resumed.root) == tree_bytes(ref.root)
    assert stats_without_timings(resumed.root) == stats_without_timings(ref.root)
    assert global_stats(resumed)["num_duplicates"] >= 3  # at least the copies make_inputs plants
