"""Named model shapes of the DCLM and OLMo data-ablation ladders: ``[train] model = "dclm-79m"``.

A preset fixes the model's shape (width, depth, heads, MLP width, embedding tying) as the paper's
proxy models have it, in our Llama (RMSNorm, SwiGLU, RoPE, no biases). ``seq_len``, batch and
optimiser stay recipe settings (the papers' ``seq_len`` is listed, to copy when a GPU is at hand).
The stated size is the paper's, counted with the paper's vocabulary; a build's own tokenizer changes
the embedding part (``vocab_size * hidden_size`` per embedding matrix).

- DCLM (Li et al. 2024, open_lm ``model_configs/{79m,154m,411m}.json``): untied embeddings, GPT-NeoX
  vocabulary 50,432, SwiGLU width ``256 * ceil(8 d / 3 / 256)``, ``seq_len`` 2048 in the paper.
  Stated size = all parameters.
- OLMo ladder (as DataDecide, Magnusson et al. 2025: 60M/150M/300M): untied embeddings, ``mlp_ratio``
  8 (SwiGLU width 4 d), vocabulary 50,304, ``seq_len`` 2048. Stated size = "non-embedding" in the
  ladder's sense: everything except the input embedding (the LM head is counted).
"""

from __future__ import annotations

import dataclasses

@dataclasses.dataclass(frozen=True)
class Preset:
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    tie_embeddings: bool
    paper_seq_len: int
    paper_vocab_size: int
    stated_params: int           # the paper's size of this model
    counts_input_embedding: bool  # whether stated_params includes the input embedding


PRESETS: dict[str, Preset] = {
    "dclm-79m": Preset(512, 8, 4, 1536, False, 2048, 50_432, 79_000_000, True),
    "dclm-154m": Preset(576, 24, 8, 1536, False, 2048, 50_432, 154_000_000, True),
    "dclm-411m": Preset(1024, 24, 8, 2816, False, 2048, 50_432, 411_000_000, True),
    "olmo-60m": Preset(384, 16, 12, 1536, False, 2048, 50_304, 57_078_144, False),
    "olmo-150m": Preset(768, 12, 12, 3072, False, 2048, 50_304, 151_898_880, False),
    "olmo-300m": Preset(1024, 16, 16, 4096, False, 2048, 50_304, 319_980_544, False),
}

#: The TrainConfig fields a preset sets.
SHAPE_FIELDS = ("hidden_size", "num_layers", "num_heads", "intermediate_size", "tie_embeddings")


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"model={name!r} is not a preset; allowed: {', '.join(PRESETS)}")
    return PRESETS[name]


def shape(name: str) -> dict:
    """The ``TrainConfig`` field values of preset ``name``."""
    p = preset(name)
    return {field: getattr(p, field) for field in SHAPE_FIELDS}
