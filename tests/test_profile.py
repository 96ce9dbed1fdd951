"""``curate build --profile`` (stats.json's ``profile`` key) and the ``[output] memory_mb`` budget:
the figures balance with the funnel, a build without the flag is unchanged, slicing batches by
bytes changes no output, and a corpus with 10-30 MB documents builds within the budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.commands.stats import funnel_lines
from curate.memory import batch_bytes, slice_bounds, split_batch
from curate.plan import plan_stages
from curate.profile import stage_name
from curate.recipe import load_recipe
from tests.conftest import REPO, _env, read_sample, run_cli, write_jsonl, write_recipe
from tests.test_build import make_inputs, make_recipe, shard_bytes

TIMING_KEYS = ("seconds", "input_mb_per_s")


def without(stats: dict, *keys: str) -> dict:
    return {k: v for k, v in stats.items() if k not in keys}


def check_profile(stats: dict) -> dict:
    """The profile's figures agree with the funnel: documents, bytes, steps in recipe order."""
    prof, total = stats["profile"], stats["total"]
    by_name = {e["name"]: e for e in prof["steps"]}
    read, write = by_name["read"], by_name["write"]
    assert read["bytes_in"] == total["input_bytes"] > 0
    assert read["docs_in"] == total["read"]
    assert read["docs_in"] - read["docs_out"] == total["quarantined"]
    docs = read["docs_out"]
    for i, step in enumerate(total["steps"]):
        e = by_name[f"{i}:{step['name']}"]
        assert (e["docs_in"], e["docs_out"]) == (step["in"], step["kept"]) and e["docs_in"] == docs
        assert e["bytes_out"] <= e["bytes_in"] and (e["bytes_in"] > 0) == (e["docs_in"] > 0)
        docs = e["docs_out"]
    assert write["docs_in"] == total["kept"] == docs and write["bytes_out"] > 0
    assert sum(e["cpu_s"] for e in prof["steps"]) > 0 and all(e["cpu_s"] >= 0 for e in prof["steps"])
    assert prof["worker_peak_rss_mb"] >= 50 and prof["first_batch_s"] > 0 and prof["first_batch_cpu_s"] > 0
    return prof


def check_stages(prof: dict, seconds: float) -> None:
    """The build's phases run back to back: their wall seconds sum to stats.json's ``seconds`` (both
    rounded); a phase's CPU is its driver's plus its workers'; the steps' CPU, measured inside the
    tasks, fits in the map stages' CPU; a map stage's peak is that of the processes that ran it; the
    driver's RSS at a phase's end is within its peak."""
    stages = prof["stages"]
    assert stages[0]["kind"] == "setup" and stages[-1]["kind"] == "finish"
    assert abs(sum(e["wall_s"] for e in stages) - seconds) <= 0.001 + 0.0001 * len(stages)
    for e in stages:
        assert e["wall_s"] >= 0 and e["driver_cpu_s"] >= 0 and e["workers_cpu_s"] >= 0
        assert abs(e["cpu_s"] - e["driver_cpu_s"] - e["workers_cpu_s"]) <= 0.0002
        assert e["driver_rss_mb"] is None or 0 < e["driver_rss_mb"] <= prof["driver_peak_rss_mb"]
    maps = [e for e in stages if e["kind"] == "map"]
    assert [e["name"].split(" (")[0] for e in maps] == [f"stage {k}" for k in range(len(maps))]
    assert sum(e["cpu_s"] for e in prof["steps"]) <= sum(e["cpu_s"] for e in maps) * 1.01 + 0.01
    for k, e in enumerate(maps):
        assert e["peak_rss_mb"] == max(w["peak_rss_mb"] for w in prof["worker_processes"] if k in w["stages"])


