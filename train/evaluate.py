"""Held-out validation loss per source and per skill.

The validation documents come from ``mixers.holdout_refs`` (a seeded hash of the document id, so
never yielded by a sampler made with the same seed and ``holdout_frac``), at most
``eval_docs_per_group`` per group, each truncated to ``seq_len`` tokens and packed without
cross-document attention. The loss of a group is the mean next-token loss over all its target tokens.
Groupings: ``source`` always, ``skill`` too when the shards have a ``skill`` column. Rows are packed
once and reused at every evaluation.
"""

from __future__ import annotations

import torch

import mixers
from train.dist import use_bf16
from train.model import num_targets, to_batch, token_losses
from train.packing import pack_all


class Evaluator:
    def __init__(self, manifest, store, cfg, seed: int) -> None:
        self.cfg = cfg
        self.batches: dict[str, dict[str, list]] = {}
        if cfg.holdout_frac <= 0:
            return
        columns = {c.name for c in manifest.columns}
        groupings = ["source"] + (["skill"] if "skill" in columns else [])
        for group_by in groupings:
            refs = mixers.holdout_refs(manifest, group_by, seed, cfg.holdout_frac, cfg.eval_docs_per_group)
            self.batches[group_by] = {}
            for group, group_refs in sorted(refs.items()):
                examples = []
                for ref in group_refs:
                    tokens, targets = store.example(ref.shard, ref.row, cfg.eval_conditioning)
                    examples.append((tokens[:cfg.seq_len], targets[:cfg.seq_len]))
                rows = pack_all(examples, cfg.seq_len)
                step = cfg.batch_rows
                self.batches[group_by][group] = [to_batch(rows[i:i + step]) for i in range(0, len(rows), step)]

    @torch.no_grad()
    def evaluate(self, model) -> dict[str, dict[str, float]]:
        """{grouping: {group: mean loss}}; groups without target tokens are left out."""
        was_training = model.training
        model.eval()
        bf16 = use_bf16(self.cfg.precision, next(model.parameters()).device)
        out: dict[str, dict[str, float]] = {}
        for group_by, groups in self.batches.items():
            out[group_by] = {}
            for group, batches in groups.items():
                total = sum(float(token_losses(model, b, bf16).sum()) for b in batches)
                count = sum(num_targets(b) for b in batches)
                if count:
                    out[group_by][group] = total / count
        model.train(was_training)
        return out
