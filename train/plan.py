"""The run plan: recipe phases turned into training segments, each with its steps and LR schedule,
and the :class:`Position` of a run in that plan.

A phase is one segment, or one segment per ``soup_seeds`` entry (branches from the same start,
averaged at the end). ``schedule = "continue"`` phases join the previous phase's *span*: the span's
schedule is defined over the steps of all its phases, so the LR simply carries on (MeCo cooldown).
A span's schedule is built from its first phase's settings; ``linear_decay`` and ``rewarm`` start
from the LR planned for the last step of the phase before the span. Steps per phase =
``num_tokens // tokens_per_step`` (at least 1), with the phase's own ``seq_len``.

Long context (Xiong et al., METHODS.md 9): a phase's ``seq_len`` and ``rope_theta`` hold from that
phase on until a later phase sets them again (4k then 32k; ABF 10,000 -> 500,000 at the boundary).

The LR of every update is ``Position.lr(segments)`` = ``segments[p.segment].lr(p.step)``: the loop
reads it there, and :func:`lr_curves` (``curate train --plot-lr``) walks the same positions, so the
plotted curve is the one trained with. The plan is fixed before the first step: a phase whose data
runs out early does not move the schedule of the phases after it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from curate.errors import RecipeError
from train.schedules import Schedule, make_schedule
from train.config import check_phases


@dataclasses.dataclass(frozen=True)
class Segment:
    index: int
    phase_index: int
    phase: Any                  # mixers.PhaseSpec
    settings: Any               # train.config.PhaseTrainConfig
    num_steps: int
    span_start: int             # index of the phase that owns the schedule of this phase's span
    span_offset: int            # steps of earlier phases of the same span
    schedule: Schedule          # the span's schedule, over the steps of all its phases
    branch_seed: int | None     # data-order seed of a soup branch; None = the run's seed
    last_branch: bool = True
    seq_len: int = 256          # tokens per packed row in this phase
    rope_theta: float = 10000.0 # RoPE base frequency in this phase
    packing: str = "split"      # train.packing: split | whole | truncate
    ul2: Any = None             # train.ul2.UL2Config, or None: plain next-token loss
    tokens_per_step: int = 0    # seq_len x batch_rows x grad_accum

    @property
    def soup(self) -> bool:
        return self.branch_seed is not None

    def lr(self, step: int) -> float:
        """The LR of this segment's ``step``-th update (0-based)."""
        return self.schedule.lr(self.span_offset + step)


@dataclasses.dataclass
class Position:
    """Where a run stands: the segment, the updates done in it, and the run's totals. Checkpointed
    as is; the LR of the next update is :meth:`lr`."""

    segment: int = 0
    step: int = 0               # updates done in the current segment
    global_step: int = 0
    tokens: int = 0

    def lr(self, segments: list[Segment]) -> float:
        return segments[self.segment].lr(self.step)

    def advance(self, tokens: int) -> None:
        """One update of ``tokens`` packed tokens done."""
        self.step += 1
        self.global_step += 1
        self.tokens += tokens

    def next_segment(self) -> None:
        self.segment += 1
        self.step = 0


def plan(phases, cfg) -> list[Segment]:
    if not phases:
        raise RecipeError("train: the recipe has no [[phases]]; add at least one phase with a token budget")
    check_phases(phases, cfg)
    seq_lens, thetas = _carried(phases, cfg, "seq_len"), _carried(phases, cfg, "rope_theta")
    per_step = [n * cfg.batch_rows * cfg.grad_accum for n in seq_lens]
    steps = [max(1, p.num_tokens // per_step[i]) for i, p in enumerate(phases)]
    span_of = _spans(phases, cfg)
    schedules: dict[int, Schedule] = {}
    last_lr: float | None = None
    segments: list[Segment] = []
    for i, p in enumerate(phases):
        settings = cfg.phase(p.name)
        offset = sum(steps[j] for j in range(i) if span_of[j] == span_of[i])
        if span_of[i] == i:
            span_steps = sum(steps[j] for j in range(len(phases)) if span_of[j] == i)
            schedules[i] = make_schedule(settings, span_steps, cfg.lr, last_lr)
        schedule = schedules[span_of[i]]
        last_lr = schedule.lr(offset + steps[i] - 1)
        seeds = settings.soup_seeds or (None,)
        for k, seed in enumerate(seeds):
            segments.append(Segment(index=len(segments), phase_index=i, phase=p, settings=settings,
                                    num_steps=steps[i], span_start=span_of[i], span_offset=offset,
                                    schedule=schedule, branch_seed=seed, last_branch=k == len(seeds) - 1,
                                    seq_len=seq_lens[i], rope_theta=thetas[i],
                                    packing=settings.packing or cfg.packing,
                                    ul2=None if settings.no_ul2 else (settings.ul2 or cfg.ul2),
                                    tokens_per_step=per_step[i]))
    return segments


def _carried(phases, cfg, name: str) -> list:
    """Per phase, its ``[train.phases.X]`` value of ``name``, else the previous phase's (the first
    phase: ``[train]``'s)."""
    out, value = [], getattr(cfg, name)
    for p in phases:
        own = getattr(cfg.phase(p.name), name)
        value = value if own is None else own
        out.append(value)
    return out


def _spans(phases, cfg) -> list[int]:
    """For every phase, the index of the phase whose schedule it follows (checked by
    ``train.config.check_phases``)."""
    span_of: list[int] = []
    for i, p in enumerate(phases):
        span_of.append(span_of[-1] if cfg.phase(p.name).schedule == "continue" else i)
    return span_of


def lr_curves(segments: list[Segment]) -> dict[str, list[float]]:
    """The LR of every update of every phase, read at the positions the loop trains at (soup
    phases: one branch; every branch has the same curve)."""
    curves: dict[str, list[float]] = {}
    for seg in segments:
        if seg.phase.name not in curves:
            curves[seg.phase.name] = [Position(segment=seg.index, step=s).lr(segments)
                                      for s in range(seg.num_steps)]
    return curves
