"""Score a saved model folder (``curate train``'s ``final/``: HF weights, config, tokenizer.json) on
fixed eval sets and write ``eval.json``.

eval.json: ``{"model_dir", "max_len", "sets": {name: metrics}}``; LM sets: ``bits_per_byte``,
``loss_per_token``, ``items``, ``tokens``, ``bytes``, ``items_sha256``; MC sets: ``acc``,
``acc_norm``, ``items``, ``items_sha256``. The maths and lm_eval conventions: :mod:`train.likelihood`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import torch

from curate.errors import CurateError
from train.evalsets import EvalSet, LmItem
from train.likelihood import (bits_per_byte, choice_request, conditioned_requests, mc_correct, rolling_requests,
                              score_requests)


def load_model(model_dir: Path):
    """(model in eval mode, encode function, prefix token id) of a saved model folder; offline."""
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    model_dir = Path(model_dir)
    tok_path = model_dir / "tokenizer.json"
    if not (model_dir / "config.json").is_file() or not tok_path.is_file():
        raise CurateError(f"{model_dir}: not a saved model folder (needs config.json and tokenizer.json); "
                          "pass the final/ folder of a `curate train` run")
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True, dtype=torch.float32)
    model.eval()
    tok = Tokenizer.from_file(str(tok_path))
    prefix = model.config.bos_token_id if model.config.bos_token_id is not None else model.config.eos_token_id
    if prefix is None:
        raise CurateError(f"{model_dir}/config.json has neither bos_token_id nor eos_token_id; "
                          "scoring needs a token to condition a document's first token on")
    return model, (lambda s: tok.encode(s, add_special_tokens=False).ids), int(prefix)


def score_set(model, encode, prefix: int, evalset: EvalSet, max_len: int, batch_size: int = 16) -> dict[str, Any]:
    spec = evalset.spec
    if spec.kind == "lm":
        requests, num_bytes = [], 0
        for item in evalset.items:
            if isinstance(item, LmItem):
                requests += conditioned_requests(encode(item.prefix), encode(item.text), prefix, max_len)
                item = item.text
            else:
                requests += rolling_requests(encode(item), prefix, max_len)
            num_bytes += len(item.encode("utf-8"))
        nll = -float(score_requests(model, requests, batch_size).sum())
        tokens = sum(n for _, n in requests)
        return {"kind": "lm", "items": len(evalset.items), "tokens": tokens, "bytes": num_bytes,
                "bits_per_byte": bits_per_byte(nll, num_bytes), "loss_per_token": nll / max(tokens, 1),
                "items_sha256": evalset.items_sha256}
    requests, owner = [], []
    for k, item in enumerate(evalset.items):
        for choice in item.choices:
            requests.append(choice_request(item.context, spec.target_delimiter + choice, encode, prefix, max_len))
            owner.append(k)
    lls = score_requests(model, requests, batch_size)
    owner = np.asarray(owner)
    hits = [mc_correct(lls[owner == k], item.choices, item.gold) for k, item in enumerate(evalset.items)]
    return {"kind": "mc", "items": len(hits), "acc": float(np.mean([a for a, _ in hits])),
            "acc_norm": float(np.mean([b for _, b in hits])), "items_sha256": evalset.items_sha256}


def evaluate_model(model_dir: Path, sets: list[EvalSet], max_len: int | None = None,
                   batch_size: int = 16) -> dict[str, Any]:
    """Every set's metrics; ``max_len`` defaults to the model's ``max_position_embeddings`` (lm_eval's)."""
    model, encode, prefix = load_model(model_dir)
    max_len = max_len or int(model.config.max_position_embeddings)
    return {"model_dir": str(model_dir), "max_len": max_len,
            "sets": {s.spec.name: score_set(model, encode, prefix, s, max_len, batch_size) for s in sets}}


def write_eval_json(result: dict[str, Any], path: Path) -> None:
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    tmp.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    tmp.replace(path)
