"""Every shipped recipe that is more than parsed runs end to end, at reduced size, through ``--set``
overrides on the shipped file itself (not a copy): tiny vocabularies, models, token budgets and eval
sizes, outputs under tmp_path. What depends on what is chained: salt scores with the model trained
by meco_standard, annotate uses the classifier `curate classifier train` made, skillit(_uniform)
train on the `curate lego` data. Each test asserts outcomes: manifest counts, the phases in
log.jsonl, a final model that loads."""

from __future__ import annotations

import json

import pytest

from curate.cli import main
from curate.manifest import Manifest
from tests.conftest import REPO

pytest.importorskip("torch")
pytest.importorskip("transformers")

RECIPES = REPO / "recipes"
WEB = REPO / "tests" / "data" / "web_sample.jsonl.zst"
REFERENCE = REPO / "tests" / "data" / "reference_sample.jsonl.zst"
TINY_TOKENIZER = ["steps.train_tokenizer.vocab_size=300", "steps.train_tokenizer.sample_docs=200"]
TINY_MODEL = ["train.hidden_size=16", "train.num_layers=1", "train.num_heads=2", "train.seq_len=32",
              "train.batch_rows=2", "train.eval_every=4", "train.eval_docs_per_group=4",
              "train.holdout_frac=0.05", "train.num_threads=1", "train.checkpoint_every=1000",
              "train.log_every=1"]
TOKENS_PER_STEP = 32 * 2


def sets(items: list[str]) -> list[str]:
    return [a for item in items for a in ("--set", item)]


def run(*argv: str, overrides: list[str] = ()) -> None:
    assert main([*argv, *sets(list(overrides))]) == 0, argv


def build(recipe: str, out, overrides: list[str]) -> Manifest:
    run("build", str(RECIPES / recipe), "--no-progress", overrides=[f"output.dir={out}", *overrides])
    return Manifest.load(out)


def train(recipe: str, build_dir, run_dir, overrides: list[str]) -> list[dict]:
    run("train", str(RECIPES / recipe), "--out", str(run_dir),
        overrides=[f"output.dir={build_dir}", *TINY_MODEL, *overrides])
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(run_dir / "final")
    assert model.config.hidden_size == 16 and (run_dir / "final" / "tokenizer.json").is_file()
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def phases_trained(log: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["phase"] for r in log if r.get("kind") == "train"))


def steps_of(log: list[dict], phase: str) -> int:
    return len({(r.get("branch"), r["step"]) for r in log if r.get("kind") == "train" and r["phase"] == phase})


@pytest.fixture(scope="module")
def meco_standard(tmp_path_factory):
    """meco_standard built and trained small: the model salt scores with."""
    root = tmp_path_factory.mktemp("meco_standard")
    manifest = build("meco_standard.toml", root / "build", [f"sources.web.paths=[{str(WEB)!r}]", *TINY_TOKENIZER])
    log = train("meco_standard.toml", root / "build", root / "run",
                [f"phases.pretrain.num_tokens={12 * TOKENS_PER_STEP}", f"phases.cooldown.num_tokens={4 * TOKENS_PER_STEP}"])
    return manifest, log, root / "run"


def test_meco_standard_trains_both_phases_unconditioned(meco_standard):
    manifest, log, _ = meco_standard
    assert manifest.tokenizer.vocab_size == 300 and manifest.sources["web"].num_docs > 100
    assert phases_trained(log) == ["pretrain", "cooldown"]
    assert (steps_of(log, "pretrain"), steps_of(log, "cooldown")) == (12, 4)
    assert any(r.get("kind") == "eval" and r["phase"] == "cooldown" for r in log)


def test_meco_conditions_pretrain_then_cools_down(tmp_path):
    manifest = build("meco.toml", tmp_path / "build", [f"sources.web.paths=[{str(WEB)!r}]", *TINY_TOKENIZER])
    assert "prefix_tokens" in [c.name for c in manifest.columns]
    log = train("meco.toml", tmp_path / "build", tmp_path / "run",
                [f"phases.0.num_tokens={8 * TOKENS_PER_STEP}", f"phases.1.num_tokens={4 * TOKENS_PER_STEP}"])
    assert phases_trained(log) == ["pretrain", "cooldown"]
    lrs = [r["lr"] for r in log if r.get("kind") == "train"]
    assert len(lrs) == 12 and lrs[-1] < max(lrs)  # one cosine over both phases ("continue")


