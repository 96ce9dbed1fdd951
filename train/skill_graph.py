"""Skills-graph estimation for Skill-It with short proxy runs (METHODS 2, graph estimation).

For every training skill ``i``: start from the same freshly initialised model ``f``, train on skill
``i`` alone for ``steps`` optimizer steps at constant LR, and set

    A[i, j] = max(0, L_j(f) - L_j(f_i))          (loss decrease on validation skill j)

- brute force: ``steps = H`` (long enough to see prerequisite transfer; cost O(H k));
- linear approximation: ``steps = h << H`` (cost O(h k)), the first-order estimate.

Both are the same procedure with a different step count; negative entries are clipped to 0 as in
the paper. A nearly empty or nearly complete graph gives Skill-It no advantage (Skill-It README).
The graph is written as JSON ``{"skills": [...], "matrix": [[...]], ...}`` or as ``.npy``
(rows = training skills, columns = evaluation skills, the layout of the Skill-It repo's graphs).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import orjson

from train.config import PhaseTrainConfig


@dataclasses.dataclass(frozen=True)
class SkillGraph:
    skills: list[str]
    matrix: np.ndarray            # (k, k): row = trained skill, column = evaluated skill
    base_losses: dict[str, float]
    steps: int

    def table(self) -> str:
        w = max(len(s) for s in self.skills) + 2
        lines = ["train \\ eval".ljust(w + 4) + "".join(s.rjust(w) for s in self.skills)]
        for s, row in zip(self.skills, self.matrix):
            lines.append(s.ljust(w + 4) + "".join(f"{v:{w}.3f}" for v in row))
        return "\n".join(lines)


def mixers_phase(name: str, num_tokens: int, group_by: str, weights: dict[str, float],
                 conditioning: bool = False):
    """A [[phases]] entry with a static mixture, built through the recipe parser (mixers API)."""
    from curate.config import from_table
    from mixers.phases import PhaseSpec

    mixture = {"strategy": "static", "weights": weights} if weights else {"strategy": "temperature"}
    return from_table(PhaseSpec, {"name": name, "num_tokens": num_tokens, "group_by": group_by,
                                  "conditioning": conditioning, "mixture": mixture}, "phases[0]")


def estimate(manifest, phase, cfg, seed: int, steps: int) -> SkillGraph:
    """Estimate A over the groups (``phase.group_by``) of ``phase``'s build with proxy runs
    (conditioned like ``phase``; validation as configured in ``cfg``)."""
    from train.loop import open_run, run_segments
    from train.state import new_model
    from train.step import StepTimes

    group_by, cond = phase.group_by, phase.conditioning
    proxy_cfg = dataclasses.replace(
        cfg, eval_every=10**9, checkpoint_every=10**9, log_every=10**9,
        phases={"proxy": PhaseTrainConfig(schedule="constant", warmup_frac=0.0)})
    num_tokens = steps * cfg.tokens_per_step
    with tempfile.TemporaryDirectory() as tmp:
        base = open_run(manifest, (mixers_phase("proxy", num_tokens, group_by, {}, cond),), proxy_cfg, seed,
                        Path(tmp) / "base")
        base_losses = base.evaluator.evaluate(new_model(proxy_cfg, manifest.tokenizer, seed))[group_by]
        skills = sorted(base_losses)
        rows = []
        for skill in skills:
            proxy = mixers_phase("proxy", num_tokens, group_by, {skill: 1.0}, cond)
            run = open_run(manifest, (proxy,), proxy_cfg, seed, Path(tmp) / skill)
            run.ckpt_dir.mkdir(parents=True)
            run.log.start()
            state = run_segments(run, None, None, StepTimes())
            after = run.evaluator.evaluate(state.model)[group_by]
            rows.append([max(0.0, base_losses[j] - after[j]) for j in skills])
    return SkillGraph(skills=skills, matrix=np.array(rows), base_losses=base_losses, steps=steps)


def save_graph(graph: SkillGraph, path: Path) -> None:
    path = Path(path)
    if path.suffix == ".npy":
        np.save(path, graph.matrix)
        return
    path.write_bytes(orjson.dumps({"skills": graph.skills, "matrix": graph.matrix.tolist(),
                                   "base_losses": graph.base_losses, "steps": graph.steps},
                                  option=orjson.OPT_INDENT_2))
