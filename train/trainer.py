"""The training loop: segments of the plan in order, with exact resume.

Per optimizer step: ``batch_rows * grad_accum`` packed rows from the phase's sampler, loss = mean
over the step's target tokens, AdamW (weight decay on matrices only), gradient clipping, LR from the
span's schedule. Every ``eval_every`` steps and at each phase end: held-out loss per source and per
skill (``train.evaluate``), logged, and fed to ``sampler.observe`` (Skill-It online). Every
``checkpoint_every`` steps and at segment ends: ``ckpt/latest.pt`` (``train.checkpoint``).

Phase starts: ``init = "scratch"`` builds a new model; ``"previous"`` keeps the weights and (with
``keep_optimizer``) the AdamW moments; ``schedule = "continue"`` also keeps the schedule (MeCo
cooldown). Soup phases save the start state, run one branch per seed from it, then average the
branch weights; the optimizer restarts after a soup.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import orjson
import torch

from curate.errors import CurateError
from train import checkpoint
from train.data import TokenStore
from train.evaluate import Evaluator
from train.model import build_model, num_targets, soup, to_batch, token_losses
from train.packing import Packer
from train.plan import Segment, plan
from train.schedules import make_schedule


@dataclasses.dataclass
class Position:
    segment: int = 0
    step: int = 0                 # steps done in the current segment
    global_step: int = 0
    tokens: int = 0
    last_lr: float | None = None
    span_prev_lr: float | None = None
    log_lines: int = 0


class Trainer:
    def __init__(self, manifest, phases, cfg, seed: int, out_dir: Path,
                 make_sampler: Callable | None = None, holdout_refs: Callable | None = None) -> None:
        if make_sampler is None or holdout_refs is None:
            import mixers
            make_sampler, holdout_refs = mixers.make_sampler, mixers.holdout_refs
        tok = manifest.tokenizer
        if not tok:
            raise CurateError(f"{manifest.root}: the build has no tokenizer; add a tokenize step")
        self.manifest, self.cfg, self.seed, self.out = manifest, cfg, seed, Path(out_dir)
        self.make_sampler, self.tokenizer_info = make_sampler, tok
        self.segments = plan(phases, cfg)
        self.store = TokenStore(manifest)
        self.evaluator = Evaluator(manifest, self.store, cfg, seed, holdout_refs)
        self.pos = Position()
        self.model = self.optimizer = self.sampler = None
        self.packer = Packer(cfg.seq_len)
        self.data_seconds = self.step_seconds = 0.0
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)

    # ----- setup -----
    def new_model(self):
        tok = self.tokenizer_info
        return build_model(self.cfg, tok.vocab_size, self.seed, tok.bos_id, tok.eos_id)

    def new_optimizer(self, model) -> torch.optim.AdamW:
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=self.cfg.lr, betas=(self.cfg.beta1, self.cfg.beta2))

    @property
    def ckpt_dir(self) -> Path:
        return self.out / "ckpt"

    def start_segment(self, seg: Segment) -> None:
        """Model, optimizer and schedule anchor at the first step of a segment."""
        s = seg.settings
        init = s.init or ("scratch" if seg.phase_index == 0 else "previous")
        first_branch = not seg.soup or seg.branch_seed == s.soup_seeds[0]
        if seg.soup and not first_branch:
            start = checkpoint.load(self.ckpt_dir / f"soup-{seg.phase.name}-start.pt")
            self.model.load_state_dict(start["model"])
            self.optimizer = self.new_optimizer(self.model)
            self.optimizer.load_state_dict(start["optimizer"])
            self.pos.global_step, self.pos.tokens = start["global_step"], start["tokens"]
            return
        if init == "scratch" or self.model is None:
            self.model = self.new_model()
            self.optimizer = self.new_optimizer(self.model)
        elif not s.keep_optimizer and s.schedule != "continue":
            self.optimizer = self.new_optimizer(self.model)
        if seg.phase_index == seg.span_start:
            self.pos.span_prev_lr = self.pos.last_lr
        if seg.soup:
            checkpoint.save(self.ckpt_dir / f"soup-{seg.phase.name}-start.pt", {
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "global_step": self.pos.global_step, "tokens": self.pos.tokens})

    def schedule(self, seg: Segment):
        owner = self.segments_of_phase(seg.span_start)[0].settings
        return make_schedule(owner, seg.span_steps, self.cfg.lr, self.pos.span_prev_lr)

    def segments_of_phase(self, phase_index: int) -> list[Segment]:
        return [s for s in self.segments if s.phase_index == phase_index]

    def data_seed(self, seg: Segment) -> int:
        return self.seed if seg.branch_seed is None else seg.branch_seed

    # ----- main loop -----
    def run(self, resume: bool = False, stop_after_steps: int | None = None) -> dict[str, Any]:
        """Train every segment; ``stop_after_steps`` simulates a kill after that many steps of
        this call (the checkpoint is written first). Returns a summary."""
        self.out.mkdir(parents=True, exist_ok=True)
        self.ckpt_dir.mkdir(exist_ok=True)
        latest = self.ckpt_dir / "latest.pt"
        resumed_mid = False
        if latest.exists():
            if not resume:
                raise CurateError(f"{self.out} already has a run; pass --resume to continue it, or "
                                  "remove the directory")
            resumed_mid = self.load(checkpoint.load(latest))
        else:
            (self.out / "log.jsonl").write_bytes(b"")
        steps_this_call = 0
        while self.pos.segment < len(self.segments):
            seg = self.segments[self.pos.segment]
            if not resumed_mid:
                self.start_segment(seg)
                if self.pos.segment == 0 and self.evaluator.batches:
                    self.log({"kind": "eval", "val": self.evaluator.evaluate(self.model),
                              **self.where(seg)})
                self.sampler = self.make_sampler(self.manifest, seg.phase, self.data_seed(seg),
                                                 self.cfg.holdout_frac)
                self.packer = Packer(self.cfg.seq_len)
            resumed_mid = False
            sched = self.schedule(seg)
            exhausted = False
            while self.pos.step < seg.num_steps:
                lr = sched.lr(seg.span_offset + self.pos.step)
                if not self.train_step(lr, seg):
                    exhausted = True
                    break
                steps_this_call += 1
                if self.pos.step % self.cfg.eval_every == 0 and self.pos.step < seg.num_steps:
                    self.eval_and_observe(seg)
                if stop_after_steps is not None and steps_this_call >= stop_after_steps:
                    self.save()
                    return {"stopped": True, "global_step": self.pos.global_step}
                if self.pos.step % self.cfg.checkpoint_every == 0:
                    self.save()
            self.finish_segment(seg, exhausted)
        return self.finish()

    def train_step(self, lr: float, seg: Segment) -> bool:
        t0 = time.perf_counter()
        cond = bool(getattr(seg.phase, "conditioning", False))
        micro = []
        for _ in range(self.cfg.grad_accum):
            rows = []
            for _ in range(self.cfg.batch_rows):
                row = self.packer.row(lambda: self.next_example(cond))
                if row is None:
                    return False
                rows.append(row)
            micro.append(to_batch(rows))
        t1 = time.perf_counter()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        total = sum(num_targets(b) for b in micro)
        loss_sum = 0.0
        for batch in micro:
            loss = token_losses(self.model, batch, self.cfg.precision == "bf16").sum() / max(1, total)
            loss.backward()
            loss_sum += float(loss.detach())
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        t2 = time.perf_counter()
        self.data_seconds += t1 - t0
        self.step_seconds += t2 - t0
        self.pos.step += 1
        self.pos.global_step += 1
        self.pos.tokens += self.cfg.tokens_per_step
        self.pos.last_lr = lr
        if self.pos.step % self.cfg.log_every == 0 or self.pos.step == 1:
            self.log({"kind": "train", "loss": loss_sum, "lr": lr, **self.where(seg)})
        return True

    def next_example(self, conditioning: bool):
        ref = next(self.sampler, None)
        if ref is None:
            return None
        return self.store.example(ref.shard, ref.row, conditioning)

    def where(self, seg: Segment) -> dict[str, Any]:
        return {"phase": seg.phase.name, "branch": seg.branch_seed, "step": self.pos.step,
                "global_step": self.pos.global_step, "tokens": self.pos.tokens}

    def eval_and_observe(self, seg: Segment, branch: Any = None) -> dict[str, dict[str, float]]:
        losses = self.evaluator.evaluate(self.model)
        where = self.where(seg)
        if branch is not None:
            where["branch"] = branch
        self.log({"kind": "eval", "val": losses, "weights": self.sampler.weights(), **where})
        group_by = getattr(seg.phase, "group_by", "source")
        if group_by in losses:
            self.sampler.observe(losses[group_by])
        return losses

    def finish_segment(self, seg: Segment, exhausted: bool) -> None:
        if exhausted:
            self.log({"kind": "note", "message": f"phase {seg.phase.name}: data ran out after "
                      f"{self.pos.step} of {seg.num_steps} steps", **self.where(seg)})
        self.eval_and_observe(seg)
        if seg.soup:
            torch.save(self.model.state_dict(), self.ckpt_dir / f"soup-{seg.phase.name}-{seg.branch_seed}.pt")
            if seg.last_branch:
                parts = [checkpoint.load(self.ckpt_dir / f"soup-{seg.phase.name}-{s}.pt")
                         for s in seg.settings.soup_seeds]
                self.model.load_state_dict(soup(parts))
                self.optimizer = self.new_optimizer(self.model)
                self.eval_and_observe(seg, branch="soup")
        if seg.last_branch:
            self.save_model(self.out / "phases" / seg.phase.name)
        self.pos.segment += 1
        self.pos.step = 0
        self.save(with_sampler=False)

    def finish(self) -> dict[str, Any]:
        final = self.out / "final"
        self.save_model(final)
        from train.plots import plot_eval

        plot_eval(self.out / "log.jsonl", self.out / "eval.png")
        data_frac = self.data_seconds / self.step_seconds if self.step_seconds else 0.0
        return {"stopped": False, "global_step": self.pos.global_step, "tokens": self.pos.tokens,
                "model_dir": str(final), "data_wait_frac": data_frac,
                "tokens_per_s": self.pos.tokens / self.step_seconds if self.step_seconds else 0.0}

    def save_model(self, path: Path) -> None:
        self.model.save_pretrained(path)
        tok_path = self.manifest.root / self.tokenizer_info.path
        if tok_path.is_file():
            shutil.copyfile(tok_path, path / "tokenizer.json")

    # ----- log and checkpoint -----
    def log(self, record: dict[str, Any]) -> None:
        with open(self.out / "log.jsonl", "ab") as f:
            f.write(orjson.dumps(record) + b"\n")
        self.pos.log_lines += 1

    def save(self, with_sampler: bool = True) -> None:
        state = {"position": dataclasses.asdict(self.pos), "model": self.model.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "rng": torch.get_rng_state(),
                 "sampler": checkpoint.encode_json(self.sampler.state_dict()) if with_sampler else "",
                 "packer": self.packer.state_dict()}
        checkpoint.save(self.ckpt_dir / "latest.pt", state)

    def load(self, state: dict[str, Any]) -> bool:
        """Restore a checkpoint; True when it is in the middle of a segment."""
        self.pos = Position(**state["position"])
        self.model = self.new_model()
        self.model.load_state_dict(state["model"])
        self.optimizer = self.new_optimizer(self.model)
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        _truncate_lines(self.out / "log.jsonl", self.pos.log_lines)
        if self.pos.segment >= len(self.segments) or self.pos.step == 0:
            return False
        seg = self.segments[self.pos.segment]
        self.sampler = self.make_sampler(self.manifest, seg.phase, self.data_seed(seg), self.cfg.holdout_frac)
        self.sampler.load_state_dict(checkpoint.decode_json(state["sampler"]))
        self.packer = Packer(self.cfg.seq_len)
        self.packer.load_state_dict(state["packer"])
        return True


def _truncate_lines(path: Path, num_lines: int) -> None:
    lines = path.read_bytes().splitlines(keepends=True) if path.exists() else []
    path.write_bytes(b"".join(lines[:num_lines]))
