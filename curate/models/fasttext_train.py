"""Supervised fastText training in a fresh Python process.

Why a process: fastText 0.9.3 (the current PyPI release, built from its sdist) raises "Encountered
NaN" on every training after the first one in the same process, and on any training whose n-gram
hash table is empty (``wordNgrams = 1`` without subwords), even at lr 0.001; 0.9.2 does not. A
fresh interpreter per model avoids the first bug (the caller requires ``word_ngrams >= 2`` for the
second) and costs about half a second. ``python -m curate.models.fasttext_train ARGS_JSON`` reads
the fastText keyword arguments plus ``output`` (model path) from a JSON file and saves the model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from curate.errors import CurateError


def train_in_subprocess(kwargs: dict[str, Any], output: Path, scratch_dir: Path) -> None:
    """Train ``fasttext.train_supervised(**kwargs)`` in a new process and save it to ``output``."""
    args_path = scratch_dir / "fasttext_args.json"
    args_path.write_bytes(orjson.dumps({**kwargs, "output": str(output)}))
    import curate

    root = str(Path(curate.__file__).resolve().parents[1])  # this curate, wherever the cwd is
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, "-m", "curate.models.fasttext_train", str(args_path)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CurateError(f"fastText training failed: {last}")


def main(argv: list[str]) -> int:
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    kwargs = orjson.loads(Path(argv[0]).read_bytes())
    output = kwargs.pop("output")
    fasttext.train_supervised(**kwargs).save_model(output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
