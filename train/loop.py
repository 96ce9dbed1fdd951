"""The training loop: the segments of the plan in order, over an explicit :class:`TrainState`.

Per segment: :func:`start_segment` (model, optimizer, soup start), a sampler from
``mixers.make_sampler`` and a new packer, then :func:`train_step` until the segment's steps are done
or its data runs out, then :func:`finish_segment`. Every ``eval_every`` steps and at each segment
end, :func:`evaluate` logs the held-out loss per source and per skill and feeds the phase's grouping
to ``sampler.observe`` (Skill-It online). Every ``checkpoint_every`` steps and at segment ends,
``ckpt/latest.pt`` (:mod:`train.checkpoint`); a resumed run continues bit-identically (CPU fp32).

Phase starts: ``init = "scratch"`` builds a new model; ``"previous"`` keeps the weights and (with
``keep_optimizer``) the AdamW moments; ``schedule = "continue"`` also keeps the schedule (MeCo
cooldown). Soup phases save the start state, run one branch per seed from it, then average the
branch weights (:mod:`train.soup`); the optimizer restarts after a soup.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import torch

import mixers
from curate import faults
from curate.errors import CurateError
from train import soup, ul2
from train.checkpoint import load_checkpoint, save_checkpoint
from train.data import TokenStore
from train.evaluate import Evaluator
from train.hf_export import write_tokenizer_config
from train.log import RunLog
from train.model import set_rope_theta
from train.packing import Packer
from train.plan import Position, Segment, plan
from train.state import TrainState, new_model, new_optimizer
from train.step import StepTimes, train_step


@dataclasses.dataclass(frozen=True)
class Run:
    """What stays fixed during a run: its inputs, plan, data access, validation set and log."""

    manifest: Any               # curate Manifest of the build
    cfg: Any                    # train.config.TrainConfig
    seed: int
    out_dir: Path
    segments: list[Segment]
    store: TokenStore
    evaluator: Evaluator
    log: RunLog

    @property
    def ckpt_dir(self) -> Path:
        return self.out_dir / "ckpt"

    @property
    def tokenizer(self) -> dict[str, Any]:
        return self.manifest.tokenizer


def open_run(manifest, phases, cfg, seed: int, out_dir: Path) -> Run:
    if not manifest.tokenizer:
        raise CurateError(f"{manifest.root}: the build has no tokenizer; add a tokenize step")
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    store = TokenStore(manifest)
    out_dir = Path(out_dir)
    return Run(manifest=manifest, cfg=cfg, seed=seed, out_dir=out_dir, segments=plan(phases, cfg),
               store=store, evaluator=Evaluator(manifest, store, cfg, seed), log=RunLog(out_dir / "log.jsonl"))


def train(manifest, phases, cfg, seed: int, out_dir: Path, *, resume: bool = False,
          stop_after_steps: int | None = None) -> dict[str, Any]:
    """Train every segment of the plan in ``out_dir`` and return a summary. ``resume`` continues
    the run there; ``stop_after_steps`` stops after that many steps of this call, checkpoint
    written (what a kill right after a checkpoint leaves)."""
    run = open_run(manifest, phases, cfg, seed, out_dir)
    run.ckpt_dir.mkdir(parents=True, exist_ok=True)
    latest = run.ckpt_dir / "latest.pt"
    state, sampler_state = None, None
    if latest.exists():
        if not resume:
            raise CurateError(f"{run.out_dir} already has a run; pass --resume to continue it, or "
                              "remove the directory")
        state, sampler_state = resume_state(run, latest)
    else:
        run.log.start()
    times = StepTimes()
    state = run_segments(run, state, sampler_state, times, stop_after_steps)
    if state.position.segment < len(run.segments):
        return {"stopped": True, "global_step": state.position.global_step}
    return finish(run, state, times)


def resume_state(run: Run, path: Path) -> tuple[TrainState, dict | None]:
    """The checkpointed state, the log cut back to it; the sampler state when mid-segment."""
    state, sampler_state, log_lines = load_checkpoint(path, run.cfg, run.tokenizer, run.seed)
    run.log.truncate(log_lines)
    pos = state.position
    mid_segment = pos.segment < len(run.segments) and pos.step > 0
    return state, sampler_state if mid_segment else None


def run_segments(run: Run, state: TrainState | None, sampler_state: dict | None, times: StepTimes,
                 stop_after_steps: int | None = None) -> TrainState:
    """Train from ``state`` (None: a new run) to the end of the plan, or until ``stop_after_steps``
    steps of this call are done; ``sampler_state`` resumes the current segment's sampler."""
    cfg, steps_this_call = run.cfg, 0
    while state is None or state.position.segment < len(run.segments):
        seg = run.segments[0 if state is None else state.position.segment]
        if sampler_state is None:
            state = start_segment(run, state, seg)
        else:
            state.sampler = phase_sampler(run, seg)
            state.sampler.load_state_dict(sampler_state)
            set_rope_theta(state.model, seg.rope_theta)
            sampler_state = None
        pos, exhausted = state.position, False
        transform = ul2_transform(run, seg, state)
        while pos.step < seg.num_steps:
            lr = pos.lr(run.segments)
            loss = train_step(state, run.store, cfg, seg.phase.conditioning, lr, times, transform)
            if loss is None:
                exhausted = True
                break
            pos.advance(seg.tokens_per_step)
            steps_this_call += 1
            if pos.step % cfg.log_every == 0 or pos.step == 1:
                run.log.write({"kind": "train", "loss": loss, "lr": lr, **where(seg, pos)})
            if pos.step % cfg.eval_every == 0 and pos.step < seg.num_steps:
                evaluate(run, state, seg)
            if stop_after_steps is not None and steps_this_call >= stop_after_steps:
                save_checkpoint(run.ckpt_dir / "latest.pt", state, run.log.num_lines)
                return state
            if pos.step % cfg.checkpoint_every == 0:
                save_checkpoint(run.ckpt_dir / "latest.pt", state, run.log.num_lines)
            faults.hit("train_step", str(pos.global_step))
        finish_segment(run, state, seg, exhausted)
    return state


