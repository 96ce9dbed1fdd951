"""Process start-up settings of curate/startup.py, checked in fresh interpreters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHOW = "import os, curate, numpy; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"


def run(code: str, **env: str) -> str:
    full = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    full.update(PYTHONPATH=str(REPO), **env)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_curate_lets_idle_blas_threads_sleep_before_numpy_loads():
    assert run(SHOW) == "4"
    assert run("import sys, curate; print('numpy' in sys.modules)") == "True"  # so it ran before


def test_a_users_blas_timeout_is_kept():
    assert run(SHOW, OPENBLAS_THREAD_TIMEOUT="20") == "20"
