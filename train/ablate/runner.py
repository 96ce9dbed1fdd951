"""The resumable ablation loop: per arm, build (or reuse the build), then per seed train and
evaluate on the shared eval sets.

Layout of ``OUT``: ``ablate.json`` (arms, overrides, seeds, eval sets), ``builds/ARM/`` (arms whose
overrides change the build), ``runs/ARM/seedS/`` (a ``curate train`` run: log.jsonl, ckpt/,
final/, and ``eval.json`` when finished). Every seed of every arm trains with ``seed = S``
(model init, data order and holdout) for the same planned tokens, and is scored on the same items
with scoring windows of ``[train].seq_len`` tokens.

Resume: a seed with an ``eval.json`` of the same arm definition and eval sets is skipped; one
with a finished ``final/`` model is only evaluated; one with a checkpoint continues from it (a
resumed run is bit-identical to an uninterrupted one, CPU fp32); anything else trains from
scratch. ``arm.json`` in a seed's dir records the arm's definition hash: a rerun with another
definition of the same arm name is refused rather than mixed with old runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path
from typing import Any, Callable

import orjson

from curate.config import to_table
from curate.errors import RecipeError
from train.ablate.arms import Arm, check_same_training, load_arm, training_key
from train.eval_model import evaluate_model, write_eval_json
from train.evalsets import EvalSet, load_evals, load_set


@dataclasses.dataclass(frozen=True)
class ArmRun:
    """An arm with its parsed recipe, its build's manifest and the seed run dirs."""

    arm: Arm
    recipe: Any
    manifest: Any
    key: str                    # hash of the arm's definition (build fingerprint, training, phases)
    runs: dict[int, Path]


def _sha(obj: Any) -> str:
    return hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def arm_key(recipe) -> str:
    return _sha({"build": recipe.fingerprint(), "train": training_key(recipe),
                 "phases": [to_table(p) for p in recipe.section("phases")],
                 "train_phases": to_table(recipe.section("train"))["phases"] if recipe.section("train") else {}})


def evals_key(sets: list[EvalSet]) -> str:
    return _sha([[s.spec.name, s.spec.kind, s.spec.target_delimiter, s.items_sha256] for s in sets])


def build_arm(recipe):
    from curate.build import build

    return build(recipe, workers=1)


def run_ablation(arms: list[Arm], evals_path: Path, out: Path, seeds: list[int],
                 global_overrides: tuple[str, ...] = (), say: Callable[[str], None] = print) -> list[ArmRun]:
    """Build, train and evaluate every (arm, seed) not finished yet; returns the arms' runs."""
    out = Path(out)
    recipes = [load_arm(a, global_overrides, out) for a in arms]
    check_same_training(arms, recipes)
    sets = [load_set(spec) for spec in load_evals(evals_path)]
    ekey = evals_key(sets)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablate.json").write_bytes(orjson.dumps({
        "arms": [{"name": a.name, "recipe": str(a.recipe), "overrides": list(a.overrides)} for a in arms],
        "global_overrides": list(global_overrides), "seeds": seeds, "evals": str(evals_path),
        "eval_sets": {s.spec.name: {"kind": s.spec.kind, "items": len(s.items), "items_sha256": s.items_sha256}
                      for s in sets}}, option=orjson.OPT_INDENT_2))
    done = []
    for arm, recipe in zip(arms, recipes):
        say(f"{arm.name}: build {recipe.output.dir}")
        manifest = build_arm(recipe)
        key = arm_key(recipe)
        runs = {seed: out / "runs" / arm.name / f"seed{seed}" for seed in seeds}
        for seed, run_dir in runs.items():
            run_seed(arm, recipe, manifest, key, seed, run_dir, sets, ekey, say)
        done.append(ArmRun(arm, recipe, manifest, key, runs))
    return done


def run_seed(arm: Arm, recipe, manifest, key: str, seed: int, run_dir: Path, sets: list[EvalSet],
             ekey: str, say: Callable[[str], None]) -> None:
    from train.config import TrainConfig
    from train.loop import train

    cfg = recipe.section("train") or TrainConfig()
    eval_path = run_dir / "eval.json"
    marker = run_dir / "arm.json"
    if marker.is_file() and orjson.loads(marker.read_bytes())["key"] != key:
        raise RecipeError(f"{run_dir} holds a run of another definition of arm {arm.name!r}; delete "
                          f"{run_dir.parent} or choose another --out")
    if eval_path.is_file() and orjson.loads(eval_path.read_bytes()).get("evals_key") == ekey:
        say(f"{arm.name} seed {seed}: finished, reused")
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    marker.write_bytes(orjson.dumps({"key": key, "arm": arm.name, "seed": seed}))
    if not (run_dir / "final" / "config.json").is_file():
        resume = (run_dir / "ckpt" / "latest.pt").is_file()
        if not resume and (run_dir / "final").exists():
            shutil.rmtree(run_dir / "final")
        say(f"{arm.name} seed {seed}: {'resume' if resume else 'train'} in {run_dir}")
        train(manifest, recipe.section("phases"), cfg, seed, run_dir, resume=resume)
    result = evaluate_model(run_dir / "final", sets, max_len=cfg.seq_len)
    result.update({"arm": arm.name, "seed": seed, "evals_key": ekey, "model_dir": "final"})
    write_eval_json(result, eval_path)
    say(f"{arm.name} seed {seed}: evaluated -> {eval_path}")
