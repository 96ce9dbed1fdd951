"""`curate mix plan` and `curate mix DIR --phase P`, on tiny token builds written directly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.manifest import Manifest
from curate import load_recipe
from mixers import make_sampler
from tests.mix_fixtures import write_build

REPO = Path(__file__).resolve().parents[1]

RECIPE = """
[recipe]
name = "t"
seed = 11
[[sources]]
name = "web"
paths = ["in.jsonl"]
[output]
dir = "out"
[[phases]]
name = "pretrain"
num_tokens = 30000
conditioning = true
[phases.mixture]
strategy = "temperature"
temperature = 2.0
[[phases]]
name = "anneal"
num_tokens = 10000
[phases.mixture]
strategy = "static"
weights = { web = 0.5, wiki = 0.3, math = 0.2 }
"""


@pytest.fixture()
def recipe_path(tmp_path: Path) -> Path:
    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n')
    (tmp_path / "r.toml").write_text(RECIPE)
    return tmp_path / "r.toml"


def _build(recipe_path: Path) -> Manifest:
    return write_build(recipe_path.parent / "out", {"web": [100] * 300, "wiki": [300] * 40, "math": [50] * 30},
                       with_prefix=True)


def test_plan_needs_the_build(recipe_path, capsys):
    assert main(["mix", "plan", str(recipe_path)]) == 2
    err = capsys.readouterr().err
    assert "is not done" in err and "curate build" in err


def test_plan_prints_available_requested_epochs_share(recipe_path, capsys):
    _build(recipe_path)
    assert main(["mix", "plan", str(recipe_path), "--phase", "anneal", "--json"]) == 0
    out = capsys.readouterr().out
    rows = {r["group"]: r for r in orjson.loads(out[out.index("["):])[0]["groups"]}
    assert rows["math"] == {"group": "math", "available": 1500, "requested": 2000, "epochs": 2000 / 1500,
                            "share": 0.2, "cap": 6000}
    assert rows["web"]["requested"] == 5000 and rows["wiki"]["requested"] == 3000
    assert main(["mix", "plan", str(recipe_path)]) == 0
    text = capsys.readouterr().out
    assert "phase pretrain: 30,000 tokens, strategy temperature, T=2" in text and "phase anneal" in text


def test_materialise_writes_the_stream_in_order_with_a_manifest(recipe_path, capsys):
    build = _build(recipe_path)
    out = recipe_path.parent / "mixed"
    args = ["mix", str(build.root), "--phase", "anneal", "--recipe", str(recipe_path), "--out", str(out)]
    assert main(args) == 0
    mixed = Manifest.load(out)
    table = pq.read_table(mixed.shard_paths())
    phase = [p for p in load_recipe(recipe_path).section("phases") if p.name == "anneal"][0]
    refs = list(make_sampler(build, phase, seed=11))
    assert table.column("id").to_pylist() == [f"{r.group}/{r.row + 7 * (r.shard - _first_shard(build, r.group))}"
                                              for r in refs]
    assert table.column("mix_group").to_pylist() == [r.group for r in refs]
    assert "prefix_tokens" not in table.column_names  # anneal: conditioning off
    num_tokens = table.column("num_tokens").to_pylist()
    math_tokens = sum(n for n, r in zip(num_tokens, refs) if r.group == "math")
    assert mixed.mix["groups"]["math"]["num_tokens"] == math_tokens
    assert mixed.tokens_by_source() == {"mix:anneal": sum(table.column("num_tokens").to_pylist())}
    before = sorted(p.stat().st_mtime_ns for p in mixed.shard_paths())
    assert main(args) == 0  # same mix again: a no-op
    assert sorted(p.stat().st_mtime_ns for p in Manifest.load(out).shard_paths()) == before
    args_pre = ["mix", str(build.root), "--phase", "pretrain", "--recipe", str(recipe_path), "--out", str(out)]
    assert main(args_pre) == 2 and "another mix" in capsys.readouterr().err
    assert main(args_pre + ["--overwrite"]) == 0
    assert "prefix_tokens" in pq.read_table(Manifest.load(out).shard_paths()).column_names


def _first_shard(manifest: Manifest, source: str) -> int:
    return next(i for i, s in enumerate(manifest.shards) if s.source == source)


def test_unknown_phase_is_named(recipe_path, capsys):
    _build(recipe_path)
    assert main(["mix", "plan", str(recipe_path), "--phase", "cooldown"]) == 2
    assert "pretrain, anneal" in capsys.readouterr().err


def test_a_materialised_mix_is_itself_a_build_mixers_can_read(recipe_path):
    from mixers import MixtureSpec, PhaseSpec
    from mixers.materialize import materialize

    build = _build(recipe_path)
    phase = [p for p in load_recipe(recipe_path).section("phases") if p.name == "anneal"][0]
    mixed = materialize(build, phase, 11, recipe_path.parent / "m")
    again = PhaseSpec(name="again", num_tokens=1000, mixture=MixtureSpec(strategy="static", weights={"wiki": 1}))
    refs = list(make_sampler(mixed, again, seed=0))
    assert {r.group for r in refs} == {"wiki"} and sum(300 for _ in refs) >= 1000


def test_plan_prints_the_stages_of_skill_ordered(tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n')
    (tmp_path / "graph.json").write_text('{"skills": ["math", "web", "wiki"], '
                                         '"edges": [["web", "wiki", 0.5], ["wiki", "math", 0.5]]}')
    (tmp_path / "r.toml").write_text(RECIPE.split("[[phases]]")[0] + """
[[phases]]
name = "curriculum"
num_tokens = 9000
[phases.mixture]
strategy = "skill_ordered"
graph = "graph.json"
""")
    write_build(tmp_path / "out", {"web": [100] * 300, "wiki": [300] * 40, "math": [50] * 30})
    assert main(["mix", "plan", str(tmp_path / "r.toml")]) == 0
    out = capsys.readouterr().out
    assert "stage 0: 3,000 tokens, adds web" in out
    assert "stage 1: 3,000 tokens, adds wiki" in out and "stage 2: 3,000 tokens, adds math" in out
