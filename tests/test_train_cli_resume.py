"""`curate train` killed with SIGKILL and run again with --resume ends exactly like an uninterrupted
run: same log lines (bytes) and the same final weights. The build is the session's `curate build`
of tests/train_support.RECIPE, whose [[phases]] and [train] are a 40-step run (width 32, 2 layers);
the killed run is a real process (killed by CURATE_FAULT after step 13, deterministically), the
others go through the same CLI entry point in process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from curate.cli import main
from tests.conftest import REPO, _env


def _weights(run: Path) -> bytes:
    files = sorted((run / "final").glob("*.safetensors"))
    assert files, f"no final weights in {run}"
    return b"".join(f.read_bytes() for f in files)


def test_sigkill_then_resume_equals_uninterrupted_run(token_build, tmp_path):
    recipe = str(token_build.recipe)
    assert main(["train", recipe, "--out", str(tmp_path / "ref")]) == 0
    cmd = [sys.executable, "-m", "curate", "train", recipe, "--out", str(tmp_path / "cut")]
    env = {**_env(), "CURATE_FAULT": "train_step:13"}  # mid-phase, one step after a checkpoint
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "cut" / "final").exists()
    assert main(["train", recipe, "--out", str(tmp_path / "cut"), "--resume"]) == 0
    ref = (tmp_path / "ref" / "log.jsonl").read_bytes()
    assert ref.count(b'"kind":"train"') == 40 and b'"phase":"cooldown"' in ref
    assert (tmp_path / "cut" / "log.jsonl").read_bytes() == ref
    assert _weights(tmp_path / "cut") == _weights(tmp_path / "ref")