def test_salt_scores_with_the_meco_standard_model(meco_standard, tmp_path):
    _, _, run_dir = meco_standard
    manifest = build("salt.toml", tmp_path / "salt", [f"steps.lm_score.model={run_dir / 'final'}",
                                                      "steps.lm_score.max_tokens=64"])
    stats = json.loads((tmp_path / "salt" / "stats.json").read_text())
    band = next(s for s in stats["total"]["steps"] if s["name"] == "score_band")
    assert band["in"] > 100 and 0.15 < sum(band["dropped"].values()) / band["in"] < 0.25  # 10% + 10%
    assert manifest.sources["web"].num_docs == band["kept"] == stats["total"]["kept"]
    assert "lm_loss" in [c.name for c in manifest.columns]


def test_annotate_uses_the_classifier_it_trained(tmp_path):
    model = tmp_path / "quality.bin"
    run("classifier", "train", str(RECIPES / "annotate.toml"), overrides=[f"classifier.model_path={model}",
                                                                            "classifier.epoch=5"])
    assert model.is_file() and json.loads((tmp_path / "quality.bin.json").read_text())["roc_auc"] > 0.8
    manifest = build("annotate.toml", tmp_path / "out", [f"steps.fasttext_score.model_path={model}"])
    assert manifest.repeat_column == "repeat" and set(manifest.sources) == {"reference", "web"}
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    pct = next(s for s in stats["total"]["steps"] if s["name"] == "score_percentile")
    assert pct["kept"] == sum(round(0.8 * stats["sources"][s]["steps"][6]["in"] + 1e-9) for s in ("reference", "web"))
    assert sum(s.num_docs for s in manifest.sources.values()) == stats["total"]["kept"] > 0


def test_phases_builds_plans_and_mixes(tmp_path, capsys):
    out = tmp_path / "phases"
    manifest = build("phases.toml", out, [f"sources.web.paths=[{str(WEB)!r}]",
                                          f"sources.reference.paths=[{str(REFERENCE)!r}]", *TINY_TOKENIZER])
    assert {"web", "reference"} == set(manifest.sources) and "skill" in [c.name for c in manifest.columns]
    caps = ["phases.pretrain.num_tokens=20000", "phases.anneal.num_tokens=4000",
            "phases.anneal.mixture.weights={general = 1.0}"]
    run("mix", "plan", str(RECIPES / "phases.toml"), overrides=[f"output.dir={out}", *caps])
    assert "phase pretrain: 20,000 tokens" in capsys.readouterr().out
    run("mix", str(out), "--phase", "anneal", "--out", str(tmp_path / "mix"), overrides=caps)
    mixed = Manifest.load(tmp_path / "mix")
    assert 4000 <= mixed.sources["mix:anneal"].num_tokens < 4000 + 3000  # stops at the budget (one doc over)
    assert "prefix_tokens" not in [c.name for c in mixed.columns]  # anneal: conditioning off


def test_schedules_trains_every_schedule_kind(tmp_path):
    tokens = ['steps=[{use = "train_tokenizer", vocab_size = 300, sample_docs = 200}, {use = "tokenize"}]']
    build("schedules.toml", tmp_path / "build", tokens)
    budgets = [f"phases.{p}.num_tokens={n * TOKENS_PER_STEP}"
               for p, n in (("stage1", 8), ("anneal", 3), ("continual", 4), ("forever", 6))]
    log = train("schedules.toml", tmp_path / "build", tmp_path / "run", budgets)
    assert phases_trained(log) == ["stage1", "anneal", "continual", "forever"]
    branches = {r["branch"] for r in log if r.get("kind") == "train" and r["phase"] == "anneal"}
    assert branches == {42, 42069, 666}  # one soup branch per seed
    assert [steps_of(log, p) for p in ("stage1", "anneal", "continual", "forever")] == [8, 9, 4, 6]


def test_skillit_and_uniform_train_on_the_lego_data(tmp_path):
    run("lego", str(tmp_path / "lego"), "--num-docs", "60")
    paths = [f"sources.skill{k}.paths=[{str(tmp_path / 'lego' / f'skill{k}.jsonl')!r}]" for k in range(1, 6)]
    manifest = build("skillit.toml", tmp_path / "build", paths)
    assert {n: s.num_docs for n, s in manifest.sources.items()} == {f"skill{k}": 60 for k in range(1, 6)}
    budget = [f"phases.lego.num_tokens={12 * TOKENS_PER_STEP}"]
    skillit = train("skillit.toml", tmp_path / "build", tmp_path / "skillit", budget)
    uniform = train("skillit_uniform.toml", tmp_path / "build", tmp_path / "uniform", budget)
    assert phases_trained(skillit) == phases_trained(uniform) == ["lego"]
    weights = [r["weights"] for r in skillit if r.get("kind") == "eval" and r.get("weights")]
    assert len(weights) >= 2 and weights[-1] != weights[0]  # Skill-It re-weights from the eval losses
    flat = [r["weights"] for r in uniform if r.get("kind") == "eval" and r.get("weights")]
    assert all(w == flat[0] for w in flat)
