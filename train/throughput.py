"""Training throughput: tokens/s always, model FLOPs utilisation (MFU) on CUDA.

Training FLOPs per token (PaLM, Chowdhery et al. 2022, appendix B; as nanoGPT's ``estimate_mfu``):

    flops_per_token = 6 * N + 12 * L * d * T

with N the parameters that do matmuls (:func:`matmul_params`: the weight matrices, less the input
embedding when it is not tied to the output projection, since a lookup is no FLOPs; norm gains are
left out), L layers, d = ``hidden_size`` (= heads x head dim) and T = ``seq_len``. The attention term
counts the full T x T score and value products of every layer as PaLM does (document masking skips
some of that work, so MFU is a slight overestimate with many short documents). Forward is 1/3 of
it, backward 2/3; ``torch.utils.flop_counter`` on an eager-attention model gives exactly this
(tests/test_train_throughput.py).

    MFU = flops_per_token * tokens_per_s / (peak_bf16_flops(device) * world_size)

with the dense (no sparsity) bf16 tensor-core peak of the device from :data:`PEAK_BF16_FLOPS`,
matched by a substring of ``torch.cuda.get_device_name()``; an unknown device or CPU has no MFU.
``RUN/throughput.jsonl`` (rank 0) gets one line per ``log_every`` steps: ``global_step``,
``tokens_per_s`` over the steps since the previous line and ``mfu`` (null off CUDA). It is kept apart
from ``log.jsonl``, which must be the same bytes on every run.
"""

from __future__ import annotations

from pathlib import Path

import orjson

#: Dense bf16 tensor-core peak FLOP/s by device-name substring (NVIDIA datasheets), most specific first.
PEAK_BF16_FLOPS: tuple[tuple[str, float], ...] = (
    ("H200", 989e12), ("H100 PCIe", 756e12), ("H100", 989e12), ("GH200", 989e12),
    ("A100", 312e12), ("A800", 312e12), ("L40S", 362e12), ("L40", 181e12), ("L4", 121e12),
    ("A10G", 70e12), ("A10", 125e12), ("RTX 4090", 165e12), ("RTX 3090", 71e12),
)


def matmul_params(model) -> int:
    """Parameters of a transformers causal LM that do matmuls: its matrices, less the input
    embedding unless it is the (tied) output projection too."""
    matrices = sum(p.numel() for p in model.parameters() if p.dim() >= 2)
    if model.config.tie_word_embeddings:
        return matrices
    return matrices - model.get_input_embeddings().weight.numel()


def flops_per_token(matmul_params: int, num_layers: int, hidden_size: int, seq_len: int) -> int:
    """Training FLOPs per token: ``6 N + 12 L d T``."""
    return 6 * matmul_params + 12 * num_layers * hidden_size * seq_len


def peak_bf16_flops(device_name: str) -> float | None:
    for key, flops in PEAK_BF16_FLOPS:
        if key in device_name:
            return flops
    return None


def mfu(flops_token: int, tokens_per_s: float, peak_flops: float | None, world_size: int = 1) -> float | None:
    """Model FLOPs utilisation over ``world_size`` devices of ``peak_flops`` each (None: no peak known)."""
    if not peak_flops:
        return None
    return flops_token * tokens_per_s / (peak_flops * world_size)


class Throughput:
    """Writes ``throughput.jsonl`` lines from the trainer's :class:`~train.step.StepTimes`."""

    def __init__(self, path: Path, dist) -> None:
        self.path, self.dist = path, dist
        self.last_tokens, self.last_s = 0, 0.0
        self.peak = None
        if dist.device.type == "cuda":
            import torch

            self.peak = peak_bf16_flops(torch.cuda.get_device_name(dist.device))

    def write(self, model, position, times, seq_len: int) -> dict:
        seconds, tokens = times.step_s - self.last_s, times.tokens - self.last_tokens
        self.last_s, self.last_tokens = times.step_s, times.tokens
        rate = tokens / seconds if seconds > 0 else 0.0
        mcfg = model.config
        per_token = flops_per_token(matmul_params(model), mcfg.num_hidden_layers, mcfg.hidden_size,
                                    seq_len)
        record = {"global_step": position.global_step, "tokens_per_s": round(rate, 1),
                  "mfu": mfu(per_token, rate, self.peak, self.dist.world_size)}
        with open(self.path, "ab") as f:
            f.write(orjson.dumps(record) + b"\n")
        return record
