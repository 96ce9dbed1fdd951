"""``[train]`` recipe section: model size, batch, optimiser and per-phase schedule settings.

```toml
[train]
hidden_size = 128          # a 4-layer, 128-wide Llama: ~1.3M non-embedding parameters
num_layers = 4
seq_len = 256
batch_rows = 8             # rows per micro-batch; tokens/step = batch_rows * seq_len * grad_accum
lr = 1e-3
eval_every = 50

[train.phases.pretrain]    # optimisation of the [[phases]] entry named "pretrain"
schedule = "cosine"
warmup_frac = 0.05

[train.phases.cooldown]
schedule = "continue"      # MeCo: keep optimizer + schedule of the previous phase
seq_len = 1024             # long context: rows of 1024 tokens from this phase on ...
rope_theta = 500000.0      # ... and RoPE ABF (Xiong et al.)
```

``packing`` (``whole`` default, ``truncate``, ``split``: train/packing.py) and ``ul2`` (the UL2
mixture of denoisers, train/ul2.py) are set in ``[train]`` and may be overridden per phase.

Defaults follow METHODS.md: AdamW beta2 0.95 and weight decay 0.033 (MeCo config), cosine with a
floor of 0.1 x peak (MeCo ``min_lr_ratio``), gradient clipping at 1.0. Schedule formulas live in
:mod:`train.schedules`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.recipe import Section
from train.ul2 import UL2Config

SCHEDULES = ("cosine", "wsd", "linear_decay", "rewarm", "infinite", "constant", "continue")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PhaseTrainConfig:
    """How one phase is optimised (its data comes from the [[phases]] entry of the same name)."""

    schedule: Literal["cosine", "wsd", "linear_decay", "rewarm", "infinite", "constant", "continue"] = param(
        "cosine", doc="LR schedule over this phase's steps; 'continue' extends the previous phase's "
        "schedule over both phases and keeps its optimizer state (MeCo cooldown)")
    peak_lr: float | None = param(None, doc="peak LR; default [train].lr (linear_decay: the LR the "
                                  "previous phase ended at)")
    warmup_frac: float = param(0.01, doc="share of the phase's steps spent warming up linearly from 0")
    decay_frac: float = param(0.1, doc="wsd: share of steps in the final decay; infinite: share in "
                              "the final exponential anneal (0 = none)")
    min_lr_ratio: float = param(0.1, doc="final LR / peak LR for cosine, rewarm and wsd")
    cooldown_frac: float = param(0.2, doc="infinite: share of steps of the cosine from peak to const")
    const_lr_ratio: float = param(0.25, doc="infinite: constant-phase LR / peak LR")
    anneal_min_lr_ratio: float = param(0.001, doc="infinite: LR at the end of the anneal / const LR")
    init: Literal["scratch", "previous"] | None = param(
        None, doc="start from a new model or from the previous phase's weights (default: scratch for "
        "the first phase, previous after)")
    keep_optimizer: bool = param(True, doc="with init='previous': keep AdamW moments of the previous phase")
    soup_seeds: tuple[int, ...] = param((), doc="branch one run per data-order seed from the phase "
                                        "start and average their weights (OLMo 2 souping)")
    seq_len: int | None = param(None, doc="tokens per packed row in this phase (sequence-length "
                                "curriculum); default: the previous phase's, the first: [train].seq_len")
    rope_theta: float | None = param(None, doc="RoPE base frequency from this phase on (ABF: 500000); "
                                     "default: the previous phase's, the first: [train].rope_theta")
    packing: Literal["split", "whole", "truncate"] | None = param(
        None, doc="how documents that do not fit a row are placed (train/packing.py); default [train].packing")
    ul2: UL2Config | None = param(None, doc="UL2 mixture of denoisers in this phase; default [train].ul2")
    no_ul2: bool = param(False, doc="plain next-token loss in this phase even when [train].ul2 is set")

    def __post_init__(self) -> None:
        for name in ("warmup_frac", "decay_frac", "cooldown_frac", "min_lr_ratio", "const_lr_ratio",
                     "anneal_min_lr_ratio"):
            check_range(name, getattr(self, name), 0.0, 1.0)
        if self.peak_lr is not None:
            check_range("peak_lr", self.peak_lr, 0.0, 10.0)
        if self.warmup_frac + self.decay_frac > 1.0:
            raise ValueError(f"warmup_frac + decay_frac = {self.warmup_frac + self.decay_frac} > 1")
        if len(set(self.soup_seeds)) != len(self.soup_seeds):
            raise ValueError(f"soup_seeds={list(self.soup_seeds)} has repeated seeds")
        if self.seq_len is not None:
            check_range("seq_len", self.seq_len, 8, 1 << 20)
        if self.rope_theta is not None:
            check_range("rope_theta", self.rope_theta, 1.0, 1e12)
        if self.no_ul2 and self.ul2 is not None:
            raise ValueError("no_ul2 = true and a ul2 table: give one of them")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    # model (a transformers LlamaConfig; vocab size comes from the manifest's tokenizer)
    hidden_size: int = param(128, doc="model width")
    num_layers: int = param(4, doc="transformer blocks")
    num_heads: int = param(4, doc="attention heads (hidden_size must be a multiple)")
    intermediate_size: int | None = param(None, doc="MLP width; default 4 x hidden_size")
    tie_embeddings: bool = param(True, doc="share input and output embeddings")
    rope_theta: float = param(10000.0, doc="RoPE base frequency")
    # data and batching
    seq_len: int = param(256, doc="tokens per packed row")
    batch_rows: int = param(8, doc="rows per micro-batch")
    grad_accum: int = param(1, doc="micro-batches per optimizer step")
    packing: Literal["split", "whole", "truncate"] = param(
        "whole", doc="whole: a document that fits a row is never split (rows padded), longer ones cut "
        "into row-long pieces; truncate: whole, longer documents cut to seq_len; split: documents end "
        "to end, split at row ends (no padding)")
    ul2: UL2Config | None = param(None, doc="UL2 mixture of denoisers (train/ul2.py); default: plain LM")
    # optimiser
    lr: float = param(1e-3, doc="peak learning rate of phases that do not set peak_lr")
    weight_decay: float = param(0.033, doc="AdamW weight decay (MeCo config)")
    beta1: float = param(0.9, doc="AdamW beta1")
    beta2: float = param(0.95, doc="AdamW beta2")
    grad_clip: float = param(1.0, doc="max global gradient norm (0 = off)")
    precision: Literal["fp32", "bf16"] = param("fp32", doc="fp32, or bf16 autocast on CPU")
    num_threads: int | None = param(None, doc="torch CPU threads; default: torch's choice")
    seed: int | None = param(None, doc="model init and data-order seed; default [recipe].seed")
    # evaluation and checkpoints
    eval_every: int = param(50, doc="evaluate held-out loss every N optimizer steps (and at phase ends)")
    holdout_frac: float = param(0.02, doc="share of documents held out for validation (never trained on)")
    eval_docs_per_group: int = param(32, doc="validation documents per source / skill")
    eval_conditioning: bool = param(False, doc="validate with prefix/control tokens (default: raw text, "
                                    "so conditioned and standard runs compare on equal terms)")
    log_every: int = param(10, doc="log the training loss every N steps")
    checkpoint_every: int = param(100, doc="write the resumable checkpoint every N steps (and at phase ends)")
    out_dir: Path | None = param(None, doc="run directory; default: <[output].dir>-train")
    phases: dict[str, PhaseTrainConfig] = param(default_factory=dict,
                                                doc="per-phase settings, by [[phases]] name")

    def __post_init__(self) -> None:
        check_range("hidden_size", self.hidden_size, 8, 8192)
        check_range("num_layers", self.num_layers, 1, 128)
        check_range("num_heads", self.num_heads, 1, 256)
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size={self.hidden_size} is not a multiple of num_heads={self.num_heads}")
        check_range("seq_len", self.seq_len, 8, 1 << 16)
        check_range("batch_rows", self.batch_rows, 1, 1 << 14)
        check_range("grad_accum", self.grad_accum, 1, 1 << 14)
        check_range("lr", self.lr, 0.0, 10.0)
        check_range("weight_decay", self.weight_decay, 0.0, 10.0)
        check_range("beta1", self.beta1, 0.0, 0.99999)
        check_range("beta2", self.beta2, 0.0, 0.99999)
        check_range("grad_clip", self.grad_clip, 0.0)
        check_range("eval_every", self.eval_every, 1)
        check_range("holdout_frac", self.holdout_frac, 0.0, 0.5)
        check_range("eval_docs_per_group", self.eval_docs_per_group, 1)
        check_range("log_every", self.log_every, 1)
        check_range("checkpoint_every", self.checkpoint_every, 1)
        check_range("rope_theta", self.rope_theta, 1.0, 1e12)

    @property
    def tokens_per_step(self) -> int:
        """Tokens per step at ``[train].seq_len`` (a phase's own: ``Segment.tokens_per_step``)."""
        return self.seq_len * self.batch_rows * self.grad_accum

    def phase(self, name: str) -> PhaseTrainConfig:
        return self.phases.get(name) or PhaseTrainConfig()


def check_phases(phases, cfg: TrainConfig) -> None:
    """Cross-section rules of ``[train.phases.X]`` against the ``[[phases]]`` entries: every X names a
    phase, and ``schedule = "continue"`` follows a previous phase, from it, not from or into a soup."""
    names = [p.name for p in phases]
    unknown = sorted(set(cfg.phases) - set(names))
    if unknown:
        raise RecipeError(f"train.phases.{unknown[0]}: no [[phases]] entry has this name; "
                          f"phases: {', '.join(names) or '(none)'}")
    for i, p in enumerate(phases):
        settings = cfg.phase(p.name)
        if settings.schedule != "continue":
            continue
        if i == 0:
            raise RecipeError(f"train.phases.{p.name}.schedule: 'continue' needs a previous phase")
        if settings.init == "scratch" or settings.soup_seeds or cfg.phase(names[i - 1]).soup_seeds:
            raise RecipeError(f"train.phases.{p.name}: schedule='continue' cannot start from scratch "
                              "or follow/branch a soup")


#: The ``[train]`` recipe section, checked against ``[[phases]]`` at parse time (so ``curate
#: explain`` reports a ``[train.phases.X]`` without a phase X).
TRAIN_SECTION = Section("train", TrainConfig, check=lambda parsed: check_phases(parsed.get("phases") or (),
                                                                                 parsed["train"]))
