"""A tiny seeded Llama and a BPE trained on real web text, saved as a `curate train`-style model folder
(``save_pretrained`` + ``tokenizer.json``), for the lm_score tests and benchmark."""

from __future__ import annotations

from pathlib import Path

from tests.train_support import read_web, train_tokenizer


def tiny_model_dir(root: Path, *, vocab_size: int = 384, hidden_size: int = 32, num_layers: int = 2,
                   seed: int = 0, train_steps: int = 0, num_docs: int = 60) -> Path:
    """Save a random-init (seeded) Llama, optionally trained ``train_steps`` Adam steps on real web
    documents, with its tokenizer, into ``root``; return ``root``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    texts = [d["text"][:3000] for d in read_web(num_docs)]
    tok = train_tokenizer(texts, vocab_size=vocab_size)
    eos = tok.token_to_id("<|endoftext|>")
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden_size,
                         intermediate_size=2 * hidden_size, num_hidden_layers=num_layers,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                         eos_token_id=eos, pad_token_id=eos, bos_token_id=None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
        if train_steps:
            train_briefly(model, [e.ids + [eos] for e in tok.encode_batch(texts)], train_steps)
    root.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(root)
    tok.save(str(root / "tokenizer.json"))
    return root


def train_briefly(model, docs: list[list[int]], steps: int, seq_len: int = 64, rows: int = 8) -> None:
    """A few Adam steps on consecutive ``seq_len`` windows of the concatenated documents."""
    import torch

    flat = torch.tensor([t for d in docs for t in d])
    windows = flat[: len(flat) // seq_len * seq_len].view(-1, seq_len)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(steps):
        idx = torch.arange(step * rows, (step + 1) * rows) % len(windows)
        loss = model(input_ids=windows[idx], labels=windows[idx]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
