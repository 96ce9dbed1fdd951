"""Named model presets (train/presets.py): each builds our Llama whose parameter count, with the
paper's vocabulary, is the paper's stated size within 2% (counted on the meta device, nothing
allocated or trained); a preset sets the shape fields and refuses a conflicting one."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaForCausalLM

from curate.config import from_table
from train.config import TrainConfig
from train.model import llama_config
from train.presets import PRESETS


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_parameter_count_matches_the_stated_size(name):
    p = PRESETS[name]
    cfg = from_table(TrainConfig, {"model": name, "seq_len": p.paper_seq_len}, "train")
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(cfg, p.paper_vocab_size, 0, 0))
    count = sum(t.numel() for t in model.parameters())
    if not p.counts_input_embedding:
        count -= p.paper_vocab_size * p.hidden_size
    assert (cfg.hidden_size, cfg.num_layers, cfg.num_heads) == (p.hidden_size, p.num_layers, p.num_heads)
    assert abs(count / p.stated_params - 1) < 0.02, (name, count)


def test_olmo_ladder_counts_are_exact_and_conflicts_are_refused():
    # DataDecide's "non-embedding" sizes are exactly our count without the input embedding
    for name in ("olmo-60m", "olmo-150m", "olmo-300m"):
        p = PRESETS[name]
        d, L = p.hidden_size, p.num_layers
        assert L * (4 * d * d + 3 * d * p.intermediate_size + 2 * d) + d + p.paper_vocab_size * d == p.stated_params
    with pytest.raises(Exception, match="hidden_size=64 conflicts with model='dclm-79m'"):
        from_table(TrainConfig, {"model": "dclm-79m", "hidden_size": 64}, "train")
    with pytest.raises(Exception, match="allowed: dclm-79m"):
        from_table(TrainConfig, {"model": "gpt2"}, "train")
