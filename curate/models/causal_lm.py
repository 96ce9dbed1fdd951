"""Loading a local causal-LM folder (``save_pretrained`` + ``tokenizer.json``: ``RUN/final`` of
``curate train`` or any transformers causal LM) for the steps that run one (``lm_score``,
``rephrase``): ``AutoModelForCausalLM.from_pretrained`` with ``local_files_only`` and never
``trust_remote_code``, float32, eval mode, cached once per process by path and config mtime."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from curate.errors import CurateError


@functools.lru_cache(maxsize=2)
def _load(path: str, mtime_ns: int, who: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    from curate.engines.base import record_load

    record_load(f"lm {path}")
    try:
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, trust_remote_code=False,
                                                     dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise CurateError(f"{who}: cannot load a causal LM from {path}: {exc}") from None
    return model.eval()


def load_causal_lm(folder: Path, who: str) -> Any:
    """The model saved in ``folder``; ``who`` (the step name) starts every error message."""
    config = Path(folder) / "config.json"
    if not config.is_file():
        raise CurateError(f"{who}: model={str(folder)!r} has no config.json (a save_pretrained folder, "
                          "e.g. RUN/final from `curate train`)")
    return _load(str(folder), config.stat().st_mtime_ns, who)
