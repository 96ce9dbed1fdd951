"""``--set KEY=VALUE``: dotted keys into the TOML document before parsing."""

from __future__ import annotations

import pytest

from curate import load_recipe
from curate.errors import RecipeError
from curate.overrides import apply_overrides, parse_value
from tests.conftest import REPO, write_recipe

RECIPE = f"""
[recipe]
name = "o"
[[sources]]
name = "web"
paths = ["{REPO / 'tests/data/web_sample.jsonl.zst'}"]
[[steps]]
use = "length"
min_words = 50
[[steps]]
use = "exact_dedup"
[[steps]]
use = "length"
max_words = 100000
[[steps]]
use = "minhash_dedup"
threshold = 0.7
[output]
dir = "out"
[[phases]]
name = "pretrain"
num_tokens = 1000
[[phases]]
name = "anneal"
num_tokens = 500
"""


def test_values_are_toml_else_strings():
    assert [parse_value(v) for v in ("32", "0.8", "true", '"x"', '["en", "de"]', "{a = 1}")] == \
        [32, 0.8, True, "x", ["en", "de"], {"a": 1}]
    assert [parse_value(v) for v in ("/tmp/out", "en", "2015-01-01", "a b")] == ["/tmp/out", "en", "2015-01-01", "a b"]


def test_paths_address_tables_indexes_and_unique_names():
    data = {"steps": [{"use": "length"}, {"use": "minhash_dedup", "threshold": 0.7}],
            "phases": [{"name": "a", "num_tokens": 10}], "output": {"dir": "x"}}
    out = apply_overrides(data, ["steps.minhash_dedup.threshold=0.8", "steps.0.min_words=3",
                                 "phases.0.num_tokens=4096", "phases.a.conditioning=false",
                                 "train.phases.a.schedule=wsd", "output.dir=/tmp/o"])
    assert out == {"steps": [{"use": "length", "min_words": 3}, {"use": "minhash_dedup", "threshold": 0.8}],
                   "phases": [{"name": "a", "num_tokens": 4096, "conditioning": False}],
                   "output": {"dir": "/tmp/o"}, "train": {"phases": {"a": {"schedule": "wsd"}}}}
    assert data["steps"][1]["threshold"] == 0.7  # the input document is not modified


@pytest.mark.parametrize("item, message", [
    ("steps.9.x=1", r"--set 'steps.9.x=1': steps has 4 entries; index 9 is out of range"),
    ("steps.length.min_words=1", r"steps: 2 entries \(use an index\) named 'length'; entries: length, exact_dedup"),
    ("steps.lang_id.x=1", r"steps: no entry named 'lang_id'"),
    ("recipe.name.x=1", r"recipe.name is 'o', not a table or array; it has no key 'x'"),
    ("output.dir", r"expected KEY=VALUE"),
    ("steps.0.min_wrds=3", r"^steps\[0\] \(length\): unknown key 'min_wrds'; allowed: "),
    ("phases.anneal.num_tokens=lots", r"^phases\[1\].num_tokens: got 'lots'; expected integer$"),
    ("trian.hidden_size=32", r"^unknown section 'trian'"),
])
def test_bad_overrides_fail_with_one_line(tmp_path, item, message):
    path = write_recipe(tmp_path / "r.toml", RECIPE)
    with pytest.raises(RecipeError, match=message) as info:
        load_recipe(path, overrides=[item])
    assert "\n" not in str(info.value)


def test_an_override_changes_the_fingerprint_exactly_like_the_edit(tmp_path):
    path = write_recipe(tmp_path / "r.toml", RECIPE)
    edited = write_recipe(tmp_path / "e.toml", RECIPE.replace("threshold = 0.7", "threshold = 0.8"))
    base, over = load_recipe(path), load_recipe(path, overrides=["steps.minhash_dedup.threshold=0.8"])
    assert over.steps[3].threshold == 0.8 and over.fingerprint() == load_recipe(edited).fingerprint()
    assert over.fingerprint() != base.fingerprint()
    phases_only = load_recipe(path, overrides=["phases.0.num_tokens=4096"])  # not a build section
    assert phases_only.section("phases")[0].num_tokens == 4096 and phases_only.fingerprint() == base.fingerprint()
    relative = load_recipe(path, overrides=["output.dir=sub/out"])
    assert relative.output.dir == (tmp_path / "sub" / "out").resolve()  # relative to the recipe file


def test_cli_explain_and_mix_plan_take_set(tmp_path, capsys):
    from curate.cli import main

    path = write_recipe(tmp_path / "r.toml", RECIPE)
    assert main(["explain", str(path), "--set", "steps.minhash_dedup.threshold=0.8", "--set", "steps.0.min_words=7"]) == 0
    out = capsys.readouterr().out
    assert "'threshold': 0.8" in out and "'min_words': 7" in out
    assert main(["explain", str(path), "--set", "steps.0.min_wrds=7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'min_wrds'" in err
    assert main(["mix", "plan", str(path), "--set", f"output.dir={tmp_path / 'nowhere'}"]) == 2
    assert f"no manifest.json in {tmp_path / 'nowhere'}" in capsys.readouterr().err
