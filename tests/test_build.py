"""curate build end to end: accounting, determinism across workers, output dir safety,
rejected/quarantine files, the manifest and curate.scan. Resume after SIGKILL: tests/test_resume.py."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import curate
from curate.errors import InputError, OutputError
from curate.recipe import load_recipe
from tests.conftest import REPO, read_sample, run_cli, write_jsonl, write_recipe
from tests.test_readers import bad_jsonl_bytes

STEPS = """
[[steps]]
use = "length"
min_words = 50

[[steps]]
use = "exact_dedup"

[[steps]]
use = "lang_id"
languages = ["en"]
"""


def make_inputs(tmp_path: Path, num_files: int = 4, per_file: int = 40) -> Path:
    """Real documents split over several files, with planted exact duplicates across files."""
    docs = read_sample(num_files * per_file)
    data = tmp_path / "data"
    for i in range(num_files):
        part = docs[i * per_file:(i + 1) * per_file]
        if i > 0:  # an exact copy (new id, different case/spacing) of a document of the first file
            part.append({**docs[i], "id": f"copy-{i}", "text": "  " + docs[i]["text"].upper()})
        write_jsonl(data / f"part-{i}.jsonl", part)
    (data / "bad.jsonl").write_bytes(bad_jsonl_bytes())
    return data


def make_recipe(tmp_path: Path, out: str = "out", steps: str = STEPS, extra_output: str = "") -> Path:
    text = f"""
[recipe]
name = "test"
seed = 1

[[sources]]
name = "web"
paths = ["data/part-*.jsonl"]

