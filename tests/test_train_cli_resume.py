"""`curate train` killed with SIGKILL and run again with --resume ends exactly like an uninterrupted
run: same log lines (bytes) and the same final weights. Goes through the real CLI, build included."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, _env, run_cli

RECIPE = """
[recipe]
name = "resume"
seed = 3

[[sources]]
name = "web"
paths = ["{data}"]

[[steps]]
use = "length"
min_chars = 200
max_chars = 2000

[[steps]]
use = "train_tokenizer"
vocab_size = 512
special_tokens = ["<|endoftext|>"]

[[steps]]
use = "prefix"
kind = "url_domain"

[[steps]]
use = "tokenize"

[output]
dir = "build"

[[phases]]
name = "pretrain"
num_tokens = 9_216
conditioning = true
[phases.mixture]
strategy = "temperature"

[[phases]]
name = "cooldown"
num_tokens = 3_072
[phases.mixture]
strategy = "temperature"

[train]
hidden_size = 32
num_layers = 2
num_heads = 2
seq_len = 64
batch_rows = 4
lr = 3e-3
eval_every = 4
eval_docs_per_group = 4
holdout_frac = 0.05
log_every = 1
checkpoint_every = 2
num_threads = 1
out_dir = "run"

[train.phases.pretrain]
schedule = "cosine"
warmup_frac = 0.1

[train.phases.cooldown]
schedule = "continue"
"""


def _weights(run: Path) -> bytes:
    files = sorted((run / "final").glob("*.safetensors"))
    assert files, f"no final weights in {run}"
    return b"".join(f.read_bytes() for f in files)


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE.format(data=REPO / "tests" / "data" / "web_sample.jsonl.zst"))
    res = run_cli("build", str(recipe), "--no-progress")
    assert res.returncode == 0, res.stderr
    res = run_cli("train", str(recipe), "--out", str(tmp_path / "ref"))
    assert res.returncode == 0, res.stderr
    cmd = [sys.executable, "-m", "curate", "train", str(recipe), "--out", str(tmp_path / "cut")]
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt_dir = tmp_path / "cut" / "ckpt"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        log = tmp_path / "cut" / "log.jsonl"
        if ckpt_dir.exists() and any(ckpt_dir.iterdir()) and log.exists() and log.read_bytes().count(b"\n") > 6:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        pytest.skip("the run finished before it could be killed")
    assert not (tmp_path / "cut" / "final").exists()
    res = run_cli("train", str(recipe), "--out", str(tmp_path / "cut"), "--resume")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "cut" / "log.jsonl").read_bytes() == (tmp_path / "ref" / "log.jsonl").read_bytes()
    assert _weights(tmp_path / "cut") == _weights(tmp_path / "ref")