def start_segment(run: Run, state: TrainState | None, seg: Segment) -> TrainState:
    """Model and optimizer at the first step of ``seg`` (a new state for a new run), its sampler,
    a new packer; the first segment logs the untrained model's validation loss."""
    s, cfg = seg.settings, run.cfg
    init = s.init or ("scratch" if seg.phase_index == 0 else "previous")
    if seg.soup and seg.branch_seed != s.soup_seeds[0]:
        start = soup.load_start(run.ckpt_dir, seg.phase.name)
        state.model.load_state_dict(start["model"])
        state.optimizer = new_optimizer(state.model, cfg)
        state.optimizer.load_state_dict(start["optimizer"])
        state.position.global_step, state.position.tokens = start["global_step"], start["tokens"]
    else:
        if state is None or init == "scratch":
            model = new_model(cfg, run.tokenizer, run.seed)
            position = Position() if state is None else state.position
            state = TrainState(position=position, model=model, optimizer=new_optimizer(model, cfg),
                               packer=Packer(seg.seq_len, seg.packing))
        elif not s.keep_optimizer and s.schedule != "continue":
            state.optimizer = new_optimizer(state.model, cfg)
        if seg.soup:
            soup.save_start(run.ckpt_dir, seg.phase.name, state.model, state.optimizer,
                            state.position.global_step, state.position.tokens)
        if state.position.segment == 0 and run.evaluator.batches:
            run.log.write({"kind": "eval", "val": run.evaluator.evaluate(state.model),
                           **where(seg, state.position)})
    set_rope_theta(state.model, seg.rope_theta)
    state.sampler = phase_sampler(run, seg)
    state.packer = Packer(seg.seq_len, seg.packing)
    return state


