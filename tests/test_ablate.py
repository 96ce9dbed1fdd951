"""``curate ablate`` end to end on tiny recipes with 2 seeds (the token build of train_support and
a variant that keeps only longer documents, so it really builds a second time): every (arm, seed)
is trained and evaluated on the same items, the report has its tables and plots; a rerun after
deleting one seed's run and killing the rerun resumes only that seed from its checkpoint and
writes the same report bytes; report.html in
headless Chromium renders, loads all its images and requests nothing (tests/browser.py)."""

from __future__ import annotations

import orjson
import pytest

from curate.cli import main
from tests.browser import CHROMIUM, assert_no_network_request, loaded_images, screenshot_ink
from train.ablate.arms import split_overrides
from train.ablate.noise import difference, summarise

SMALL = ["--set", "phases.pretrain.num_tokens=1024", "--set", "phases.cooldown.num_tokens=512"]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")


def write_evals(root):
    docs = [{"text": "The quick brown fox jumps over the lazy dog. " * 3},
            {"text": "In 1905 Einstein published four papers on physics."},
            {"text": "Rivers carry water from the mountains to the sea."}]
    mc = [{"context": "The capital of France is", "choices": ["Paris", "a river", "blue"], "gold": 0},
          {"context": "Water boils at", "choices": ["100 degrees", "the moon"], "gold": 0},
          {"context": "One plus one is ", "choices": ["two", "seven", "a cat"], "gold": 0}]
    (root / "docs.jsonl").write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    (root / "mc.jsonl").write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in mc))
    (root / "evals.toml").write_text('[[eval]]\nname = "clean"\npaths = ["docs.jsonl"]\n\n'
                                     '[[eval]]\nname = "facts"\nkind = "mc"\npaths = ["mc.jsonl"]\n')
    return root / "evals.toml"


def ablate_args(token_build, evals, out):
    return ["ablate", str(token_build.recipe), "--arm", "long:steps.length.min_chars=1500", "--evals", str(evals),
            "--out", str(out), "--seeds", "2", *SMALL]


@pytest.fixture(scope="module")
def ablation(token_build, tmp_path_factory):
    root = tmp_path_factory.mktemp("ablate")
    out = root / "out"
    assert main(ablate_args(token_build, write_evals(root), out)) == 0
    return root, out


def test_every_arm_and_seed_is_scored_on_the_same_items(ablation):
    _, out = ablation
    evals = {(a, s): orjson.loads((out / "runs" / a / f"seed{s}" / "eval.json").read_bytes())
             for a in ("train-tests", "long") for s in (0, 1)}
    shas = {name: {e["sets"][name]["items_sha256"] for e in evals.values()} for name in ("clean", "facts")}
    assert all(len(v) == 1 for v in shas.values())
    assert all(e["max_len"] == 32 for e in evals.values())
    assert (out / "builds" / "long" / "manifest.json").is_file()      # the variant built apart
    assert not (out / "builds" / "train-tests").exists()               # the base reused its own build
    bpb = {k: e["sets"]["clean"]["bits_per_byte"] for k, e in evals.items()}
    assert bpb[("train-tests", 0)] != bpb[("train-tests", 1)]          # seeds differ
    md = (out / "report.md").read_text()
    for needle in ("steps.length.min_chars=1500", "bits_per_byte", "acc_norm", "beyond seed noise",
                   "plots/metrics.png", "plots/loss.png", "plots/long/funnel.png", "plots/mix.png",
                   "| train-tests | pretrain |"):
        assert needle in md, needle
    for png in ("metrics.png", "loss.png", "mix.png", "long/funnel.png", "train-tests/funnel.png"):
        assert (out / "plots" / png).stat().st_size > 5000


def test_a_killed_seed_resumes_alone_and_the_report_is_unchanged(ablation, token_build, capsys):
    """Delete one seed's run, kill the rerun (SIGKILL after step 6, checkpoint written), run again:
    only that seed trains (from its checkpoint), the others are reused untouched, same report bytes."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.conftest import REPO

    root, out = ablation
    files = [out / "report.md", out / "report.html", *sorted((out / "plots").rglob("*.png"))]
    before = {p: p.read_bytes() for p in files}
    kept = out / "runs" / "long" / "seed0" / "eval.json"
    kept_mtime = kept.stat().st_mtime_ns
    run = out / "runs" / "train-tests" / "seed1"
    shutil.rmtree(run)
    env = {**os.environ, "PYTHONPATH": str(REPO), "CURATE_FAULT": "train_step:6"}
    proc = subprocess.run([sys.executable, "-m", "curate", *ablate_args(token_build, root / "evals.toml", out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert (run / "ckpt" / "latest.pt").is_file() and not (run / "eval.json").exists()
    capsys.readouterr()
    assert main(ablate_args(token_build, root / "evals.toml", out)) == 0
    said = capsys.readouterr().out
    assert said.count("finished, reused") == 3 and "train-tests seed 1: resume" in said
    assert kept.stat().st_mtime_ns == kept_mtime
    assert {p: p.read_bytes() for p in before} == before


def test_arms_must_train_the_same_model_and_tokens(token_build, tmp_path, capsys):
    evals = str(write_evals(tmp_path))
    assert main(["ablate", str(token_build.recipe), "--arm", "wide:train.hidden_size=64", "--evals", evals,
                 "--out", str(tmp_path / "o")]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "arm 'wide': train hidden_size = 64 but arm 'train-tests' has 32" in err
    assert main(["ablate", str(token_build.recipe), "--arm", "more:phases.pretrain.num_tokens=8192", "--evals",
                 evals, "--out", str(tmp_path / "o")]) != 0
    assert "train total num_tokens = 9216" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()                               # refused before building anything


def test_override_lists_keep_their_commas():
    assert split_overrides("a.b=1,c=[1, 2],d.e=x") == ["a.b=1", "c=[1, 2]", "d.e=x"]


def test_noise_rule_by_hand():
    a, b = summarise([1.0, 3.0]), summarise([0.0, 0.0, 0.0])      # std sqrt(2), 0
    d = difference(a, b)
    assert d.diff == 2.0 and d.two_se == pytest.approx(2.0) and d.exceeds is False
    assert difference(summarise([4.0, 4.2]), summarise([1.0, 1.2])).exceeds is True
    assert difference(summarise([4.0]), summarise([1.0, 1.2])).verdict == "n/a"


@needs_chromium
def test_report_html_in_chromium(ablation, tmp_path):
    _, out = ablation
    page = out / "report.html"
    assert page.read_text().count("<table>") >= 5
    num_images, seen = loaded_images(page, tmp_path / "p")
    assert num_images >= 5 and seen == f"{num_images}/{num_images}"
    ink, colours = screenshot_ink(page, tmp_path)
    assert ink > 0.03 and colours > 20, (ink, colours)
    assert_no_network_request(page, tmp_path)