def test_profile_balances_and_changes_nothing_else(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path)  # length -> exact_dedup (global) -> lang_id, two sources
    plain = curate.build(load_recipe(recipe))
    plain_stats = json.loads((plain.root / "stats.json").read_text())
    assert "profile" not in plain_stats
    shards, manifest = shard_bytes(plain.root), (plain.root / "manifest.json").read_bytes()
    os.rename(plain.root, tmp_path / "plain")
    profiled = curate.build(load_recipe(recipe), workers=2, profile=True)
    stats = json.loads((profiled.root / "stats.json").read_text())
    assert shard_bytes(profiled.root) == shards and (profiled.root / "manifest.json").read_bytes() == manifest
    assert without(stats, "profile", *TIMING_KEYS) == without(plain_stats, *TIMING_KEYS)
    prof = check_profile(stats)
    assert prof["engine"] == "local" and prof["workers"] == 2
    assert len(prof["worker_processes"]) >= 2  # forked workers, each with its own peak
    assert "resolve_s" in next(e for e in prof["steps"] if e["name"] == "1:exact_dedup")
    check_stages(prof, stats["seconds"])
    assert [e["name"] for e in prof["stages"]] == [
        "plan and warm-up", "stage 0 (map: read, 0:length, 1:exact_dedup prepare)", "1:exact_dedup resolve",
        "stage 1 (map: 1:exact_dedup decisions, 2:lang_id, write)", "publish files"]
    assert all(e["workers_cpu_s"] > 0 for e in prof["stages"] if e["kind"] == "map")  # forked, reaped
    assert {s for w in prof["worker_processes"] for s in w["stages"]} == {0, 1}
    shown = run_cli("stats", str(profiled.root))
    assert shown.returncode == 0, shown.stderr
    assert "MB/cpu-s" in shown.stdout and "1:exact_dedup" in shown.stdout and "peak RSS: worker" in shown.stdout
    assert "  stage 1 (map: 1:exact_dedup decisions, 2:lang_id, write)" in shown.stdout
    assert not any("MB/cpu-s" in line for line in funnel_lines(plain_stats))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 50), max_size=40), st.integers(1, 60))
def test_slices_cover_the_batch_in_order_within_the_cap(sizes, cap):
    bounds = slice_bounds(np.array(sizes, np.int64), cap)
    assert [i for a, b in bounds for i in range(a, b)] == list(range(len(sizes)))
    for a, b in bounds:
        assert b > a or not sizes
        assert sum(sizes[a:b]) <= cap or b - a == 1
        if b < len(sizes):  # greedy: the next document would not have fit
            assert sum(sizes[a:b + 1]) > cap


def test_split_batch_is_zero_copy_and_whole():
    texts = ["a" * 5, "b" * 30, "c" * 2, "d" * 2]
    batch = pa.RecordBatch.from_pydict({"text": pa.array(texts, pa.large_string())})
    pieces = list(split_batch(batch.slice(0), 10))
    assert [p.column("text").to_pylist() for p in pieces] == [texts[:1], texts[1:2], texts[2:]]
    assert list(split_batch(batch, 10_000)) == [batch]


def test_slicing_batches_changes_no_output(tmp_path, monkeypatch):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path)
    whole = curate.build(load_recipe(recipe))
    expected = curate.scan(whole.root).collect(), json.loads((whole.root / "stats.json").read_text())
    os.rename(whole.root, tmp_path / "whole")
    monkeypatch.setattr(sys.modules["curate.build"], "batch_bytes", lambda memory_mb: 20_000)  # ~5 documents a slice
    sliced = curate.build(load_recipe(recipe))
    stats = json.loads((sliced.root / "stats.json").read_text())
    assert curate.scan(sliced.root).collect().equals(expected[0])  # rows (row groups follow batches)
    assert without(stats, *TIMING_KEYS) == without(expected[1], *TIMING_KEYS)