def ul2_transform(run: Run, seg: Segment, state: TrainState):
    """The segment's UL2 rewrite of each drawn document (None: plain next-token loss), seeded by
    (run seed, global step, shard, row) so a resumed run draws the same examples."""
    if seg.ul2 is None:
        return None
    tokens = ul2.resolve_tokens(seg.ul2, run.tokenizer.special_tokens, run.tokenizer.eos_id)

    def transform(ref, example):
        rng = ul2.example_rng(run.seed, state.position.global_step, ref.shard, ref.row)
        return ul2.denoise_document(example[0][example[1]], rng, seg.ul2, tokens, seg.seq_len)
    return transform


def phase_sampler(run: Run, seg: Segment):
    """The segment's document stream: the phase's mixture, drawn in the order of the branch seed
    (soup) or the run seed, never a validation document (the holdout of the run seed)."""
    seed = run.seed if seg.branch_seed is None else seg.branch_seed
    return mixers.make_sampler(run.manifest, seg.phase, seed, run.cfg.holdout_frac, holdout_seed=run.seed)


def where(seg: Segment, pos: Position) -> dict[str, Any]:
    return {"phase": seg.phase.name, "branch": seg.branch_seed, "step": pos.step,
            "global_step": pos.global_step, "tokens": pos.tokens}


def evaluate(run: Run, state: TrainState, seg: Segment, branch: Any = None) -> dict[str, dict[str, float]]:
    """Validation loss per grouping and group, logged with the sampler's current mixture, then
    given to ``sampler.observe`` for the phase's grouping."""
    losses = run.evaluator.evaluate(state.model)
    record = {"kind": "eval", "val": losses, "weights": state.sampler.weights(), **where(seg, state.position)}
    if branch is not None:
        record["branch"] = branch
    run.log.write(record)
    if seg.phase.group_by in losses:
        state.sampler.observe(losses[seg.phase.group_by])
    return losses


def finish_segment(run: Run, state: TrainState, seg: Segment, exhausted: bool) -> None:
    """Evaluate, soup the branches after the last one, save the phase's model, checkpoint."""
    pos = state.position
    if exhausted:
        run.log.write({"kind": "note", "message": f"phase {seg.phase.name}: data ran out after "
                       f"{pos.step} of {seg.num_steps} steps", **where(seg, pos)})
    if state.packer.truncated_tokens:
        run.log.write({"kind": "note", "message": f"phase {seg.phase.name}: packing='truncate' cut "
                       f"{state.packer.truncated_tokens} tokens of documents longer than seq_len="
                       f"{seg.seq_len}", "truncated_tokens": state.packer.truncated_tokens, **where(seg, pos)})
    evaluate(run, state, seg)
    if seg.soup:
        soup.save_branch(run.ckpt_dir, seg.phase.name, seg.branch_seed, state.model)
        if seg.last_branch:
            state.model.load_state_dict(soup.average_branches(run.ckpt_dir, seg.phase.name,
                                                              seg.settings.soup_seeds))
            state.optimizer = new_optimizer(state.model, run.cfg)
            evaluate(run, state, seg, branch="soup")
    if seg.last_branch:
        save_model(run, state.model, run.out_dir / "phases" / seg.phase.name)
    pos.next_segment()
    state.sampler = None
    save_checkpoint(run.ckpt_dir / "latest.pt", state, run.log.num_lines)


def finish(run: Run, state: TrainState, times: StepTimes) -> dict[str, Any]:
    from train.plots import plot_eval

    final = run.out_dir / "final"
    save_model(run, state.model, final)
    plot_eval(run.log.path, run.out_dir / "eval.png")
    tokens = state.position.tokens
    return {"stopped": False, "global_step": state.position.global_step, "tokens": tokens,
            "model_dir": str(final), "data_wait_frac": times.data_s / times.step_s if times.step_s else 0.0,
            "tokens_per_s": tokens / times.step_s if times.step_s else 0.0}


def save_model(run: Run, model, path: Path) -> None:
    """``save_pretrained`` weights and config, with the build's tokenizer.json and a
    tokenizer_config.json beside them (an HF folder, :mod:`train.hf_export`)."""
    model.save_pretrained(path)
    tok_path = run.manifest.root / run.tokenizer.path
    if tok_path.is_file():
        shutil.copyfile(tok_path, path / "tokenizer.json")
        write_tokenizer_config(path, run.tokenizer)
