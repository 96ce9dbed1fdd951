"""LEGO: the synthetic reasoning task of Skill-It (Zhang et al. 2022), as JSONL sources per skill.

A problem is a chain of ``num_vars`` sign assignments over random letters, ``a=+1 b=-a c=+b ...``,
written with its clauses shuffled and a ``?``: the ``question``; the document ``text`` is the answer,
`` c=-1`` (the ``k``-th variable of the chain and its value). Skill ``k`` (1-based) asks for the
``k``-th variable: resolving it needs the ``k-1`` earlier ones, so skill ``k`` has skills ``1..k-1``
as prerequisites (the skills graph of the Skill-It paper's LEGO experiments).

The question is meant to become the document's conditioning prefix (recipes/skillit.toml maps it
to the ``url`` field and uses ``prefix kind = "url"``, template ``{value}``), so it is masked from
the loss and the validation loss of a skill is the loss of its answers only.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import orjson


def problem(rng: np.random.Generator, num_vars: int, skill: int) -> tuple[str, str]:
    """(question, answer) of one problem of ``skill``."""
    names = rng.choice(list(string.ascii_lowercase), size=num_vars, replace=False)
    signs = rng.choice(["+", "-"], size=num_vars)
    clauses = [f"{names[0]}={signs[0]}1"] + [f"{names[i]}={signs[i]}{names[i - 1]}" for i in range(1, num_vars)]
    values = np.cumprod([1 if s == "+" else -1 for s in signs])
    order = rng.permutation(num_vars)
    value = "+1" if values[skill - 1] > 0 else "-1"
    return " ".join(clauses[i] for i in order) + " ?", f" {names[skill - 1]}={value}"


def lego_documents(skill: int, num_docs: int, num_vars: int = 5, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng([seed, skill])
    docs = []
    for i in range(num_docs):
        question, answer = problem(rng, num_vars, skill)
        docs.append({"id": f"lego{skill}-{i}", "question": question, "text": answer, "skill": f"skill{skill}"})
    return docs


def write_lego(out_dir: Path, num_docs: int = 2000, num_vars: int = 5, seed: int = 0) -> list[Path]:
    """``out_dir/skill<k>.jsonl`` for k = 1..num_vars."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(1, num_vars + 1):
        path = out_dir / f"skill{k}.jsonl"
        docs = lego_documents(k, num_docs, num_vars, seed)
        path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
        paths.append(path)
    return paths