[[sources]]
name = "other"
paths = ["data/bad.jsonl"]
{steps}
[output]
dir = "{out}"
max_shard_rows = 15
row_group_rows = 8
{extra_output}
"""
    return write_recipe(tmp_path / "recipe.toml", text)


def shard_bytes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "shards").glob("*.parquet"))}


def test_build_accounts_for_every_document(tmp_path):
    make_inputs(tmp_path)
    manifest = curate.build(make_recipe(tmp_path))
    stats = json.loads((manifest.root / "stats.json").read_text())
    for name, c in stats["sources"].items():
        dropped = sum(sum(s["dropped"].values()) for s in c["steps"])
        assert c["read"] == c["kept"] + dropped + c["quarantined"], name
    web, other = stats["sources"]["web"], stats["sources"]["other"]
    assert web["read"] == 4 * 40 + 3 and web["quarantined"] == 0
    assert other["read"] == 8 and other["quarantined"] == 5
    assert web["steps"][1]["dropped"] == {"exact_duplicate": 3}
    kept = curate.scan(manifest.root).collect()
    assert kept.height == stats["total"]["kept"] == sum(s.num_docs for s in manifest.shards)
    rejected = pl.read_parquet(manifest.root / "rejected" / "*.parquet")
    assert rejected.height == sum(sum(s["dropped"].values()) for s in stats["total"]["steps"])
    dups = rejected.filter((pl.col("reason") == "exact_duplicate") & (pl.col("source") == "web")).sort("id")
    assert dups["id"].to_list() == ["copy-1", "copy-2", "copy-3"]
    quarantine = pl.read_parquet(manifest.root / "quarantine" / "*.parquet")
    assert quarantine["line"].to_list() == [1, 2, 3, 4, 5]  # 0-based physical lines
    assert set(kept["lang"].to_list()) == {"en"}


def test_duplicates_name_the_first_occurrence(tmp_path):
    make_inputs(tmp_path)
    manifest = curate.build(make_recipe(tmp_path))
    rejected = pl.read_parquet(manifest.root / "rejected" / "*.parquet")
    dups = rejected.filter((pl.col("reason") == "exact_duplicate") & (pl.col("source") == "web")).sort("id")
    docs = read_sample(4)
    # copy-i copies docs[i], which sits in the first file, earlier in input order
    assert dict(zip(dups["id"], dups["duplicate_of"])) == {f"copy-{i}": docs[i]["id"] for i in (1, 2, 3)}


def test_one_and_two_workers_give_identical_shards(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path)
    one = curate.build(load_recipe(recipe), workers=1)
    a = shard_bytes(one.root)
    os.rename(one.root, tmp_path / "out1")
    two = curate.build(load_recipe(recipe), workers=2)
    assert shard_bytes(two.root) == a and len(a) > 4
    assert json.loads((two.root / "manifest.json").read_text()) == json.loads(
        (tmp_path / "out1" / "manifest.json").read_text())


def test_output_dir_rules(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path)
    manifest = curate.build(recipe)
    first = shard_bytes(manifest.root)
    assert shard_bytes(curate.build(recipe).root) == first  # same recipe: already complete
    other = make_recipe(tmp_path, extra_output='compression = "snappy"')
    with pytest.raises(OutputError, match="different recipe fingerprint"):
        curate.build(other)
    assert len(shard_bytes(curate.build(other, overwrite=True).root)) == len(first)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "precious.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not written by curate"):
        curate.build(make_recipe(tmp_path, out="stranger"), overwrite=True)
    assert (stranger / "precious.txt").read_text() == "keep me"
    with pytest.raises(OutputError, match="outputs never overwrite inputs"):
        curate.build(make_recipe(tmp_path, out="data"))


def test_strict_fails_on_first_bad_record(tmp_path):
    make_inputs(tmp_path)
    with pytest.raises(InputError, match=r"bad.jsonl: line 1 \(0-based\): invalid JSON"):
        curate.build(make_recipe(tmp_path), strict=True)


def test_rejected_full_rows_and_none(tmp_path):
    make_inputs(tmp_path, num_files=1)
    full = curate.build(make_recipe(tmp_path, extra_output='rejected = "full"'))
    rejected = pq.read_table(full.root / "rejected" / "part-00000-s0.parquet")
    assert "text" in rejected.column_names and rejected.num_rows > 0
    none = curate.build(make_recipe(tmp_path, out="none", extra_output='rejected = "none"'))
    assert not (none.root / "rejected").exists()


def test_manifest_lists_inputs_shards_and_sources(tmp_path):
    make_inputs(tmp_path)
    manifest = curate.build(make_recipe(tmp_path))
    assert manifest.recipe.fingerprint == load_recipe(tmp_path / "recipe.toml").fingerprint()
    assert [i.path for i in manifest.inputs] == [f"data/part-{i}.jsonl" for i in range(4)] + ["data/bad.jsonl"]
    assert all(i.num_bytes == (tmp_path / i.path).stat().st_size for i in manifest.inputs)
    for shard in manifest.shards:
        meta = pq.read_metadata(manifest.root / shard.path)
        assert meta.num_rows == shard.num_docs <= 15
        assert shard.num_bytes == (manifest.root / shard.path).stat().st_size
    assert sum(s.num_docs for s in manifest.sources.values()) == sum(s.num_docs for s in manifest.shards)
    names = [c.name for c in manifest.columns]
    assert names[:8] == ["id", "text", "source", "url", "timestamp", "meta", "input_file", "input_row"]
    lf = pl.scan_parquet(str(manifest.root / "shards" / "*.parquet"))
    assert lf.select(pl.len()).collect().item() == sum(s.num_docs for s in manifest.shards)


def test_cli_build_stats_explain_steps(tmp_path):
    make_inputs(tmp_path, num_files=2)
    recipe = make_recipe(tmp_path)
    res = run_cli("explain", str(recipe))
    assert res.returncode == 0 and "exact_dedup" in res.stdout and "[global" in res.stdout
    assert not (tmp_path / "out").exists()
    res = run_cli("build", str(recipe), "--workers", "2", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "too_few_words" in res.stdout and "kept" in res.stdout
    res = run_cli("stats", str(tmp_path / "out"))
    assert res.returncode == 0 and "quarantined" in res.stdout
    res = run_cli("steps")
    assert res.returncode == 0 and "min_words (integer) = 0" in res.stdout


def test_funnel_prints_nested_global_step_stats():
    from curate.commands.stats import funnel_lines

    names = ["domain_balance"]
    counts = {"read": 3, "quarantined": 0, "bad_timestamps": 0, "input_bytes": 9, "kept": 3,
              "steps": [{"name": "domain_balance", "in": 3, "kept": 3, "dropped": {}}]}
    stats = {"sources": {"web": counts}, "total": counts, "seconds": 0.1, "input_mb_per_s": 1.0,
             "global_steps": {"0:domain_balance": {"domains": {"a.com": {"in": 2, "kept": 1}, "b.org": 1},
                                                   "ratio": 0.5, "note": "x"}}}
    lines = funnel_lines(stats)
    assert "0:domain_balance: ratio=0.5, note=x" in lines
    assert "  domains: a.com: {in: 2, kept: 1}, b.org: 1" in lines
    assert names[0] in lines[3]


@pytest.mark.parametrize("name", ["quickstart", "web_dedup", "tokens"])
def test_shipped_recipes_build_and_report_through_the_cli(tmp_path, name):
    """The README's commands on the shipped sample: build, then the funnel, exit 0, no traceback."""
    out = tmp_path / name
    res = run_cli("build", str(REPO / "recipes" / f"{name}.toml"), "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    res = run_cli("stats", str(out))
    assert res.returncode == 0 and "Traceback" not in res.stderr
    stats = json.loads((out / "stats.json").read_text())
    assert stats["total"]["kept"] == curate.scan(out).select(pl.len()).collect().item() > 0


def test_large_parquet_files_split_into_fragments_with_exact_lineage(tmp_path):
    """A Parquet file of 6 row groups split into 3 fragments gives the rows, lineage and stats of
    the unsplit build, identical for 1 and 2 workers."""
    docs = read_sample(60)
    table = pa.table({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs],
                      "url": [d["url"] for d in docs]})
    (tmp_path / "data").mkdir()
    pq.write_table(table, tmp_path / "data" / "web.parquet", row_group_size=10)

    def recipe(out: str, fragment_rows: int) -> Path:
        return write_recipe(tmp_path / f"{out}.toml", f"""
[recipe]
name = "pq"
[[sources]]
name = "web"
paths = ["data/*.parquet"]
fragment_rows = {fragment_rows}
[[steps]]
use = "length"
min_words = 50
[[steps]]
use = "exact_dedup"
[output]
dir = "{out}"
""")

    from curate.plan import plan_fragments

    split = load_recipe(recipe("split", 20))
    assert [(f.row_groups, f.first_row) for f in plan_fragments(split)] == [((0, 2), 0), ((2, 4), 20), ((4, 6), 40)]
    whole = curate.build(recipe("whole", 10_000))
    one = curate.build(split)
    cols = ["id", "text", "input_file", "input_row"]
    assert curate.scan(one.root).select(cols).collect().equals(curate.scan(whole.root).select(cols).collect())
    assert len(one.shards) == 3 and len(whole.shards) == 1
    assert len(one.inputs) == 1
    two = curate.build(load_recipe(recipe("two", 20)), workers=2)
    assert shard_bytes(two.root) == shard_bytes(one.root)
    s_one, s_whole = (json.loads((m.root / "stats.json").read_text()) for m in (one, whole))
    assert s_one["sources"]["web"]["steps"] == s_whole["sources"]["web"]["steps"]
