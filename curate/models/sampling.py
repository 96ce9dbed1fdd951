"""Choosing the next token from a logits vector (shared by ``rephrase``'s local backend and
``train.generate``): argmax when ``temperature <= 0``, else nucleus (top-p) sampling at
``temperature`` from a seeded ``torch.Generator``."""

from __future__ import annotations

from typing import Any


def sample_token(logits: Any, temperature: float, top_p: float, gen: Any) -> int:
    """One token id from a 1-D logits tensor: argmax when ``temperature <= 0``, else the smallest
    set of tokens whose probability reaches ``top_p``, renormalised and drawn with ``gen``."""
    import torch

    if temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits / temperature, dim=-1)
    sorted_p, order = probs.sort(descending=True)
    keep = sorted_p.cumsum(0) - sorted_p < top_p
    sorted_p = torch.where(keep, sorted_p, torch.zeros_like(sorted_p))
    choice = torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=gen)
    return int(order[choice])