def test_documents_of_10_and_30_mb_build_within_the_memory_budget(tmp_path):
    """Real pages concatenated into two long documents (10 and 30 MB) among ordinary ones, through
    the four quality filters under a 1024 MiB budget: every worker's peak RSS (the build's own
    --profile figure, VmHWM) stays under it."""
    pages = read_sample()
    page_text = "\n\n".join(d["text"] for d in pages)

    def long_doc(num_bytes: int) -> str:
        return "\n\n".join([page_text] * (num_bytes // len(page_text.encode()) + 1))

    docs = pages[:100] + [{"id": "long-10mb", "text": long_doc(10 * 10**6)}] + pages[100:200] + [
        {"id": "long-30mb", "text": long_doc(30 * 10**6)}] + pages[200:]
    write_jsonl(tmp_path / "long.jsonl", docs)
    memory_mb = 1024
    recipe = write_recipe(tmp_path / "recipe.toml", f"""
[recipe]
name = "long-docs"
[[sources]]
name = "web"
paths = ["long.jsonl"]
[[steps]]
use = "gopher_repetition"
[[steps]]
use = "gopher_quality"
[[steps]]
use = "c4"
[[steps]]
use = "fineweb_quality"
[output]
dir = "out"
memory_mb = {memory_mb}
""")
    assert batch_bytes(memory_mb) < 30 * 10**6  # the 30 MB document is a slice of its own
    # The budget bounds building, not numba's one-time kernel compile (which a cold cache in a fresh
    # clone pays once, in whichever process first runs a kernel): warm the cache on the pages alone.
    warm = tmp_path / "warm"
    warm.mkdir()
    write_jsonl(warm / "long.jsonl", pages[:50])
    (warm / "recipe.toml").write_text(recipe.read_text())
    assert run_cli("build", str(warm / "recipe.toml"), "--no-progress").returncode == 0
    done = run_cli("build", str(recipe), "--profile", "--no-progress")
    assert done.returncode == 0, done.stderr
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    prof = check_profile(stats)
    assert stats["total"]["read"] == len(docs) and stats["total"]["input_bytes"] > 40 * 10**6
    assert 0 < prof["worker_peak_rss_mb"] < memory_mb, prof["worker_processes"]


def test_a_damaged_profile_is_one_line(tmp_path):
    make_inputs(tmp_path, num_files=1, per_file=10)
    root = curate.build(load_recipe(make_recipe(tmp_path)), profile=True).root
    stats = json.loads((root / "stats.json").read_text())
    stats["profile"]["steps"][0]["cpu_s"] = "fast"
    (root / "stats.json").write_text(json.dumps(stats))
    shown = run_cli("stats", str(root))
    assert shown.returncode == 2 and "profile.steps[0] needs a name" in shown.stderr
    assert len(shown.stderr.strip().splitlines()) == 1


def test_stage_names_say_what_each_stage_reads_runs_and_writes(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", read_sample(3))
    recipe = load_recipe(write_recipe(tmp_path / "recipe.toml", """
[recipe]
name = "names"
[[sources]]
name = "web"
paths = ["a.jsonl"]
[[steps]]
use = "length"
[[steps]]
use = "minhash_dedup"
[[steps]]
use = "train_tokenizer"
[[steps]]
use = "tokenize"
[output]
dir = "out"
"""))
    stages = plan_stages(recipe.steps)
    assert [stage_name(stages, k) for k in range(len(stages))] == [
        "stage 0 (map: read, 0:length, 1:minhash_dedup prepare)",
        "stage 1 (map: 1:minhash_dedup decisions, 2:train_tokenizer prepare)",
        "stage 2 (map: 2:train_tokenizer decisions, 3:tokenize, write)"]


def test_stages_are_optional_but_checked(tmp_path):
    """A profile written before ``stages`` existed still prints; a damaged phase is one line."""
    make_inputs(tmp_path, num_files=1, per_file=10)
    root = curate.build(load_recipe(make_recipe(tmp_path)), profile=True).root
    stats = json.loads((root / "stats.json").read_text())
    check_stages(stats["profile"], stats["seconds"])
    old = {**stats, "profile": {**without(stats["profile"], "stages"), "stage_seconds": [0.1, 0.2]}}
    (root / "stats.json").write_text(json.dumps(old))
    shown = run_cli("stats", str(root))
    assert shown.returncode == 0 and "peak RSS: worker" in shown.stdout and "phase (input" not in shown.stdout
    stats["profile"]["stages"][1]["peak_rss_mb"] = "high"
    (root / "stats.json").write_text(json.dumps(stats))
    shown = run_cli("stats", str(root))
    assert shown.returncode == 2 and "profile.stages[1] needs a name" in shown.stderr
    assert len(shown.stderr.strip().splitlines()) == 1


def test_peak_rss_is_this_process_not_the_one_that_started_it():
    """A build started from a big process (pytest late in a run, a notebook) reports its own peak:
    exec keeps the parent's peak in ru_maxrss on Linux, VmHWM starts afresh."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("VmHWM is Linux's")
    big = bytearray(600 * 2**20)
    big[::4096] = b"\x01" * len(big[::4096])   # touch every page: ~600 MiB resident in this process
    code = "from curate.profile import peak_rss_mb; print(peak_rss_mb())"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=REPO)
    del big
    assert child.returncode == 0, child.stderr
    assert float(child.stdout) < 400
