"""The engine seam without Ray: file shuffles, document ranges, resolves that do not depend on
partitioning or worker count, and a driver SIGKILLed at several points (mid-clustering included)
resuming to the bytes of an uninterrupted build."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.engines.local import LocalEngine
from curate.engines.shuffle import DocRanges, read_partition, write_partitions
from curate.recipe import load_recipe
from engine_helpers import SMALL_PARTITIONS, build_digests, digests, planted_corpus, run_curate


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.integers(1, 64), st.data())
def test_doc_ranges_partition_the_documents(num_docs, range_docs, data):
    ranges = DocRanges.of(num_docs, range_docs)
    bounds = [ranges.bounds(r) for r in range(ranges.num_ranges)]
    assert bounds[0][0] == 0 and bounds[-1][1] == num_docs
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert all(hi - lo <= range_docs for lo, hi in bounds)
    if num_docs:
        docs = np.arange(num_docs)
        which = ranges.which(docs)
        for r, (lo, hi) in enumerate(bounds):
            assert (which[lo:hi] == r).all()
        lo = data.draw(st.integers(0, num_docs - 1))
        hi = data.draw(st.integers(lo + 1, num_docs))
        assert list(ranges.overlapping(lo, hi)) == sorted(set(which[lo:hi].tolist()))


def test_a_partition_reads_its_rows_in_map_task_order_whatever_order_they_were_written(tmp_path):
    schema = pa.schema([("doc", pa.int64())])
    for task in (2, 0, 1):  # tasks finish out of order
        docs = np.arange(task * 10, task * 10 + 10)
        write_partitions(tmp_path, f"m{task:06d}", pa.table({"doc": docs}, schema=schema), docs % 3, 3)
    for p in range(3):
        got = read_partition(tmp_path, p, schema).column("doc").to_pylist()
        assert got == [d for d in range(30) if d % 3 == p]
    assert read_partition(tmp_path, 7, schema).num_rows == 0


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return planted_corpus(tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def reference(planted):
    """The planted build with default partitions, one worker."""
    return build_digests(load_recipe(planted), LocalEngine(1))


def _without_stats(d: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in d.items() if not k.endswith("stats.json")}


def test_resolves_do_not_depend_on_partitions_or_workers(planted, reference, monkeypatch):
    """Dozens of shuffle partitions and document ranges, two workers: the same shards, rejected
    rows and index; the clustering needed several star rounds."""
    import curate.dedup.cluster as cluster
    import curate.dedup.exact as exact
    import curate.engines.shuffle as shuffle

    monkeypatch.setattr(shuffle, "RANGE_DOCS", 97)
    monkeypatch.setattr(cluster, "PARTITION_ENTRIES", 2000)
    monkeypatch.setattr(exact, "PARTITION_ROWS", 300)
    small = build_digests(load_recipe(planted), LocalEngine(2))
    assert _without_stats(small) == _without_stats(reference)
    stats = json.loads((planted.parent / "out" / "stats.json").read_text())["global_steps"]
    minhash = stats["2:minhash_dedup"]
    assert minhash["num_partitions"] > 1 and minhash["cc_rounds"] >= 3 and minhash["num_duplicates"] > 100
    assert stats["1:exact_dedup"]["num_duplicates"] > 10


@pytest.fixture(scope="module")
def cli_reference(planted):
    """An uninterrupted CLI build with small partitions: its digests."""
    clean = run_curate(["build", str(planted), "--no-progress", "--overwrite"], prelude=SMALL_PARTITIONS)
    assert clean.returncode == 0, clean.stderr
    return digests(planted.parent / "out", planted.parent / "index")


@pytest.mark.parametrize("point", ["phase:bands", "phase:cc2", "task:cc3.1", "start_fragment:2.4"])
def test_driver_killed_mid_build_resumes_to_identical_bytes(planted, cli_reference, point):
    """SIGKILL the (single-process) build at ``point``: after a committed map phase, after the
    second connected-components round, inside the third round, in the last stage; rerunning the
    same command gives exactly the uninterrupted build's bytes."""
    args = ["build", str(planted), "--no-progress"]
    killed = run_curate(args + ["--overwrite"], env={"CURATE_FAULT": point}, prelude=SMALL_PARTITIONS)
    assert killed.returncode == -9, killed.stderr
    resumed = run_curate(args, prelude=SMALL_PARTITIONS)
    assert resumed.returncode == 0, resumed.stderr
    assert digests(planted.parent / "out", planted.parent / "index") == cli_reference


def test_explain_prints_the_engine_plan(planted):
    r = run_curate(["explain", str(planted), "--engine", "ray", "--workers", "4"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(line.startswith("engine plan (Ray, 4 worker(s); ~") for line in lines)
    assert "  stage 0: 6 fragment tasks [length]" in lines
    assert "    exact_dedup.hashes: 6 task(s), ~0.08 MB shuffled" in lines
    assert any(line.startswith("    minhash_dedup.bands: 6 task(s), ~") for line in lines)
    assert "    minhash_dedup.decisions: 6 task(s)" in lines
