"""The build's process pool (curate/pool.py): workers die with a SIGKILLed parent, Ctrl-C prints
one clean line, a worker killed by the kernel is named with its fragment. Real signals to real
processes; the workers are stopped at a known point with ``CURATE_FAULT=...:stop``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, _env
from tests.test_resume import GLOBAL_STEPS, make_inputs, make_recipe, tree_bytes


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # state, ppid, ...


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[1] == str(pid):
            out.append(int(entry.name))
    return out


def dead(pid: int) -> bool:
    st = _stat(pid)
    return st is None or st[0] in ("Z", "X")


def wait_until(condition, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not reached in {seconds} s")


def start_stopped_build(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """A --workers 2 build in its own session whose worker on fragment 0 has stopped itself;
    returns the process and its worker pids."""
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, GLOBAL_STEPS["exact_dedup"])
    env = {**_env(), "CURATE_FAULT": "start_fragment:0:stop"}
    proc = subprocess.Popen([sys.executable, "-m", "curate", "build", str(recipe), "--workers", "2", "--no-progress"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_until(lambda: any(_stat(c)[0] == "T" for c in children(proc.pid) if _stat(c)))
    return proc, children(proc.pid)


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        if not dead(pid):
            os.kill(pid, signal.SIGKILL)


def test_workers_die_when_the_parent_is_sigkilled(tmp_path):
    proc, workers = start_stopped_build(tmp_path)
    try:
        assert len(workers) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        wait_until(lambda: all(dead(w) for w in workers), 20)
    finally:
        _kill_all(workers)


def test_ctrl_c_with_workers_prints_one_clean_line(tmp_path):
    proc, workers = start_stopped_build(tmp_path)
    try:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert err.strip().splitlines() == ["curate build: interrupted; run the same command again to resume"]
        assert all(dead(w) for w in workers)
    finally:
        _kill_all(workers)


def test_a_worker_killed_by_the_kernel_is_named_and_the_rerun_resumes(tmp_path):
    import curate

    make_inputs(tmp_path)
    reference = curate.build(make_recipe(tmp_path, GLOBAL_STEPS["exact_dedup"], out="ref"))
    recipe = make_recipe(tmp_path, GLOBAL_STEPS["exact_dedup"])
    cmd = [sys.executable, "-m", "curate", "build", str(recipe), "--workers", "2", "--no-progress"]
    res = subprocess.run(cmd, cwd=REPO, env={**_env(), "CURATE_FAULT": "mid_shard_write:1"},
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "curate build: error: the worker process running fragment 1 (data/part-1.jsonl) of stage 1 was "
        "killed by the kernel (SIGKILL; likely out of memory); rerun the same command to resume"]
    resumed = curate.build(recipe, workers=2)
    assert tree_bytes(resumed.root) == tree_bytes(reference.root)
