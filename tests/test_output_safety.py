"""The output boundary of a build: one build per dir (the lock), one-line errors for unusable dirs
and full disks, loud empty builds, clear messages for foreign dirs and directory sources, and
``--confine``."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

import curate
from curate.build import output_error
from curate.errors import FatalError, OutputError, RecipeError
from curate.lock import LOCK_NAME, output_lock
from curate.recipe import load_recipe
from tests.conftest import run_cli, write_recipe
from tests.test_resume import GLOBAL_STEPS, make_inputs, make_recipe, tree_bytes

DEDUP = GLOBAL_STEPS["exact_dedup"]


def _one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


# ---------------------------------------------------------------- the lock


def test_a_second_build_on_a_locked_dir_exits_2_naming_the_holder(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, DEDUP)
    out = tmp_path / "out"
    out.mkdir()
    with output_lock(out):
        line = _one_line_error(run_cli("build", str(recipe), "--no-progress"))
        assert line == (f"curate build: error: another build (pid {os.getpid()}) is writing {out}; "
                        "wait for it to finish, or stop it and run again")
    assert not (out / LOCK_NAME).exists()
    assert curate.build(load_recipe(recipe)).shards


def test_a_running_build_holds_the_lock_and_a_dead_ones_lock_is_stale(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, DEDUP)
    reference = curate.build(make_recipe(tmp_path, DEDUP, out="ref"))
    pid = os.fork()
    if pid == 0:  # a build that stops itself while it holds the lock
        try:
            os.environ["CURATE_FAULT"] = "start_fragment:2:stop"
            curate.build(load_recipe(recipe))
        finally:
            os._exit(1)
    try:
        _, status = os.waitpid(pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        with pytest.raises(OutputError, match=rf"another build \(pid {pid}\) is writing {tmp_path / 'out'}"):
            curate.build(load_recipe(recipe))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    lock = tmp_path / "out" / LOCK_NAME
    assert json.loads(lock.read_text())["pid"] == pid  # left behind by the dead build: stale
    resumed = curate.build(load_recipe(recipe))
    assert tree_bytes(resumed.root) == tree_bytes(reference.root)


# ---------------------------------------------------------------- unusable output dirs


def test_output_dir_that_is_a_file_or_under_proc_is_one_line(tmp_path):
    make_inputs(tmp_path)
    (tmp_path / "taken").write_text("a file")
    line = _one_line_error(run_cli("build", str(make_recipe(tmp_path, DEDUP, out="taken")), "--no-progress"))
    assert line.endswith(f"output.dir {tmp_path / 'taken'} is an existing file, not a directory; "
                         "choose another dir with --out")
    line = _one_line_error(run_cli("build", str(make_recipe(tmp_path, DEDUP)), "--out", "/proc/curate-out",
                                   "--no-progress"))
    assert "output.dir /proc/curate-out is under /proc, a kernel filesystem" in line
    assert not Path("/proc/curate-out").exists()


@contextlib.contextmanager
def mounted_tmpfs(path: Path, options: str):
    """A small tmpfs at ``path`` (root only); skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if res.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.decode().strip() or res.returncode})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_read_only_output_dir_is_one_line(tmp_path):
    make_inputs(tmp_path)
    with mounted_tmpfs(tmp_path / "ro", "ro,size=1m"):
        res = run_cli("build", str(make_recipe(tmp_path, DEDUP)), "--out", str(tmp_path / "ro" / "out"),
                      "--no-progress")
        line = _one_line_error(res)
        assert f"cannot write {tmp_path / 'ro' / 'out'} (read-only file system)" in line and "--out" in line


def test_a_real_full_disk_is_one_line(tmp_path):
    make_inputs(tmp_path, per_file=40)
    recipe = make_recipe(tmp_path, DEDUP)
    with mounted_tmpfs(tmp_path / "small", "size=48k"):
        res = run_cli("build", str(recipe), "--out", str(tmp_path / "small" / "out"), "--no-progress")
        line = _one_line_error(res)
        assert "no space left on the device of" in line and "run the same command again to resume" in line


@pytest.mark.parametrize("workers", [1, 2])
def test_injected_enospc_mid_shard_write_is_an_output_error_and_resumes(tmp_path, monkeypatch, workers):
    make_inputs(tmp_path)
    reference = curate.build(make_recipe(tmp_path, DEDUP, out="ref"))
    recipe = make_recipe(tmp_path, DEDUP)
    monkeypatch.setenv("CURATE_FAULT", "mid_shard_write:2:enospc")
    with pytest.raises(OutputError, match=f"no space left on the device of {tmp_path / 'out' / 'shards'}; "
                                          "free space"):
        curate.build(load_recipe(recipe), workers=workers)
    monkeypatch.delenv("CURATE_FAULT")
    assert tree_bytes(curate.build(load_recipe(recipe), workers=workers).root) == tree_bytes(reference.root)


