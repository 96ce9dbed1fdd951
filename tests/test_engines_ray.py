"""The Ray engine gives the local pool's bytes: every shipped recipe that builds without training
(on a subset of its own inputs), a Ray worker killed mid-task, the driver SIGKILLed mid-clustering.
One Ray runtime (2 CPUs) serves the whole module."""

from __future__ import annotations

import os

import pytest

from curate.engines.local import LocalEngine
from curate.recipe import load_recipe
from engine_helpers import (RECIPES, SMALL_PARTITIONS, build_digests, digests, phased_steps_recipe, planted_corpus,
                            run_curate, shipped_recipe)

ray = pytest.importorskip("ray")

#: Worker faults armed for the whole module (workers inherit the environment of ray.init): a
#: stage-1 task of fragment 5 and the second range of the first CC round die once, mid-task.
WORKER_FAULTS = "start_fragment:1.5:kill_once,task:cc1.1:kill_once"


@pytest.fixture(scope="module")
def ray_engine(tmp_path_factory):
    from curate.engines.ray import RayEngine

    fault_dir = tmp_path_factory.mktemp("faults")
    loads = tmp_path_factory.mktemp("loads") / "loads.log"  # workers log real model loads here
    saved = {k: os.environ.get(k) for k in ("CURATE_FAULT", "CURATE_FAULT_DIR", "CURATE_LOADS")}
    os.environ.update(CURATE_FAULT=WORKER_FAULTS, CURATE_FAULT_DIR=str(fault_dir), CURATE_LOADS=str(loads))
    try:
        engine = RayEngine(2)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    engine.fault_dir, engine.loads = fault_dir, loads
    yield engine
    engine.close()


@pytest.mark.parametrize("name", RECIPES)
def test_shipped_recipe_gives_the_same_bytes_on_ray_and_on_the_local_pool(name, ray_engine, tmp_path):
    recipe = shipped_recipe(name, tmp_path, docs_per_file=120)
    local = build_digests(recipe, LocalEngine(2))
    on_ray = build_digests(recipe, ray_engine)
    assert any(k.startswith("out/shards/") for k in local)
    assert on_ray == local


def test_issue15_global_steps_give_the_same_bytes_on_ray_and_on_the_local_pool(ray_engine, tmp_path, monkeypatch):
    """decontaminate, line_dedup, paragraph_dedup (bloom) and url_dedup resolve as engine phases:
    Ray gives the local pool's bytes, contamination.json included, and each step decided something."""
    import json

    import curate.dedup.cluster as cluster
    import curate.dedup.exact as exact

    monkeypatch.setattr(cluster, "PARTITION_ENTRIES", 500)  # several key partitions (the driver plans them)
    monkeypatch.setattr(exact, "PARTITION_ROWS", 100)
    recipe = load_recipe(phased_steps_recipe(planted_corpus(tmp_path / "data", num_files=4, num_bases=60)))
    local = build_digests(recipe, LocalEngine(2))
    stats = json.loads((recipe.output.dir / "stats.json").read_text())["global_steps"]
    assert stats["0:decontaminate"]["documents_contaminated"] > 0 and stats["1:line_dedup"]["num_removed"] > 0
    assert stats["2:paragraph_dedup"]["num_removed"] > 0 and stats["3:url_dedup"]["num_duplicates"] > 0
    assert stats["1:line_dedup"]["num_partitions"] > 1
    on_ray = build_digests(recipe, ray_engine)
    assert "phased-out/contamination.json" in local and on_ray == local


def test_ray_workers_killed_mid_task_are_retried_to_identical_bytes(ray_engine, tmp_path):
    """Two Ray workers die (SIGKILL) mid-task, one in a fragment stage and one in a CC round;
    Ray retries them and the output equals the local pool's."""
    planted = planted_corpus(tmp_path / "data", num_files=6)
    import curate.engines.shuffle as shuffle

    old, shuffle.RANGE_DOCS = shuffle.RANGE_DOCS, 97  # the driver plans; the workers follow its plan
    try:
        recipe = load_recipe(planted)
        local = build_digests(recipe, LocalEngine(1))
        on_ray = build_digests(recipe, ray_engine)
    finally:
        shuffle.RANGE_DOCS = old
    assert on_ray == local
    assert sorted(p.name for p in ray_engine.fault_dir.iterdir()) == [
        "fault-start_fragment-1.5", "fault-task-cc1.1"]


def test_ray_driver_killed_mid_clustering_resumes_to_identical_bytes(tmp_path):
    """``curate build --engine ray`` SIGKILLed right after the second connected-components round;
    the same command again finishes with the bytes of an uninterrupted local build."""
    planted = planted_corpus(tmp_path / "data", num_files=4)
    args = ["build", str(planted), "--no-progress"]
    clean = run_curate(args + ["--overwrite"], prelude=SMALL_PARTITIONS)
    assert clean.returncode == 0, clean.stderr
    expected = digests(planted.parent / "out", planted.parent / "index")
    ray_args = args + ["--engine", "ray", "--workers", "2"]
    killed = run_curate(ray_args + ["--overwrite"], env={"CURATE_FAULT": "phase:cc2"}, prelude=SMALL_PARTITIONS)
    assert killed.returncode == -9, killed.stderr
    resumed = run_curate(ray_args, prelude=SMALL_PARTITIONS)
    assert resumed.returncode == 0, resumed.stderr
    assert digests(planted.parent / "out", planted.parent / "index") == expected


