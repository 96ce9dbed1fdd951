"""The local backend: a ``transformers`` causal-LM folder on this machine (a ``curate train``
``RUN/final`` folder or any ``save_pretrained`` causal LM), loaded with ``local_files_only=True``
and never ``trust_remote_code``. The tokenizer is the folder's ``tokenizer.json`` (HF
``tokenizers``; special-token strings in prompts stay plain text, ``add_special_tokens`` as the
file's post-processor defines, e.g. a Llama BOS).

Decoding is batched: prompts are sorted by length, left-padded into batches of ``batch_size``,
run through one prefill and then one cached forward per new token (``position_ids`` from the
attention mask, so a prompt's positions do not depend on its batch-mates). Each row picks its next
token alone: argmax (greedy), or nucleus sampling from its own ``torch.Generator`` seeded with the
prompt's seed, so a chunk's output does not depend on which chunks share its batch. A row stops at
EOS or ``max_new_tokens``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from curate.rephrase.params import GenParams, Generation


def load(folder: Path) -> tuple[Any, Any]:
    """(model, tokenizer) of ``folder``, each cached per process."""
    from curate.models.causal_lm import load_causal_lm
    from curate.tokens.tokenizer import load_tokenizer

    return load_causal_lm(folder, "rephrase"), load_tokenizer(Path(folder))


def eos_ids(config: Any) -> set[int]:
    eos = config.eos_token_id
    return set() if eos is None else set(eos if isinstance(eos, (list, tuple)) else [eos])


class LocalBackend:
    def __init__(self, folder: Path, batch_size: int = 8, num_threads: int | None = None):
        self.folder = Path(folder)
        self.batch_size = batch_size
        self.num_threads = num_threads

    @property
    def name(self) -> str:
        return self.folder.name if self.folder.name != "final" else f"{self.folder.parent.name}/final"

    def count_tokens(self, texts: list[str]) -> list[int]:
        _, tok = load(self.folder)
        return [len(e.ids) for e in tok.encode_batch_fast(texts, add_special_tokens=False)]

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: GenParams) -> list[Generation]:
        import torch

        model, tok = load(self.folder)
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        ids = [e.ids for e in tok.encode_batch_fast(list(prompts), add_special_tokens=True)]
        order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
        out: list[Generation] = [Generation(None, "model_error")] * len(ids)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            try:
                texts = decode_batch(model, [ids[i] for i in rows], [seeds[i] for i in rows], params)
            except (RuntimeError, IndexError) as exc:  # e.g. a prompt beyond the model's positions
                err = f"model_error: {str(exc).splitlines()[0][:80]}"
                for i in rows:
                    out[i] = Generation(None, err)
                continue
            for i, t in zip(rows, texts):
                out[i] = Generation(tok.decode(t, skip_special_tokens=True))
        return out


def decode_batch(model: Any, prompts: list[list[int]], seeds: list[int], params: GenParams) -> list[list[int]]:
    """New token ids of each prompt (EOS excluded), decoded together with a KV cache."""
    import torch

    from curate.models.sampling import sample_token

    eos = eos_ids(model.config)
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else (min(eos) if eos else 0)
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for r, p in enumerate(prompts):
        if p:
            ids[r, width - len(p):] = torch.tensor(p)
            mask[r, width - len(p):] = 1
    position = (mask.cumsum(1) - 1).clamp(min=0)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    new: list[list[int]] = [[] for _ in prompts]
    done = [False] * len(prompts)
    with torch.inference_mode():
        out = model(input_ids=ids, attention_mask=mask, position_ids=position, use_cache=True)
        next_pos = position[:, -1:] + 1
        for _ in range(params.max_new_tokens):
            logits = out.logits[:, -1].float()
            if params.temperature <= 0:
                chosen = logits.argmax(-1).tolist()
            else:
                chosen = [sample_token(logits[r], params.temperature, params.top_p, gens[r])
                          for r in range(len(prompts))]
            for r, t in enumerate(chosen):
                if not done[r]:
                    if t in eos:
                        done[r] = True
                    else:
                        new[r].append(t)
            if all(done):
                break
            step = torch.tensor(chosen, dtype=torch.long)[:, None]
            mask = torch.cat([mask, torch.ones((len(prompts), 1), dtype=torch.long)], dim=1)
            out = model(input_ids=step, attention_mask=mask, position_ids=next_pos,
                        cache=out.cache, use_cache=True)
            next_pos = next_pos + 1
    return new
