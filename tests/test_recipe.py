"""Recipe parsing: every shipped recipe loads; user errors are one line naming key, value, allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.errors import RecipeError
from curate import load_recipe
from curate.recipe import parse_recipe
from tests.conftest import REPO, run_cli, write_recipe

BASE = """
[recipe]
name = "t"

[[sources]]
name = "web"
paths = ["{data}"]

{steps}

[output]
dir = "out"
"""


def recipe_text(tmp_path: Path, steps: str = "") -> str:
    return BASE.format(data=str(REPO / "tests/data/web_sample.jsonl.zst"), steps=steps)


@pytest.mark.parametrize("path", sorted((REPO / "recipes").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_recipe_loads(path):
    recipe = load_recipe(path)
    assert recipe.name and recipe.sources
    assert len(recipe.fingerprint()) == 64


@pytest.mark.parametrize(
    "steps, message",
    [
        ('[[steps]]\nuse = "length"\nmin_char = 3', "steps[0] (length): unknown key 'min_char'; allowed: max_chars"),
        ('[[steps]]\nuse = "length"\nmin_chars = "3"', "steps[0] (length).min_chars: got '3'; expected integer"),
        ('[[steps]]\nuse = "length"\nmin_chars = -1', "steps[0] (length): min_chars=-1 is out of range"),
        ('[[steps]]\nuse = "lenght"', "steps[0].use: unknown step 'lenght'; allowed:"),
        ('[[steps]]\nuse = "lang_id"\nmin_score = 1.5', "lang_id): min_score=1.5 is out of range; allowed: 0.0"),
        ('[[steps]]\nuse = "url_blocklist"\npath = "nope.txt"', "path="),
        ('[[steps]]\nmin_chars = 3', "steps[0]: missing key 'use'"),
    ],
)
def test_bad_step_values_name_key_value_and_allowed(tmp_path, steps, message):
    path = write_recipe(tmp_path / "r.toml", recipe_text(tmp_path, steps))
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert message in str(err.value)


def test_unknown_section_and_missing_file(tmp_path):
    text = recipe_text(tmp_path) + "\n[outptu]\nx = 1\n"
    with pytest.raises(RecipeError, match="unknown section 'outptu'; allowed: recipe, sources"):
        load_recipe(write_recipe(tmp_path / "r.toml", text))
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "missing.toml")


def test_paths_resolve_relative_to_recipe_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "block.txt").write_text("example.com\n")
    text = recipe_text(tmp_path, '[[steps]]\nuse = "url_blocklist"\npath = "block.txt"')
    recipe = load_recipe(write_recipe(tmp_path / "sub" / "r.toml", text))
    assert recipe.steps[0].path == (tmp_path / "sub" / "block.txt").resolve()
    assert recipe.output.dir == (tmp_path / "sub" / "out").resolve()


def test_fingerprint_ignores_formatting_but_not_values(tmp_path):
    a = parse_recipe({"recipe": {"name": "x"}, "sources": [{"name": "s", "paths": ["*.jsonl"]}],
                      "output": {"dir": "o"}}, tmp_path / "r.toml")
    b = parse_recipe({"recipe": {"name": "x", "seed": 0}, "sources": [{"name": "s", "paths": ["*.jsonl"]}],
                      "output": {"dir": "o"}}, tmp_path / "r.toml")
    c = parse_recipe({"recipe": {"name": "x", "seed": 1}, "sources": [{"name": "s", "paths": ["*.jsonl"]}],
                      "output": {"dir": "o"}}, tmp_path / "r.toml")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_fingerprint_hashes_the_content_of_step_files(tmp_path):
    """A blocklist edited in place (same path) is another build; touching it without a change is not."""
    (tmp_path / "block.txt").write_text("spam.example\n")
    text = recipe_text(tmp_path, '[[steps]]\nuse = "url_blocklist"\npath = "block.txt"')
    before = load_recipe(write_recipe(tmp_path / "r.toml", text)).fingerprint()
    (tmp_path / "block.txt").write_text("spam.example\n")  # same bytes, new mtime
    assert load_recipe(tmp_path / "r.toml").fingerprint() == before
    (tmp_path / "block.txt").write_text("spam.example\nham.example\n")
    assert load_recipe(tmp_path / "r.toml").fingerprint() != before


def test_cli_reports_user_errors_as_one_line_without_traceback(tmp_path):
    path = write_recipe(tmp_path / "r.toml", recipe_text(tmp_path, '[[steps]]\nuse = "length"\nmax_words = "x"'))
    res = run_cli("build", str(path))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().count("\n") == 0
    assert "steps[0] (length).max_words: got 'x'" in res.stderr
    res = run_cli("build", str(tmp_path / "absent.toml"))
    assert res.returncode == 2 and "recipe file not found" in res.stderr


def test_source_glob_that_matches_nothing_names_the_pattern(tmp_path):
    text = BASE.format(data="nothing/*.jsonl", steps="")
    res = run_cli("explain", str(write_recipe(tmp_path / "r.toml", text)))
    assert res.returncode == 2
    assert "sources[0].paths[0]: no file matches 'nothing/*.jsonl'" in res.stderr


def test_a_steps_output_path_is_not_in_the_fingerprint(tmp_path):
    """minhash_dedup's save_index is written by the build: its appearing must not change the
    fingerprint (a rerun of the finished build is the same build); an `against` index is read."""
    text = recipe_text(tmp_path, '[[steps]]\nuse = "minhash_dedup"\nsave_index = "idx"')
    before = load_recipe(write_recipe(tmp_path / "r.toml", text)).fingerprint()
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "docs.parquet").write_bytes(b"written by the build")
    assert load_recipe(tmp_path / "r.toml").fingerprint() == before
    from curate.step_files import step_paths

    recipe = load_recipe(write_recipe(tmp_path / "a.toml", recipe_text(
        tmp_path, '[[steps]]\nuse = "minhash_dedup"\nagainst = ["idx"]')))
    assert step_paths(recipe.steps[0]) == [(tmp_path / "idx").resolve()]
