"""Optional recipe sections: declared by mixers/train/classifier, passed in explicitly, checked
across sections at parse time; curate's core never imports mixers or train."""

from __future__ import annotations

import subprocess
import sys

import pytest

from curate.errors import RecipeError
from curate.recipe import load_recipe
from tests.conftest import REPO, _env, run_cli, write_recipe

RECIPE = f"""
[recipe]
name = "s"
[[sources]]
name = "web"
paths = ["{REPO / 'tests/data/web_sample.jsonl.zst'}"]
[output]
dir = "out"
[[phases]]
name = "pretrain"
num_tokens = 1000
[train]
hidden_size = 32
num_heads = 4
"""


def test_core_modules_do_not_import_mixers_or_train():
    code = ("import sys, curate.build, curate.recipe, curate.report, curate.manifest\n"
            "from curate.recipe import load_recipe\n"
            f"load_recipe({str(REPO / 'recipes' / 'quickstart.toml')!r})\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('mixers', 'train'))\n"
            "assert not bad, bad\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=REPO)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_no_core_module_names_mixers_or_train():
    """Only the CLI layer (curate/commands/) may import mixers or train, and only when called."""
    import re

    pattern = re.compile(r"(?:from|import)\s+(?:mixers|train)\b|[\"'](?:mixers|train)\.(?!bin|txt)[a-z_]+[\"']")
    core = [p for p in (REPO / "curate").rglob("*.py") if "commands" not in p.parts]
    offenders = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in core
                 for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert len(core) > 40 and offenders == []


def test_a_section_nobody_passed_is_unknown(tmp_path):
    path = write_recipe(tmp_path / "r.toml", RECIPE)
    with pytest.raises(RecipeError, match=r"^unknown section 'phases'; allowed: recipe, sources, steps, output$"):
        load_recipe(path)
    from mixers import PHASES_SECTION
    from train.config import TRAIN_SECTION

    recipe = load_recipe(path, sections=[PHASES_SECTION, TRAIN_SECTION])
    assert recipe.section("phases")[0].num_tokens == 1000 and recipe.section("train").hidden_size == 32
    assert recipe.section("classifier") is None


def test_build_and_explain_accept_every_known_section(tmp_path):
    path = write_recipe(tmp_path / "r.toml", RECIPE)
    proc = run_cli("explain", str(path))
    assert proc.returncode == 0 and "recipe 's'" in proc.stdout, proc.stderr
    proc = run_cli("explain", str(write_recipe(tmp_path / "t.toml", RECIPE + "[trian]\nx = 1\n")))
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "curate explain: error: unknown section 'trian'; allowed: recipe, sources, steps, output, phases, classifier, train"]


def test_unknown_train_phase_is_caught_at_parse_time_by_explain(tmp_path):
    path = write_recipe(tmp_path / "r.toml", RECIPE + "[train.phases.cooldwn]\nschedule = \"linear_decay\"\n")
    proc = run_cli("explain", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "curate explain: error: train.phases.cooldwn: no [[phases]] entry has this name; phases: pretrain"]
    first = write_recipe(tmp_path / "c.toml", RECIPE + "[train.phases.pretrain]\nschedule = \"continue\"\n")
    proc = run_cli("explain", str(first))
    assert proc.returncode == 2 and "'continue' needs a previous phase" in proc.stderr
