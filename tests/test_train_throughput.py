"""Throughput arithmetic of train/throughput.py: the FLOPs formula on exact numbers, against
torch's own FLOP counter on a real (tiny, eager-attention) Llama, and MFU against the peak table."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig, LlamaForCausalLM

from train.throughput import flops_per_token, matmul_params, mfu, peak_bf16_flops


def test_flops_per_token_and_mfu_on_exact_numbers():
    # 6 * 1000 + 12 * 2 layers * 16 wide * 32 tokens
    assert flops_per_token(1000, 2, 16, 32) == 6000 + 12288
    # 1e9 FLOPs/token at 1e5 tokens/s over two H100 SXM (989 TFLOP/s each)
    assert mfu(10**9, 1e5, peak_bf16_flops("NVIDIA H100 80GB HBM3"), world_size=2) == pytest.approx(1e14 / 1.978e15)
    assert peak_bf16_flops("NVIDIA H100 PCIe") == 756e12 and peak_bf16_flops("NVIDIA A100-SXM4-80GB") == 312e12
    assert peak_bf16_flops("NVIDIA L40S") == 362e12 and peak_bf16_flops("NVIDIA L4") == 121e12
    assert peak_bf16_flops("cpu") is None and mfu(10**9, 1e5, None) is None


@pytest.mark.parametrize("tied", [False, True])
def test_formula_equals_torch_flop_counter_on_a_real_training_step(tied):
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=tied,
                      attn_implementation="eager", max_position_embeddings=64)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    batch, seq_len = 2, 16
    ids = torch.randint(0, 64, (batch, seq_len))
    counter = FlopCounterMode(display=False)
    with counter:
        model(input_ids=ids, labels=ids).loss.backward()
    # layers: 4 d^2 attention + 3 d x 128 MLP; LM head 64 x d
    assert matmul_params(model) == 2 * (4 * 32 * 32 + 3 * 32 * 128) + 64 * 32
    assert counter.get_total_flops() == batch * seq_len * flops_per_token(matmul_params(model), 2, 32, seq_len)
