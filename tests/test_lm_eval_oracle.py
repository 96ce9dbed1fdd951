"""Our eval scores equal lm-evaluation-harness's (PyPI ``lm-eval``, dev extra) on the same saved
model and the same items: a tiny model trained by ``curate train``, its ``final/`` folder loaded by
lm_eval as ``model="hf"``, two local task YAMLs (``dataset_path: json`` + local ``data_files``):
a multiple-choice task (acc, acc_norm, and each choice's log-likelihood) and a
``loglikelihood_rolling`` task (bits_per_byte). lm_eval runs in a subprocess with the Hub and
datasets offline and HF_HOME in the test's tmp dir, so nothing is fetched or cached elsewhere."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import orjson
import pytest
import zstandard

from curate.cli import main
from tests.train_support import DATA
from train.eval_model import load_model
from train.likelihood import choice_request, score_requests

pytest.importorskip("lm_eval")
MAX_LEN = 32
LM_YAML = """task: curate_lm
dataset_path: json
dataset_kwargs:
  data_files:
    test: {path}
test_split: test
output_type: loglikelihood_rolling
doc_to_text: ""
doc_to_target: "{{{{text}}}}"
metric_list:
  - metric: bits_per_byte
"""
MC_YAML = """task: curate_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {path}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_choice: choices
doc_to_target: gold
target_delimiter: " "
metric_list:
  - metric: acc
  - metric: acc_norm
"""
RUN = """
import json, sys
import lm_eval
from lm_eval.tasks import TaskManager
model_dir, task_dir, out = sys.argv[1:]
r = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={model_dir},dtype=float32,max_length=%d",
                            tasks=["curate_mc", "curate_lm"], task_manager=TaskManager(include_path=task_dir),
                            batch_size=4, device="cpu", log_samples=True)
samples = sorted(r["samples"]["curate_mc"], key=lambda s: s["doc_id"])
lls = [[float(x[0]) for x in s["filtered_resps"]] for s in samples]
json.dump({"results": r["results"], "mc_lls": lls}, open(out, "w"), default=str)
""" % MAX_LEN


def items():
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO((DATA / "reference_sample.jsonl.zst").read_bytes()))
    docs = [json.loads(line)["text"] for line in raw.read().splitlines()[:30]]
    lm = [{"text": d[:300]} for d in docs[:6]]
    mc = [{"context": docs[6 + k][:60] + (" " if k % 3 == 0 else ""),      # some contexts end in a space
           "choices": [docs[6 + (k + j) % 16][60:70 + 7 * j] for j in range(4)], "gold": k % 4}
          for k in range(16)]
    return lm, mc


def test_scores_equal_lm_eval(token_build, tmp_path):
    run = tmp_path / "run"
    assert main(["train", str(token_build.recipe), "--out", str(run), "--set", "phases.pretrain.num_tokens=1024",
                 "--set", "phases.cooldown.num_tokens=512"]) == 0
    model_dir = run / "final"
    lm, mc = items()
    for name, rows in (("lm", lm), ("mc", mc)):
        (tmp_path / f"{name}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "lm.yaml").write_text(LM_YAML.format(path=tmp_path / "lm.jsonl"))
    (tmp_path / "tasks" / "mc.yaml").write_text(MC_YAML.format(path=tmp_path / "mc.jsonl"))
    (tmp_path / "evals.toml").write_text('[[eval]]\nname = "lm"\npaths = ["lm.jsonl"]\n\n'
                                         '[[eval]]\nname = "mc"\nkind = "mc"\npaths = ["mc.jsonl"]\n')
    assert main(["eval", str(model_dir), "--evals", str(tmp_path / "evals.toml"), "--max-len", str(MAX_LEN),
                 "--out", str(tmp_path / "eval.json")]) == 0
    ours = orjson.loads((tmp_path / "eval.json").read_bytes())["sets"]

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, "-c", RUN, str(model_dir), str(tmp_path / "tasks"),
                           str(tmp_path / "lm_eval.json")], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "lm_eval.json").read_text())

    model, encode, prefix = load_model(model_dir)
    requests = [choice_request(it["context"], " " + c, encode, prefix, MAX_LEN) for it in mc for c in it["choices"]]
    our_lls = score_requests(model, requests).tolist()
    assert our_lls == pytest.approx([ll for item in theirs["mc_lls"] for ll in item], abs=1e-4)
    assert ours["mc"]["acc"] == theirs["results"]["curate_mc"]["acc,none"]
    assert ours["mc"]["acc_norm"] == theirs["results"]["curate_mc"]["acc_norm,none"]
    assert ours["lm"]["bits_per_byte"] == pytest.approx(theirs["results"]["curate_lm"]["bits_per_byte,none"],
                                                        rel=1e-6)
