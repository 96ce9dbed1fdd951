"""Builds over byte-range fragments of one plain JSONL file: the same rows as the whole file, the
same shard bytes for 1 and 2 workers, and a build killed mid-way and resumed equals an
uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import curate
from curate.plan import plan_fragments
from curate.recipe import load_recipe
from tests.conftest import read_sample, write_recipe
from tests.test_resume import killed_build, stats_without_timings, tree_bytes
from tests.test_jsonl_paths import bad_file_bytes


def make_input(tmp_path: Path) -> None:
    docs = read_sample(60) + [dict(d, id=f"copy-{i}") for i, d in enumerate(read_sample(8))]
    body = "".join(json.dumps(d) + "\n" for d in docs).encode()
    (tmp_path / "big.jsonl").write_bytes(bad_file_bytes() + b"\n" + body)


def make_recipe(tmp_path: Path, out: str, fragment_bytes: int) -> Path:
    return write_recipe(tmp_path / f"{out}.toml", f"""
[recipe]
name = "ranges"
seed = 1
[[sources]]
name = "web"
paths = ["big.jsonl"]
fragment_bytes = {fragment_bytes}
[[steps]]
use = "length"
min_words = 30
[[steps]]
use = "exact_dedup"
[output]
dir = "{out}"
max_shard_rows = 7
batch_rows = 5
""")


def rows(root: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted((root / "shards").glob("*.parquet"))])


def quarantine(root: Path) -> list[dict]:
    return [q for p in sorted((root / "quarantine").glob("*.parquet")) for q in pq.read_table(p).to_pylist()]


def test_byte_range_fragments_give_the_whole_files_rows_for_any_workers(tmp_path):
    make_input(tmp_path)
    whole = curate.build(load_recipe(make_recipe(tmp_path, "whole", 2**30)))
    split = make_recipe(tmp_path, "split", 40_000)
    frags = plan_fragments(load_recipe(split))
    assert len(frags) > 4 and all(f.byte_range for f in frags)
    assert [f.byte_range[0] for f in frags[1:]] == [f.byte_range[1] for f in frags[:-1]]
    one = curate.build(load_recipe(split), workers=1)
    two = curate.build(load_recipe(make_recipe(tmp_path, "split2", 40_000)), workers=2)
    assert tree_bytes(two.root) == tree_bytes(one.root)
    assert rows(two.root).equals(rows(whole.root))
    assert quarantine(two.root) == quarantine(whole.root)
    assert [q["line"] for q in quarantine(whole.root)] == list(range(1, 11))
    assert stats_without_timings(two.root)["total"] == stats_without_timings(whole.root)["total"]


def test_a_killed_range_build_resumed_equals_an_uninterrupted_one(tmp_path):
    make_input(tmp_path)
    reference = curate.build(load_recipe(make_recipe(tmp_path, "ref", 40_000)), workers=2)
    recipe = make_recipe(tmp_path, "out", 40_000)
    assert killed_build(recipe, "after_fragment:2", 1, tmp_path) == "SIGKILL"
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert [i["byte_range"] for i in run["inputs"]] == [list(f.byte_range) for f in
                                                        plan_fragments(load_recipe(recipe))]
    assert killed_build(recipe, "mid_shard_write:3", 1, tmp_path) == "SIGKILL"
    resumed = curate.build(load_recipe(recipe), workers=2)
    assert tree_bytes(resumed.root) == tree_bytes(reference.root)
    assert stats_without_timings(resumed.root) == stats_without_timings(reference.root)
