"""`curate train --nproc 2` (torchrun, DDP over gloo) on the session's token build
(tests/train_support.RECIPE: 40 steps of 4 rows, width 32, 2 layers, two phases) against the
1-process run at the same global batch: the same losses per step and final weights within fp32
tolerance; killed with SIGKILL mid-phase (CURATE_FAULT, every rank) and resumed in 2 processes it ends
with the same bytes as the uninterrupted 2-process run; resumed in 1 process it matches the
1-process run (the checkpoint is global)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest

from curate.cli import main
from curate.errors import CurateError
from tests.conftest import REPO, _env
from train.dist import Dist


def _train(recipe: str, out: Path, *extra: str, fault: str | None = None) -> int:
    cmd = [sys.executable, "-m", "curate", "train", recipe, "--out", str(out), "--nproc", "2", *extra]
    env = {**_env(), **({"CURATE_FAULT": fault} if fault else {})}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if fault is None:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.returncode


def _log(run: Path) -> list[dict]:
    return [orjson.loads(line) for line in (run / "log.jsonl").read_bytes().splitlines()]


def _weights(run: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(run / "final" / "model.safetensors")


def _assert_close_runs(a: Path, b: Path) -> None:
    la, lb = _log(a), _log(b)
    assert [(r["kind"], r.get("global_step")) for r in la] == [(r["kind"], r.get("global_step")) for r in lb]
    train_a = [r["loss"] for r in la if r["kind"] == "train"]
    assert len(train_a) == 40
    np.testing.assert_allclose(train_a, [r["loss"] for r in lb if r["kind"] == "train"], rtol=1e-5)
    for ra, rb in zip(la, lb):
        if ra["kind"] == "eval":
            for group_by, groups in ra["val"].items():
                np.testing.assert_allclose(list(groups.values()), list(rb["val"][group_by].values()), rtol=1e-5)
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        np.testing.assert_allclose(wa[name], wb[name], rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.fixture(scope="module")
def runs(token_build, tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    recipe = str(token_build.recipe)
    assert main(["train", recipe, "--out", str(root / "one")]) == 0
    _train(recipe, root / "two")
    return recipe, root


def test_two_processes_match_one_process_at_the_same_global_batch(runs):
    recipe, root = runs
    _assert_close_runs(root / "one", root / "two")
    assert (root / "two" / "throughput.jsonl").read_bytes().count(b'"tokens_per_s"') == 40


def test_kill_then_resume_across_ranks_equals_continue_and_resumes_in_one_process(runs):
    recipe, root = runs
    cut = root / "cut"
    assert _train(recipe, cut, fault="train_step:13") != 0     # one step after the step-12 checkpoint
    assert not (cut / "final").exists()
    shutil.copytree(cut, root / "cut1")
    _train(recipe, cut, "--resume")
    assert (cut / "log.jsonl").read_bytes() == (root / "two" / "log.jsonl").read_bytes()
    assert (cut / "final" / "model.safetensors").read_bytes() == \
        (root / "two" / "final" / "model.safetensors").read_bytes()
    assert main(["train", recipe, "--out", str(root / "cut1"), "--resume"]) == 0   # world size 2 -> 1
    _assert_close_runs(root / "one", root / "cut1")


def test_rank_blocks_partition_a_step_and_odd_splits_are_refused():
    rows = list(range(12))
    blocks = [Dist(rank=r, world_size=3).my_rows(rows) for r in range(3)]
    assert blocks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert Dist().my_rows(rows) == rows
    with pytest.raises(CurateError, match="batch_rows \\* grad_accum = 6 rows per step do not split over 4"):
        Dist(rank=0, world_size=4).check_rows(6)
