"""Learning-rate schedules as pure functions of the 0-based optimizer step ``s`` of a phase.

With ``T`` steps, ``W = round(warmup_frac*T)`` warmup steps, ``peak`` and ``floor = min_lr_ratio*peak``:

- ``cosine``: ``peak*(s+1)/W`` for ``s < W``, then ``floor + (peak-floor)/2*(1+cos(pi*p))`` with
  ``p = (s-W)/(T-W)`` (MeCo: warmup 5%, floor 0.1).
- ``wsd`` (MiniCPM): warmup, ``peak`` until ``T-D`` (``D = round(decay_frac*T)``), then linear from
  ``peak`` to ``floor`` over the last ``D`` steps (about 10% is enough, METHODS 5c).
- ``linear_decay`` (OLMo 2 anneal): ``start*(1-s/T)``, linear to zero, where ``start`` is the LR the
  previous phase ended at (or ``peak_lr`` when set).
- ``rewarm`` (continual pretraining, Gupta et al.): linear from the previous phase's final LR up to
  ``peak`` over ``W`` steps, then the cosine decay to ``floor``.
- ``infinite`` (Ibrahim et al. 2024, METHODS 5b): warmup to ``peak``; cosine from ``peak`` to
  ``const = const_lr_ratio*peak`` until ``Tcd = W + round(cooldown_frac*T)``; constant until
  ``Tann = T - D``; then ``const*(amin/const)^((s-Tann)/(T-Tann))`` with ``amin =
  anneal_min_lr_ratio*const`` (exponential anneal, only when a checkpoint is needed: ``decay_frac=0``
  keeps it constant, so data can be appended without re-warming).
- ``constant``: warmup, then ``peak``.

The LR at step ``s`` is the one the ``s``-th update uses; no schedule reaches exactly 0 at an update.
"""

from __future__ import annotations

import dataclasses
import math


def warmup(s: int, warmup_steps: int, start: float, peak: float) -> float:
    """Linear from ``start`` (before step 0) to ``peak`` (at step ``warmup_steps-1``)."""
    return start + (peak - start) * (s + 1) / warmup_steps


def cosine_decay(p: float, peak: float, floor: float) -> float:
    """Half-cosine from ``peak`` (p=0) to ``floor`` (p=1)."""
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * p))


def cosine(s: int, T: int, peak: float, warmup_steps: int, floor: float, start: float = 0.0) -> float:
    if s < warmup_steps:
        return warmup(s, warmup_steps, start, peak)
    return cosine_decay((s - warmup_steps) / max(1, T - warmup_steps), peak, floor)


def wsd(s: int, T: int, peak: float, warmup_steps: int, decay_steps: int, floor: float) -> float:
    if s < warmup_steps:
        return warmup(s, warmup_steps, 0.0, peak)
    decay_start = T - decay_steps
    if s < decay_start:
        return peak
    return peak + (floor - peak) * (s - decay_start) / decay_steps


def linear_decay(s: int, T: int, start: float) -> float:
    return start * (1.0 - s / T)


def infinite(s: int, T: int, peak: float, warmup_steps: int, cooldown_steps: int, decay_steps: int,
             const: float, anneal_min: float) -> float:
    if s < warmup_steps:
        return warmup(s, warmup_steps, 0.0, peak)
    cooldown_end = warmup_steps + cooldown_steps
    if s < cooldown_end:
        return cosine_decay((s - warmup_steps) / cooldown_steps, peak, const)
    anneal_start = T - decay_steps
    if s < anneal_start:
        return const
    return const * (anneal_min / const) ** ((s - anneal_start) / decay_steps)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Schedule:
    """One phase's schedule with every fraction turned into steps; ``lr(s)`` is pure."""

    kind: str
    total_steps: int
    peak_lr: float
    start_lr: float = 0.0          # rewarm: the LR to re-warm from; linear_decay: the LR to decay from
    warmup_steps: int = 0
    decay_steps: int = 0
    cooldown_steps: int = 0
    min_lr_ratio: float = 0.1
    const_lr_ratio: float = 0.25
    anneal_min_lr_ratio: float = 0.001

    def lr(self, s: int) -> float:
        T, peak, floor = self.total_steps, self.peak_lr, self.min_lr_ratio * self.peak_lr
        if self.kind == "cosine":
            return cosine(s, T, peak, self.warmup_steps, floor)
        if self.kind == "rewarm":
            return cosine(s, T, peak, self.warmup_steps, floor, start=self.start_lr)
        if self.kind == "wsd":
            return wsd(s, T, peak, self.warmup_steps, self.decay_steps, floor)
        if self.kind == "linear_decay":
            return linear_decay(s, T, self.start_lr)
        if self.kind == "constant":
            return warmup(s, self.warmup_steps, 0.0, peak) if s < self.warmup_steps else peak
        if self.kind == "infinite":
            const = self.const_lr_ratio * peak
            return infinite(s, T, peak, self.warmup_steps, self.cooldown_steps, self.decay_steps,
                            const, self.anneal_min_lr_ratio * const)
        raise ValueError(f"schedule={self.kind!r} is not a schedule kind")

    def lrs(self) -> list[float]:
        return [self.lr(s) for s in range(self.total_steps)]


def make_schedule(phase, total_steps: int, default_lr: float, previous_lr: float | None) -> Schedule:
    """Turn a :class:`~train.config.PhaseTrainConfig` into a :class:`Schedule` of ``total_steps``.
    ``previous_lr`` is the LR the previous phase ended at (None for the first phase)."""
    kind = phase.schedule
    if kind == "continue":
        raise ValueError("schedule='continue' extends the previous phase's schedule; it has none itself")
    T = max(1, total_steps)
    peak = phase.peak_lr if phase.peak_lr is not None else default_lr
    prev = previous_lr if previous_lr is not None else peak
    start = {"linear_decay": phase.peak_lr if phase.peak_lr is not None else prev,
             "rewarm": prev}.get(kind, 0.0)
    warmup_steps = min(T, round(phase.warmup_frac * T)) if kind != "linear_decay" else 0
    decay_steps = round(phase.decay_frac * T) if kind in ("wsd", "infinite") else 0
    cooldown_steps = round(phase.cooldown_frac * T) if kind == "infinite" else 0
    if kind == "wsd":
        decay_steps = max(1, min(decay_steps, T - warmup_steps))
    if kind == "infinite":
        cooldown_steps = max(1, min(cooldown_steps, T - warmup_steps - decay_steps))
    return Schedule(kind=kind, total_steps=T, peak_lr=peak, start_lr=start, warmup_steps=warmup_steps,
                    decay_steps=decay_steps, cooldown_steps=cooldown_steps,
                    min_lr_ratio=phase.min_lr_ratio, const_lr_ratio=phase.const_lr_ratio,
                    anneal_min_lr_ratio=phase.anneal_min_lr_ratio)
