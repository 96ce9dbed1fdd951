"""``[[phases]]``: a training run's data schedule, declared in the recipe.

Each phase has a token budget, a mixture over groups (sources or skills) and flags the trainer
reads (``conditioning``: MeCo metadata conditioning on in pretraining, off in the cooldown).

```toml
[[phases]]
name = "pretrain"
num_tokens = 90_000_000
conditioning = true              # prefix_tokens / control tokens included, masked from the loss
group_by = "source"              # or "skill" (a skill_* step), "length_bucket" (length_bucket step),
                                 # "style" (rephrase / knowledge_augment: original vs each style)
[phases.mixture]
strategy = "temperature"         # static | temperature | budget | skill_it | skill_ordered
temperature = 2.0
max_epochs = 4.0                 # repetition cap per group
max_source_frac = 1.0            # no group may exceed this share of the phase
```

The optimisation of a phase (LR schedule kind, warmup, init) lives in ``[train.phases.<name>]``.
Defaults: ``max_epochs`` 4 (repeating data up to ~4 epochs costs little, Muennighoff et al. 2023
[MEM]; OLMo 2's 300B anneal repeats math 4x, METHODS.md s.4); Skill-It ``eta`` 0.5 and ``window`` 3
(LEGO continual-pretraining settings, METHODS.md s.2).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from curate.config import check_range, param
from curate.recipe import Section

STRATEGIES = ("static", "temperature", "budget", "skill_it", "skill_ordered")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MixtureSpec:
    strategy: Literal["static", "temperature", "budget", "skill_it", "skill_ordered"] = param(
        "temperature", doc="how the group weights are set (see README 'Mixing and phases')")
    weights: dict[str, float] = param(
        default_factory=dict,
        doc="group -> weight (normalised to sum 1); static: required; temperature/budget/skill_*: optional "
            "prior (multiplies); groups not named get 0 when given")
    tokens: dict[str, int] = param(
        default_factory=dict, doc="budget: group -> absolute token budget (they must sum to num_tokens)")
    fractions: dict[str, float] = param(
        default_factory=dict, doc="group -> share of that group's tokens drawn in this phase (DMT's k = "
        "1/256 of the specialised data); the other groups fill the rest of num_tokens by the strategy")
    temperature: float = param(1.0, doc="temperature: weight ∝ tokens^(1/temperature); 1 = natural")
    max_epochs: float = param(4.0, doc="cap: tokens drawn from a group <= max_epochs x its tokens")
    max_source_frac: float = param(1.0, doc="cap: no group may exceed this fraction of the phase")
    eta: float = param(0.5, doc="skill_it: learning rate of the exponentiated-gradient update")
    window: int = param(3, doc="skill_it: the update sums the last `window` rounds of losses")
    window_reduce: Literal["sum", "mean"] = param(
        "sum", doc="skill_it: sum the window's losses (pretraining) or average them (fine-tuning variant)")
    normalize_loss: bool = param(False, doc="skill_it: divide losses by the first round's (L / L_0)")
    graph: Path | None = param(None, doc="skill_it/skill_ordered: skills graph (.json or .npy)")
    edge_threshold: float = param(0.0, doc="skill_ordered: A[i,j] > this is an edge i -> j (i first)")

    def __post_init__(self) -> None:
        check_range("temperature", self.temperature, 1e-3, 1e6)
        check_range("max_epochs", self.max_epochs, 1e-9)
        check_range("max_source_frac", self.max_source_frac, 1e-9, 1.0)
        check_range("eta", self.eta, 0.0, 100.0)
        check_range("window", self.window, 1, 10_000)
        for name, w in self.weights.items():
            check_range(f"weights.{name}", w, 0.0)
        for name, n in self.tokens.items():
            check_range(f"tokens.{name}", n, 0)
        for name, f in self.fractions.items():
            check_range(f"fractions.{name}", f, 1e-9, self.max_epochs)
        if self.fractions and self.strategy not in ("static", "temperature", "budget"):
            raise ValueError(f"fractions works with static, temperature or budget, not {self.strategy!r}")
        if self.fractions and self.tokens:
            raise ValueError("fractions and tokens both fix group budgets; give one of them")
        if self.weights and sum(self.weights.values()) <= 0:
            raise ValueError("weights: all zero; give at least one positive weight")
        if self.tokens and self.strategy != "budget":
            raise ValueError(f"tokens is only used with strategy='budget', not {self.strategy!r}")
        if self.strategy == "static" and not self.weights:
            raise ValueError("strategy='static' needs weights = {group = weight, ...}")
        if self.strategy in ("skill_it", "skill_ordered") and self.graph is None:
            raise ValueError(f"strategy={self.strategy!r} needs graph = 'path/to/graph.json' (or .npy)")
        if self.graph is not None and not self.graph.is_file():
            raise ValueError(f"graph={str(self.graph)!r}: file not found")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PhaseSpec:
    name: str = param(doc="phase name (the trainer's [train.phases.<name>] refers to it)")
    num_tokens: int = param(doc="token budget of the phase")
    conditioning: bool = param(
        False, doc="include prefix/control tokens (masked from the loss): MeCo stage 1 true, cooldown false")
    group_by: Literal["source", "skill", "length_bucket", "style"] = param(
        "source", doc="mixing groups: the source, skill, length_bucket (length_bucket step) or style "
                      "(rephrase / knowledge_augment: original, easy, ...) column")
    mixture: MixtureSpec = param(default_factory=MixtureSpec, doc="the mixture ([phases.mixture])")
    description: str = param("", doc="free text")

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ValueError(f"name={self.name!r} is not allowed; use a non-empty name without '/'")
        check_range("num_tokens", self.num_tokens, 1)
        if self.mixture.tokens and sum(self.mixture.tokens.values()) != self.num_tokens:
            raise ValueError(f"mixture.tokens sum to {sum(self.mixture.tokens.values())}, "
                             f"but num_tokens = {self.num_tokens}; they must be equal")


#: The ``[[phases]]`` recipe section (``load_recipe(path, sections=[PHASES_SECTION, ...])``).
PHASES_SECTION = Section("phases", PhaseSpec, array=True)
