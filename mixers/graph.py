"""Skills-graph files: what the Skill-It strategies read (and what graph estimators write).

JSON (preferred; names travel with the numbers)::

    {"skills": ["code", "math", "web"],            # square: training = evaluation skills
     "matrix": [[1, 0.5, 0], [0, 1, 0], [0, 0.2, 1]]}

or ``"train_skills"`` (rows) + ``"eval_skills"`` (columns) for a k x m graph, or ``"edges":
[["code", "math", 0.5], ...]`` instead of ``"matrix"`` (missing entries 0, diagonal 1).
A[i, j] is how much training on skill i lowers the loss of skill j (negative values are set to 0,
as the paper does). A ``.npy`` file holds a square matrix over the groups in sorted name order
(the Skill-It repository ships its graphs as ``.npy``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson

from curate.errors import RecipeError


@dataclasses.dataclass(frozen=True)
class SkillsGraph:
    train_skills: tuple[str, ...]
    eval_skills: tuple[str, ...]
    matrix: np.ndarray  # (len(train_skills), len(eval_skills)), float64, >= 0


def load_graph(path: Path, groups: Sequence[str]) -> SkillsGraph:
    """Read a graph file; ``groups`` (sorted) names the rows/columns of a ``.npy`` matrix."""
    if path.suffix == ".npy":
        matrix = np.load(path, allow_pickle=False)
        names = tuple(sorted(groups))
        graph = SkillsGraph(names, names, np.asarray(matrix, dtype=np.float64))
    else:
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise RecipeError(f"graph {path}: invalid JSON: {exc}") from None
        graph = _from_json(data, path)
    k, m = len(graph.train_skills), len(graph.eval_skills)
    if graph.matrix.shape != (k, m):
        raise RecipeError(f"graph {path}: matrix has shape {graph.matrix.shape}, expected ({k}, {m})")
    if not np.isfinite(graph.matrix).all():
        raise RecipeError(f"graph {path}: matrix has non-finite entries")
    missing = [s for s in graph.train_skills if s not in groups]
    if missing:
        raise RecipeError(f"graph {path}: skill {missing[0]!r} is not a group of the data; groups: "
                          f"{', '.join(groups)}")
    return dataclasses.replace(graph, matrix=np.maximum(graph.matrix, 0.0))


def _from_json(data: dict, path: Path) -> SkillsGraph:
    if "skills" in data:
        train = evals = tuple(data["skills"])
    elif "train_skills" in data and "eval_skills" in data:
        train, evals = tuple(data["train_skills"]), tuple(data["eval_skills"])
    else:
        raise RecipeError(f"graph {path}: needs 'skills' (or 'train_skills' and 'eval_skills')")
    if "matrix" in data:
        return SkillsGraph(train, evals, np.asarray(data["matrix"], dtype=np.float64))
    if "edges" not in data:
        raise RecipeError(f"graph {path}: needs 'matrix' or 'edges'")
    matrix = np.zeros((len(train), len(evals)))
    for s in set(train) & set(evals):
        matrix[train.index(s), evals.index(s)] = 1.0
    for edge in data["edges"]:
        src, dst, weight = edge
        if src not in train or dst not in evals:
            raise RecipeError(f"graph {path}: edge {edge!r} names an unknown skill")
        matrix[train.index(src), evals.index(dst)] = float(weight)
    return SkillsGraph(train, evals, matrix)
