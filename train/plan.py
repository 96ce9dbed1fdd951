"""The run plan: recipe phases turned into training segments with their steps and LR schedules.

A phase is one segment, or one segment per ``soup_seeds`` entry (branches from the same start,
averaged at the end). ``schedule = "continue"`` phases join the previous phase's *span*: the span's
schedule is defined over the steps of all its phases, so the LR simply carries on (MeCo cooldown).
Steps per phase = ``num_tokens // tokens_per_step`` (at least 1).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from curate.errors import RecipeError
from train.config import check_phases


@dataclasses.dataclass(frozen=True)
class Segment:
    index: int
    phase_index: int
    phase: Any                  # mixers.phases.PhaseSpec
    settings: Any               # train.config.PhaseTrainConfig
    num_steps: int
    span_start: int             # index of the phase that owns the schedule of this phase's span
    span_offset: int            # steps of earlier phases of the same span
    span_steps: int             # total steps of the span
    branch_seed: int | None     # data-order seed of a soup branch; None = the run's seed
    last_branch: bool = True

    @property
    def soup(self) -> bool:
        return self.branch_seed is not None


def plan(phases, cfg) -> list[Segment]:
    if not phases:
        raise RecipeError("train: the recipe has no [[phases]]; add at least one phase with a token budget")
    check_phases(phases, cfg)
    names = [p.name for p in phases]
    steps = [max(1, p.num_tokens // cfg.tokens_per_step) for p in phases]
    span_of = []
    for i, p in enumerate(phases):
        span_of.append(span_of[-1] if cfg.phase(p.name).schedule == "continue" else i)
    segments: list[Segment] = []
    for i, p in enumerate(phases):
        settings = cfg.phase(p.name)
        members = [j for j in range(len(phases)) if span_of[j] == span_of[i]]
        offset = sum(steps[j] for j in members if j < i)
        span_steps = sum(steps[j] for j in members)
        seeds = settings.soup_seeds or (None,)
        for k, seed in enumerate(seeds):
            segments.append(Segment(index=len(segments), phase_index=i, phase=p, settings=settings,
                                    num_steps=steps[i], span_start=span_of[i], span_offset=offset,
                                    span_steps=span_steps, branch_seed=seed,
                                    last_branch=k == len(seeds) - 1))
    return segments


def lr_curves(segments: list[Segment], cfg) -> dict[str, list[float]]:
    """The LR at every step of every phase, as the trainer will use it (soup phases: one branch),
    for ``curate train --plot-lr``."""
    from train.schedules import make_schedule

    curves: dict[str, list[float]] = {}
    last_lr = span_prev_lr = None
    for seg in segments:
        if seg.phase.name in curves:
            continue
        if seg.phase_index == seg.span_start:
            span_prev_lr = last_lr
        owner = next(s for s in segments if s.phase_index == seg.span_start).settings
        sched = make_schedule(owner, seg.span_steps, cfg.lr, span_prev_lr)
        curves[seg.phase.name] = [sched.lr(seg.span_offset + s) for s in range(seg.num_steps)]
        last_lr = curves[seg.phase.name][-1]
    return curves
