"""Every shipped recipes/ablate/<experiment>/ recipe parses (with its [train] and [[phases]]), every
arm of an experiment trains the same model on the same tokens per step and phase budget, and one
arm per experiment builds end to end at tiny size through ``--set`` on the shipped file (sources
pointed at tests/data or a tiny `curate lego`, at most a 300-token vocabulary), as tests/test_shipped_recipes.py does. The eval
files come from benchmarks/ablate_data.py (not run here); their evals.toml must parse."""

from __future__ import annotations

import tomllib

import pytest

from curate.cli import main
from curate.commands.sections import load_full_recipe
from curate.manifest import Manifest
from tests.conftest import REPO
from train.evalsets import load_evals

ABLATE = REPO / "recipes" / "ablate"
WEB = REPO / "tests" / "data" / "web_sample.jsonl.zst"
REFERENCE = REPO / "tests" / "data" / "reference_sample.jsonl.zst"
EXPERIMENTS = sorted(p.name for p in ABLATE.iterdir() if p.is_dir())
TINY = ["steps.train_tokenizer.vocab_size=300", "steps.train_tokenizer.sample_docs=200"]


def arms(experiment: str):
    return sorted(p for p in (ABLATE / experiment).glob("*.toml") if p.name != "evals.toml")


def test_five_experiments_of_two_arms_with_fixed_evals():
    assert EXPERIMENTS == ["anneal", "dedup", "meco", "quality", "skillit"]
    for experiment in EXPERIMENTS:
        assert len(arms(experiment)) == 2, experiment
        evals = tomllib.loads((ABLATE / experiment / "evals.toml").read_text())["eval"]
        assert evals and all(e["paths"] for e in evals), experiment
        assert [s.name for s in load_evals(ABLATE / experiment / "evals.toml")] == [e["name"] for e in evals]


def test_meco_conditional_sets_score_the_same_pages_after_true_wrong_and_no_prefix():
    sets = {s.name: s for s in load_evals(ABLATE / "meco" / "evals.toml")}
    conditional = [sets["url_true"], sets["url_wrong"], sets["url_none"]]
    assert len({s.paths for s in conditional}) == 1
    assert [s.prefix_field for s in conditional] == ["true_prefix", "wrong_prefix", None]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_arms_parse_and_train_the_same_model_on_equal_tokens(experiment):
    shapes = set()
    for path in arms(experiment):
        recipe = load_full_recipe(path, ())
        cfg, phases = recipe.section("train"), recipe.section("phases")
        shapes.add((cfg.hidden_size, cfg.num_layers, cfg.seq_len, cfg.tokens_per_step,
                    tuple(p.num_tokens for p in phases)))
    assert len(shapes) == 1, shapes


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_arms_sharing_an_output_dir_share_the_build(experiment):
    """`curate ablate` reuses one build for arms with the same output.dir only if their build
    fingerprints are equal (else the second arm's build is refused)."""
    recipes = [load_full_recipe(path, ()) for path in arms(experiment)]
    if len({r.output.dir for r in recipes}) == 1:
        assert len({r.fingerprint() for r in recipes}) == 1


def _sources(experiment: str, tmp_path) -> list[str]:
    if experiment == "skillit":
        from train.lego import write_lego

        write_lego(tmp_path / "lego", num_docs=40)
        return [f"sources.skill{k}.paths=[{str(tmp_path / 'lego' / f'skill{k}.jsonl')!r}]" for k in range(1, 6)]
    names = [s["name"] for s in tomllib.loads(arms(experiment)[-1].read_text())["sources"]]
    files = [WEB, REFERENCE]
    return [f"sources.{name}.paths=[{str(files[i % 2])!r}]" for i, name in enumerate(names)]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_one_arm_builds_tiny(experiment, tmp_path):
    recipe = arms(experiment)[-1]
    out = tmp_path / "build"
    argv = ["build", str(recipe), "--no-progress"]
    for item in [f"output.dir={out}", *TINY, *_sources(experiment, tmp_path)]:
        argv += ["--set", item]
    assert main(argv) == 0
    manifest = Manifest.load(out)
    assert manifest.tokenizer.vocab_size <= 300 and sum(s.num_docs for s in manifest.sources.values()) > 20
    assert "tokens" in [c.name for c in manifest.columns]
