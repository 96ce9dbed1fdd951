"""The model: a small Llama from ``transformers.LlamaConfig`` (built from config, never downloaded),
and the packed-batch loss.

Loss: mean next-token cross-entropy over the target tokens of a whole optimizer step (all
micro-batches), so gradient accumulation gives the same update as one large batch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from train.packing import IGNORE, Row


def llama_config(cfg, vocab_size: int, bos_id: int | None, eos_id: int | None) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size or 4 * cfg.hidden_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_heads, max_position_embeddings=max(max_seq_len(cfg), 2048),
        rope_theta=cfg.rope_theta, tie_word_embeddings=cfg.tie_embeddings,
        bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=eos_id,
        attn_implementation="sdpa",
    )


def build_model(cfg, vocab_size: int, seed: int, bos_id: int | None = None,
                eos_id: int | None = None) -> LlamaForCausalLM:
    """A freshly initialised model; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LlamaForCausalLM(llama_config(cfg, vocab_size, bos_id, eos_id))


def num_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def to_batch(rows: list[Row]) -> dict[str, torch.Tensor]:
    stack = lambda name: torch.from_numpy(np.stack([getattr(r, name) for r in rows]))  # noqa: E731
    return {"input_ids": stack("input_ids"), "labels": stack("labels"),
            "segment": stack("segment"), "position": stack("position"), "bidir": stack("bidir")}


def document_mask(segment: torch.Tensor, bidir: torch.Tensor | None = None) -> torch.Tensor:
    """(batch, 1, L, L) boolean mask: position i attends to j iff both are in the same document
    and j <= i, or both are prefix-LM input positions (``bidir``: UL2's bidirectional input)."""
    L = segment.shape[1]
    allowed = torch.ones(L, L, dtype=torch.bool).tril()[None]
    if bidir is not None:
        allowed = allowed | (bidir[:, :, None] & bidir[:, None, :])
    return ((segment[:, :, None] == segment[:, None, :]) & allowed)[:, None]


def max_seq_len(cfg) -> int:
    """The longest row of any phase (the model's ``max_position_embeddings`` is at least this)."""
    return max([cfg.seq_len] + [p.seq_len for p in cfg.phases.values() if p.seq_len])


def rope_theta(model) -> float:
    return float(model.config.rope_parameters["rope_theta"])


def set_rope_theta(model, theta: float) -> None:
    """Change the RoPE base frequency (ABF, Xiong et al.: 10,000 -> 500,000) of a built model:
    ``config.rope_parameters`` (so ``save_pretrained`` records it) and the rotary embedding's
    ``inv_freq = 1 / theta^(2i/d)``, recomputed here (it is a non-persistent buffer)."""
    if rope_theta(model) == theta:
        return
    model.config.rope_parameters["rope_theta"] = float(theta)
    rotary = model.model.rotary_emb
    inv_freq, _ = rotary.compute_default_rope_parameters(model.config)
    rotary.inv_freq.copy_(inv_freq)
    rotary.original_inv_freq.copy_(inv_freq)


def token_losses(model, batch: dict[str, torch.Tensor], bf16: bool = False) -> torch.Tensor:
    """Per-position next-token loss, (batch, L-1); 0 where the label is -100."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(input_ids=batch["input_ids"], attention_mask=document_mask(batch["segment"], batch.get("bidir")),
                       position_ids=batch["position"]).logits
    labels = batch["labels"][:, 1:]
    logits = logits[:, :-1].float()
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=IGNORE, reduction="none").view(labels.shape)


def num_targets(batch: dict[str, torch.Tensor]) -> int:
    return int((batch["labels"][:, 1:] != IGNORE).sum())
