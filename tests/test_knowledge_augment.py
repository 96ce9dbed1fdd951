"""knowledge_augment (Physics of LMs 3.1) and `curate bios`: exact rewrites, bioS files, and the
bios / bios_augment recipes built and trained at reduced size."""

from __future__ import annotations

import json
import re

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.cli import main
from curate.manifest import Manifest
from curate.steps.knowledge_augment import KnowledgeAugment, permute_sentences, repeat_name
from tests.conftest import REPO, run_cli
from train.bios import ATTRIBUTES, people, write_bios


def test_repeat_name_exact():
    text = "Ada Lee Cruz was born in Reno, NV. She studied at MIT. Her major was Physics. They said so."
    assert repeat_name(text, "Ada Lee Cruz") == ("Ada Lee Cruz was born in Reno, NV. Ada Lee Cruz studied at MIT. "
                                                 "Ada Lee Cruz's major was Physics. Ada Lee Cruz said so.")
    assert repeat_name("Shelby saw them.", "X") == "Shelby saw them."  # whole words only


@settings(deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["A b.", "C d!", "E f?", "G h."]), min_size=1, max_size=8), st.integers(0, 2**32))
def test_permutation_keeps_the_sentences(sentences, seed):
    text = " ".join(sentences)
    out = permute_sentences(text, seed)
    assert sorted(out.split(" ")) == sorted(text.split(" ")) and out == permute_sentences(text, seed)


def test_write_bios_halves_and_determinism(tmp_path):
    paths = write_bios(tmp_path / "a", 10, variants=2, seed=3)
    bios = [orjson.loads(x) for x in paths["bios"].read_bytes().splitlines()]
    qa_train = [orjson.loads(x) for x in paths["qa_train"].read_bytes().splitlines()]
    qa_test = [orjson.loads(x) for x in paths["qa_test"].read_bytes().splitlines()]
    folk = people(10, seed=3)
    assert len(bios) == 20 and len({p["name"] for p in folk}) == 10
    assert len(qa_train) == len(qa_test) == 5 * len(ATTRIBUTES)
    assert {q["person"] for q in qa_train} == set(range(5)) and {q["person"] for q in qa_test} == set(range(5, 10))
    first = bios[0]["text"]
    assert first.startswith(folk[0]["name"]) and all(folk[0][a] in first for a in ATTRIBUTES)
    assert write_bios(tmp_path / "b", 10, variants=2, seed=3)["bios"].read_bytes() == paths["bios"].read_bytes()
    q = qa_test[0]
    assert q["question"] == f"What is the birth date of {folk[5]['name']}?"
    assert q["text"] == f" {folk[5]['birth date']}."


def test_expand_copies_sources_and_columns():
    meta = [orjson.dumps({"name": "Ada Lee Cruz"}).decode(), None]
    batch = pa.RecordBatch.from_pydict({"id": ["a", "q"], "text": ["Ada Lee Cruz was born. She worked.", " MIT."],
                                        "source": ["bios", "qa"], "meta": meta})
    step = KnowledgeAugment(copies=2, sources=("bios",), seed=1)
    out = step.expand(batch)
    rows = out.drop_columns(["_count:no_entity", "_rephrase_error"]).to_pylist()
    assert [r["id"] for r in rows] == ["a", "a/aug:0", "a/aug:1", "q"]
    assert [r["style"] for r in rows] == ["original", "permute+fullname", "permute+fullname", "original"]
    assert rows[1]["derived_from"] == "a" and rows[3]["derived_from"] is None
    for r in rows[1:3]:
        assert sorted(re.split(r"(?<=\.) ", r["text"])) == ["Ada Lee Cruz was born.", "Ada Lee Cruz worked."]
    assert step.reject(out).null_count == 4


def test_rephrase_variants_through_the_local_backend(trained_model):
    batch = pa.RecordBatch.from_pydict({"id": ["a"], "text": ["Ada was born in Reno. She studied at MIT."],
                                        "source": ["bios"], "meta": [None]})
    step = KnowledgeAugment(copies=1, fullname=False, rephrase_styles=("easy",),
                            rephrase={"model": str(trained_model), "max_new_tokens": 6, "min_chars": 0})
    out = step.expand(batch).to_pylist()
    assert [r["id"] for r in out] == ["a", "a/aug:0", "a/aug:easy"]
    assert out[2]["style"] == "easy" and out[2]["generator"] == "run/final"


def test_bios_cli_rejects_bad_people(tmp_path):
    res = run_cli("bios", str(tmp_path), "--people", "1")
    assert res.returncode == 2 and "--people=1" in res.stderr


TINY = ["steps.train_tokenizer.vocab_size=300", "train.hidden_size=16", "train.num_layers=1", "train.num_heads=2",
        "train.seq_len=32", "train.batch_rows=2", "train.num_threads=1", "train.eval_every=4",
        "train.eval_docs_per_group=2", "phases.pretrain.num_tokens=256", "phases.qa.num_tokens=128"]


def test_bios_recipes_build_and_train(tmp_path):
    assert main(["bios", str(tmp_path / "data"), "--people", "12"]) == 0
    for recipe, copies in (("bios.toml", 0), ("bios_augment.toml", 4)):
        sets = [f"sources.bios.paths=[{str(tmp_path / 'data' / 'bios.jsonl')!r}]",
                f"sources.qa.paths=[{str(tmp_path / 'data' / 'qa_train.jsonl')!r}]",
                f"output.dir={tmp_path / recipe}", *TINY]
        flags = [a for s in sets for a in ("--set", s)]
        assert main(["build", str(REPO / "recipes" / recipe), "--no-progress", *flags]) == 0
        manifest = Manifest.load(tmp_path / recipe)
        assert manifest.sources["bios"].num_docs == 12 * (1 + copies) and manifest.sources["qa"].num_docs == 36
        if copies:
            shard = pq.read_table(tmp_path / recipe / manifest.shards[0].path).to_pylist()
            aug = [r for r in shard if r["style"] == "permute+fullname"]
            assert len(aug) == 48 and not any(re.search(r"\b(He|She)\b", r["text"]) for r in aug)
        assert main(["train", str(REPO / "recipes" / recipe), "--out", str(tmp_path / f"{recipe}-run"), *flags]) == 0
        log = [json.loads(x) for x in (tmp_path / f"{recipe}-run" / "log.jsonl").read_text().splitlines()]
        assert {r["phase"] for r in log if r.get("kind") == "train"} == {"pretrain", "qa"}
