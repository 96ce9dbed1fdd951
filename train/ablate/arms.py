"""The arms of an ablation: recipe files, or variants of the first one given as overrides.

An arm is ``(name, recipe path, overrides)``. A recipe file's arm is named by its ``[recipe].name``
(its file stem when two recipes share a name); ``--arm NAME:KEY=VALUE,KEY=VALUE`` is the first
recipe with those ``--set`` overrides (a comma starts a new override only where ``KEY=`` follows,
so list values keep theirs). Global ``--set`` overrides apply to every arm, before its own.

Builds: an arm whose overrides leave the build fingerprint unchanged reuses the recipe's own
``output.dir`` (a finished ``curate build`` there is reused as it is); any other arm builds into
``OUT/builds/NAME``. Every arm must train the same model config on the same number of tokens
(:func:`check_same_training`).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from curate.errors import RecipeError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: [train] keys that may differ between arms: where runs go, and the seed (set by ablate)
FREE_TRAIN_KEYS = ("out_dir", "seed", "phases", "num_threads")


@dataclasses.dataclass(frozen=True)
class Arm:
    name: str
    recipe: Path
    overrides: tuple[str, ...] = ()     # the arm's own overrides (named in the report)


def split_overrides(text: str) -> list[str]:
    """``a.b=1,c=[1, 2],d.e=x`` -> ``["a.b=1", "c=[1, 2]", "d.e=x"]``."""
    return [part.strip() for part in re.split(r",(?=\s*[A-Za-z0-9_.-]+=)", text) if part.strip()]


def parse_arm(text: str, base: Path) -> Arm:
    name, sep, rest = text.partition(":")
    if not sep or not NAME_RE.match(name) or not rest.strip():
        raise RecipeError(f"--arm {text!r}: expected NAME:KEY=VALUE[,KEY=VALUE...], e.g. "
                          "--arm dedup08:steps.minhash_dedup.threshold=0.8")
    return Arm(name, base, tuple(split_overrides(rest)))


def make_arms(recipes: list[Path], arm_texts: list[str]) -> list[Arm]:
    """Arms of the recipe files (in order), then the ``--arm`` variants of the first file."""
    from curate.commands.sections import load_full_recipe

    if not recipes:
        raise RecipeError("curate ablate: give at least one recipe (the base of --arm variants)")
    names = [load_full_recipe(p).name for p in recipes]
    arms = []
    for path, name in zip(recipes, names):
        if names.count(name) > 1:
            name = Path(path).stem
        arms.append(Arm(name if NAME_RE.match(name) else Path(path).stem, Path(path)))
    arms += [parse_arm(t, Path(recipes[0])) for t in arm_texts]
    seen = [a.name for a in arms]
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    if repeated:
        raise RecipeError(f"curate ablate: arm name {repeated[0]!r} is used twice; rename a recipe or an --arm")
    if len(arms) < 2:
        raise RecipeError("curate ablate: one arm only; give two recipes, or one and an --arm NAME:KEY=VALUE")
    return arms


def load_arm(arm: Arm, global_overrides: tuple[str, ...], out: Path):
    """The arm's recipe, parsed with every override, its output dir placed as the module says."""
    from curate.commands.sections import load_full_recipe

    overrides = tuple(global_overrides) + arm.overrides
    recipe = load_full_recipe(arm.recipe, overrides)
    if overrides and recipe.fingerprint() != load_full_recipe(arm.recipe).fingerprint():
        build_dir = (Path(out) / "builds" / arm.name).resolve()
        recipe = load_full_recipe(arm.recipe, overrides + (f"output.dir={build_dir}",))
    if not recipe.section("phases"):
        raise RecipeError(f"{arm.recipe}: arm {arm.name!r} has no [[phases]]; add at least one phase with num_tokens")
    return recipe


def training_key(recipe) -> dict:
    """What must be equal across arms: the model and batch settings, and the total tokens."""
    from curate.config import to_table
    from train.config import TrainConfig

    cfg = to_table(recipe.section("train") or TrainConfig())
    key = {k: v for k, v in cfg.items() if k not in FREE_TRAIN_KEYS}
    key["total num_tokens"] = sum(p.num_tokens for p in recipe.section("phases"))
    return key


def check_same_training(arms: list[Arm], recipes: list) -> None:
    """Fail naming the first key on which an arm's training differs from the first arm's."""
    first = training_key(recipes[0])
    for arm, recipe in zip(arms[1:], recipes[1:]):
        key = training_key(recipe)
        for k in sorted(set(first) | set(key)):
            if first.get(k) != key.get(k):
                raise RecipeError(f"arm {arm.name!r}: train {k} = {key.get(k)!r} but arm {arms[0].name!r} "
                                  f"has {first.get(k)!r}; every arm trains the same model on the same "
                                  "number of tokens (set it equal, e.g. with --set)")
