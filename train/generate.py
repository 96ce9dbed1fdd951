"""Generation with a chosen conditioning prefix (MeCo inference: ``"URL: en.wikipedia.org\\n\\n"``,
or a control token such as ``<|aligned|>``): the prefix is prepended to the prompt and only the
continuation is returned. Sampling is seeded (temperature, top-p; METHODS 1 used T=0.7, top-p 0.9);
``temperature=0`` is greedy."""

from __future__ import annotations

from pathlib import Path

import torch

from curate.models.sampling import sample_token


def generate(model_dir: str | Path, prompt: str = "", prefix: str = "", max_new_tokens: int = 64,
             temperature: float = 0.7, top_p: float = 0.9, seed: int = 0) -> str:
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    model_dir = Path(model_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    model.eval()
    ids = tokenizer.encode(prefix).ids + tokenizer.encode(prompt).ids
    if not ids:
        ids = [model.config.eos_token_id]
    input_ids = torch.tensor([ids])
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits = model(input_ids=input_ids).logits[0, -1].float()
            next_id = sample_token(logits, temperature, top_p, gen)
            input_ids = torch.cat([input_ids, torch.tensor([[next_id]])], dim=1)
            if next_id == model.config.eos_token_id:
                break
    return tokenizer.decode(input_ids[0, len(ids):].tolist())
