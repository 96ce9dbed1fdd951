"""The Ray engine gives the local pool's bytes: every shipped recipe that builds without training
(on a subset of its own inputs), a Ray worker killed mid-task, the driver SIGKILLed mid-clustering.
One Ray runtime (2 CPUs) serves the whole module."""

from __future__ import annotations

import os

import pytest

from curate.engines.local import LocalEngine
from curate.recipe import load_recipe
from engine_helpers import (RECIPES, SMALL_PARTITIONS, build_digests, digests, planted_corpus, run_curate,
                            shipped_recipe)

ray = pytest.importorskip("ray")

#: Worker faults armed for the whole module (workers inherit the environment of ray.init): a
#: stage-1 task of fragment 5 and the second range of the first CC round die once, mid-task.
WORKER_FAULTS = "start_fragment:1.5:kill_once,task:cc1.1:kill_once"


@pytest.fixture(scope="module")
def ray_engine(tmp_path_factory):
    from curate.engines.ray import RayEngine

    fault_dir = tmp_path_factory.mktemp("faults")
    saved = {k: os.environ.get(k) for k in ("CURATE_FAULT", "CURATE_FAULT_DIR")}
    os.environ.update(CURATE_FAULT=WORKER_FAULTS, CURATE_FAULT_DIR=str(fault_dir))
    try:
        engine = RayEngine(2)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    engine.fault_dir = fault_dir
    yield engine
    engine.close()


@pytest.mark.parametrize("name", RECIPES)
def test_shipped_recipe_gives_the_same_bytes_on_ray_and_on_the_local_pool(name, ray_engine, tmp_path):
    recipe = shipped_recipe(name, tmp_path, docs_per_file=120)
    local = build_digests(recipe, LocalEngine(2))
    on_ray = build_digests(recipe, ray_engine)
    assert any(k.startswith("out/shards/") for k in local)
    assert on_ray == local


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
