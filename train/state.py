"""The mutable state of a run (:class:`TrainState`), and how its model and optimizer are made.

Everything that changes while training lives here and goes into the checkpoint: the position in
the plan, model weights, AdamW moments, the sampler of the current segment (None between
segments) and the packer's carry. AdamW decays matrices only (``dim >= 2``); biases and norms
have weight decay 0.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from curate.manifest import TokenizerInfo
from train.model import build_model
from train.packing import Packer
from train.plan import Position


@dataclasses.dataclass
class TrainState:
    position: Position
    model: Any                  # transformers LlamaForCausalLM
    optimizer: torch.optim.AdamW
    packer: Packer
    sampler: Any = None         # mixers.MixtureSampler of the current segment


def new_model(cfg, tokenizer: TokenizerInfo, seed: int, device: torch.device | None = None):
    """A freshly initialised model for a build's tokenizer (manifest ``tokenizer`` entry), on
    ``device`` (default CPU); initialised on CPU, so the weights do not depend on the device."""
    model = build_model(cfg, tokenizer.vocab_size, seed, tokenizer.bos_id, tokenizer.eos_id)
    return model if device is None else model.to(device)


def new_optimizer(model, cfg) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
