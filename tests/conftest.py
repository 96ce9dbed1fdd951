"""Shared fixtures: small real inputs from tests/data and helpers to write recipes."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import zstandard

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
SHARED_DATA = REPO.parent / "shared" / "data"


def read_sample(limit: int | None = None) -> list[dict]:
    """The real web documents shipped in tests/data/web_sample.jsonl.zst."""
    raw = zstandard.ZstdDecompressor().stream_reader(open(TEST_DATA / "web_sample.jsonl.zst", "rb"))
    docs = [json.loads(line) for line in io.TextIOWrapper(raw, encoding="utf-8")]
    return docs[:limit] if limit else docs


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def write_recipe(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def sample_docs() -> list[dict]:
    return read_sample()


def run_cli(*args: str, cwd: Path | None = None):
    """Run ``python -m curate ARGS`` in a subprocess; returns CompletedProcess (text)."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=_env())


def _env() -> dict:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="session")
def token_build(tmp_path_factory):
    """A tokens build of tests/data by the real `curate build`, once per session (tests/train_support.py)."""
    from tests.train_support import token_build as build

    return build(tmp_path_factory.mktemp("token_build"))


@pytest.fixture(scope="session")
def trained_model(token_build, tmp_path_factory):
    """RUN/final of a tiny `curate train` run on the session's token build (the rephrase tests' model)."""
    from curate.cli import main

    run = tmp_path_factory.mktemp("trained_model") / "run"
    if main(["train", str(token_build.recipe), "--out", str(run)]) != 0:
        raise RuntimeError("curate train failed")
    return run / "final"