def test_progress_reports_reach_the_driver_while_ray_tasks_run(ray_engine, tmp_path):
    """Each task reports a batch and then blocks until the driver's progress callback has run: it
    can only finish if reports arrive before tasks complete. Totals are exact at the end."""
    flag = tmp_path / "driver-saw-a-report"
    got = []

    def report_then_wait(args):  # local: pickled by value to the workers
        import time

        from curate.engines.base import report

        path, i = args
        report(10 + i, 1000)
        for _ in range(600):  # up to 60 s, then give up (the assertion below fails)
            if os.path.exists(path):
                return "seen"
            time.sleep(0.1)
        return "not seen"

    def progress(docs, num_bytes):
        got.append((docs, num_bytes))
        flag.touch()

    results = ray_engine.map(report_then_wait, [(str(flag), i) for i in range(3)], progress=progress)
    assert results == ["seen"] * 3
    assert sum(d for d, _ in got) == 10 + 11 + 12 and sum(b for _, b in got) == 3000


def test_models_and_tokenizers_load_once_per_ray_worker_not_once_per_task(ray_engine, tmp_path):
    """lang_id and fasttext_score (one fastText model, copied to a path no earlier test used) and
    tokenize (the tokenizer train_tokenizer made) on 5 fragments x 2 stages, 2 worker CPUs: each
    worker process loads each file at most once (its cache), so loads < tasks."""
    import shutil
    from collections import Counter

    from curate.build import build
    from curate.models.fasttext_model import lid176_path
    from tests.conftest import read_sample, write_jsonl

    shutil.copy(lid176_path(), tmp_path / "lid.ftz")
    docs = read_sample(100)
    for i in range(5):  # fragments 0-4 (the module's worker fault is armed for fragment 5)
        write_jsonl(tmp_path / f"in{i}.jsonl", docs[i::5])
    (tmp_path / "r.toml").write_text(
        '[recipe]\nname = "loads"\n[[sources]]\nname = "a"\npaths = ["in*.jsonl"]\n'
        '[[steps]]\nuse = "lang_id"\nmodel_path = "lid.ftz"\nmin_score = 0.0\nlanguages = []\n'
        '[[steps]]\nuse = "fasttext_score"\nmodel_path = "lid.ftz"\nlabel = "en"\n'
        '[[steps]]\nuse = "train_tokenizer"\nvocab_size = 300\n[[steps]]\nuse = "tokenize"\n'
        '[output]\ndir = "out"\n')
    ray_engine.loads.write_text("")
    build(load_recipe(tmp_path / "r.toml"), engine=ray_engine)
    loads = Counter(tuple(line.split(" ", 1)) for line in ray_engine.loads.read_text().splitlines())
    by_file = Counter(what.split(" ", 1)[1] for _, what in loads)
    assert max(loads.values()) == 1  # no worker process loaded a file twice
    assert set(by_file) == {str(tmp_path / "lid.ftz"), str(tmp_path / "out" / "tokenizer.json")}
    assert all(n <= 3 for n in by_file.values())  # <= the worker processes, < the 5 tasks that used it


def test_a_recipe_error_inside_a_ray_task_is_raised_as_itself(ray_engine, tmp_path):
    from curate.build import build
    from curate.errors import RecipeError

    recipe = shipped_recipe("quickstart", tmp_path, docs_per_file=20)
    (tmp_path / "bad.toml").write_text(
        f'[recipe]\nname = "bad"\n[[sources]]\nname = "web"\npaths = ["{recipe.sources[0].paths[0]}"]\n'
        '[[steps]]\nuse = "score_percentile"\ncolumn = "nope"\nkeep_frac = 0.5\n[output]\ndir = "out"\n')
    with pytest.raises(RecipeError, match="column 'nope' is missing"):
        build(load_recipe(tmp_path / "bad.toml"), engine=ray_engine)


def test_unreachable_ray_address_is_a_one_line_error(tmp_path):
    from engine_helpers import REPO

    r = run_curate(["build", str(REPO / "recipes" / "quickstart.toml"), "--out", str(tmp_path / "o"),
                    "--engine", "ray", "--ray-address", "127.0.0.1:1"])
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "--ray-address 127.0.0.1:1" in r.stderr and "Traceback" not in r.stderr


def test_profile_on_ray_balances_and_names_the_ray_workers(ray_engine, tmp_path):
    """--profile through the Ray engine: the figures travel back with the task results."""
    import json

    import curate
    from tests.test_build import make_inputs, make_recipe
    from tests.test_profile import check_profile

    make_inputs(tmp_path, num_files=2, per_file=20)
    manifest = curate.build(load_recipe(make_recipe(tmp_path)), engine=ray_engine, profile=True)
    prof = check_profile(json.loads((manifest.root / "stats.json").read_text()))
    assert prof["engine"] == "ray" and os.getpid() not in {w["pid"] for w in prof["worker_processes"]}