def test_output_error_maps_only_output_side_errors(tmp_path):
    root = tmp_path / "out"
    ro = output_error(OSError(errno.EROFS, "Read-only file system", str(root / "shards")), root)
    assert str(ro) == (f"cannot write {root / 'shards'} (read-only file system); make output.dir writable "
                       "or choose another dir with --out")
    arrow = OSError(errno.EACCES, f"Failed to open local file '{root}/x.parquet'. Detail: [errno 13] Permission denied")
    assert "permission denied" in str(output_error(arrow, root))
    assert output_error(OSError(errno.EACCES, "Permission denied", str(tmp_path / "in.jsonl")), root) is None
    assert output_error(OSError(errno.ENOENT, "gone", str(tmp_path / "out2" / "a")), root) is None


# ---------------------------------------------------------------- builds that keep nothing


def test_a_build_that_keeps_nothing_warns_and_fails_under_strict(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, DEDUP)
    text = recipe.read_text().replace("min_words = 30", "min_words = 1000000")
    recipe.write_text(text)
    res = run_cli("build", str(recipe), "--no-progress")
    assert res.returncode == 0
    warning = [line for line in res.stderr.splitlines() if "WARNING" in line]
    assert warning and warning[0].startswith("curate build: WARNING: the build kept 0 of 83 documents read "
                                             "(78 dropped, 5 quarantined)")
    strict = write_recipe(tmp_path / "empty.toml", """
[recipe]
name = "empty"
[[sources]]
name = "web"
paths = ["data/part-*.jsonl"]
[[steps]]
use = "length"
min_words = 1000000
[output]
dir = "strict"
""")
    with pytest.raises(FatalError, match=r"kept 0 of 75 documents read .* \(--strict fails a build that keeps nothing\)"):
        curate.build(load_recipe(strict), strict=True)
    assert (tmp_path / "strict" / "stats.json").is_file()  # the funnel is there to look at


# ---------------------------------------------------------------- messages (issue 11, 5c)


def test_a_foreign_dir_is_not_called_another_build(tmp_path):
    make_inputs(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="is not empty and is not a curate output dir") as err:
            curate.build(make_recipe(tmp_path, DEDUP, out="mine"), overwrite=overwrite)
        assert "another build" not in str(err.value)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_a_directory_given_as_a_source_path_suggests_a_glob(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, DEDUP)
    recipe.write_text(recipe.read_text().replace('paths = ["data/part-*.jsonl"]', 'paths = ["data"]'))
    with pytest.raises(RecipeError, match=r"sources\[0\].paths\[0\]: 'data' is a directory .*; give a glob "
                                          r"of its files, e.g. 'data/\*.jsonl'"):
        curate.build(load_recipe(recipe))


# ---------------------------------------------------------------- --confine (issue 11, 5d)


def test_confine_refuses_paths_outside_the_roots_symlinks_included(tmp_path):
    project = tmp_path / "project"
    make_inputs(project)
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"text": "a private line"}\n')
    (project / "data" / "part-9.jsonl").symlink_to(secret)
    recipe = make_recipe(project, DEDUP)
    line = _one_line_error(run_cli("build", str(recipe), "--confine", str(project), "--no-progress"))
    assert f"resolves to {secret}, outside the --confine roots ({project})" in line
    assert not (project / "out").exists()  # stopped before anything was read or written
    (project / "data" / "part-9.jsonl").unlink()
    outside = load_recipe(recipe)
    outside = dataclasses.replace(outside, output=dataclasses.replace(outside.output, dir=tmp_path / "o"))
    with pytest.raises(RecipeError, match=f"output.dir {tmp_path / 'o'} resolves outside the --confine roots"):
        curate.build(outside, confine=(project,))
    words = make_recipe(project, GLOBAL_STEPS["score_band"], out="words")
    words.write_text(words.read_text().replace('words_path = "words.txt"', f'words_path = "{secret}"'))
    with pytest.raises(RecipeError, match=rf"steps\[1\].words_path = {secret} resolves outside"):
        curate.build(load_recipe(words), confine=(project,))
    assert curate.build(load_recipe(recipe), confine=(tmp_path / "elsewhere", project)).shards
