"""Every shipped recipe parses; the phases example declares what the README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.errors import RecipeError
from curate import load_recipe
from curate.steps.registry import STEPS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((REPO / "recipes").glob("*.toml")), ids=lambda p: p.name)
def test_every_recipe_parses(path):
    recipe = load_recipe(path)
    assert recipe.sources and recipe.path == path


def test_phases_example_is_meco_then_anneal():
    recipe = load_recipe(REPO / "recipes" / "phases.toml")
    pretrain, anneal = recipe.section("phases")
    assert (pretrain.name, pretrain.conditioning, pretrain.mixture.strategy) == ("pretrain", True, "temperature")
    assert (anneal.name, anneal.conditioning, anneal.group_by) == ("anneal", False, "skill")
    assert sum(anneal.mixture.weights.values()) == pytest.approx(1.0)


def _parse(phases: list[dict]):
    from curate.recipe import parse_recipe
    from mixers import PHASES_SECTION

    data = {"recipe": {"name": "x"}, "sources": [{"name": "web", "paths": ["*.jsonl"]}],
            "output": {"dir": "out"}, "phases": phases}
    return parse_recipe(data, REPO / "recipes" / "x.toml", sections=[PHASES_SECTION])


def test_phase_errors_name_the_key():
    with pytest.raises(RecipeError, match=r"phases\[0\].mixture: strategy='static' needs weights"):
        _parse([{"name": "a", "num_tokens": 10, "mixture": {"strategy": "static"}}])
    with pytest.raises(RecipeError, match=r"phases\[0\].mixture.strategy: got 'magic'"):
        _parse([{"name": "a", "num_tokens": 10, "mixture": {"strategy": "magic"}}])
    with pytest.raises(RecipeError, match=r"phases\[0\]: missing key 'num_tokens'"):
        _parse([{"name": "a"}])
    with pytest.raises(RecipeError, match="tokens sum to 5, but num_tokens = 10"):
        _parse([{"name": "a", "num_tokens": 10, "mixture": {"strategy": "budget", "tokens": {"web": 5}}}])
    with pytest.raises(RecipeError, match="graph="):
        _parse([{"name": "a", "num_tokens": 10, "mixture": {"strategy": "skill_it", "graph": "nope.json"}}])
    phases = _parse([{"name": "a", "num_tokens": 10}]).section("phases")
    assert phases[0].mixture.strategy == "temperature" and phases[0].mixture.max_epochs == 4.0
