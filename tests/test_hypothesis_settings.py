"""Every hypothesis test runs without the 200 ms deadline and on fixed examples (CI-stable on 2 cores).

Hypothesis's default deadline fails a correct test whose example happens to run slowly on a loaded
CI machine, and its random examples make a failure unreproducible; ``tests/test_minhash.py`` set
``@settings(deadline=None, derandomize=True)``, and this check holds every ``@given`` to it.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _name(node: ast.expr) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _settings_keywords(fn: ast.FunctionDef) -> dict[str, object]:
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call) and _name(dec) == "settings":
            return {k.arg: ast.literal_eval(k.value) for k in dec.keywords
                    if k.arg in ("deadline", "derandomize")}
    return {}


def test_every_given_has_no_deadline_and_fixed_examples():
    given_tests, wrong = 0, []
    for path in sorted(TESTS.glob("test_*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef) or not any(_name(d) == "given" for d in fn.decorator_list):
                continue
            given_tests += 1
            if _settings_keywords(fn) != {"deadline": None, "derandomize": True}:
                wrong.append(f"{path.name}::{fn.name}")
    assert given_tests >= 15
    assert wrong == [], "add @settings(deadline=None, derandomize=True) to: " + ", ".join(wrong)
