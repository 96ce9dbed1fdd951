"""decontaminate: normalised word n-grams, min_overlap, drop / spans / lines, contamination.json,
the stats table, one-line errors, and eval items planted into real documents found exactly."""

from __future__ import annotations

import json
import random
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.commands.stats import funnel_lines
from curate.decon.ngrams import NgramIndex, cut_spans, find_matches
from curate.decon.report import table_lines
from curate.errors import CurateError, OutputError, RecipeError
from curate.recipe import load_recipe
from tests.conftest import read_sample, write_jsonl, write_recipe


def strings(*texts):
    return pa.array(list(texts), pa.large_string())


def test_ngrams_match_across_case_punctuation_and_spacing_not_across_a_changed_word():
    index = NgramIndex.build(strings("What is the capital of France? Paris."), 6, 1000)
    docs = strings("quiz: WHAT is the\n capital -- of france...paris!",  # same words
                   "what is the capital of spain",  # the last word differs
                   "what is a capital of france paris")  # every 6-gram has 'a'
    m = find_matches(docs, index, 0.0)
    assert m.pairs.tolist() == [[0, 0]]
    # the matched n-grams cover "WHAT ... paris" in document 0, codepoint spans of each 6-gram
    assert [docs[0].as_py()[s:e] for _, s, e in m.spans.tolist()] == [
        "WHAT is the\n capital -- of france", "is the\n capital -- of france...paris"]
    assert find_matches(docs, NgramIndex.build(strings("what is the capital of spain"), 6, 1000),
                        0.0).pairs.tolist() == [[1, 0]]


def test_items_shorter_than_n_words_never_match_and_digits_count():
    index = NgramIndex.build(strings("two words", "the answer is 42 exactly"), 5, 1000)
    assert index.item_words.tolist() == [2, 5] and len(index.hashes) == 1
    docs = strings("two words", "THE answer is 42 exactly", "the answer is 43 exactly")
    assert find_matches(docs, index, 0.0).pairs.tolist() == [[1, 1]]


def test_min_overlap_is_the_fraction_of_item_words_covered():
    item = " ".join(f"w{i}" for i in range(20))  # 20 words
    index = NgramIndex.build(strings(item), 8, 1000)
    half = " ".join(f"w{i}" for i in range(10))  # covers words 0..9: 10 of 20 = 0.5
    most = " ".join(f"w{i}" for i in range(17))  # 17 of 20 = 0.85
    docs = strings("x " + half + " y", "x " + most + " y", "w0 w1 w2 w3 w4 w5 w6")  # 7 words: no 8-gram
    assert find_matches(docs, index, 0.0).pairs.tolist() == [[0, 0], [1, 0]]
    assert find_matches(docs, index, 0.5).pairs.tolist() == [[0, 0], [1, 0]]
    assert find_matches(docs, index, 0.8).pairs.tolist() == [[1, 0]]
    assert find_matches(docs, index, 0.9).pairs.tolist() == []


def test_spans_and_lines_are_cut_exactly():
    index = NgramIndex.build(strings("alpha beta gamma delta"), 3, 1000)
    docs = strings("keep this\nsay Alpha, beta gamma delta! now\r\nand this", "untouched", "alpha beta gamma")
    m = find_matches(docs, index, 0.0)
    spans_text, removed = cut_spans(docs, m.spans, whole_lines=False)
    assert spans_text.to_pylist() == ["keep this\nsay ! now\r\nand this", "untouched", ""]
    assert removed.tolist() == [len("Alpha, beta gamma delta"), 0, len("alpha beta gamma")]
    lines_text, removed = cut_spans(docs, m.spans, whole_lines=True)
    assert lines_text.to_pylist() == ["keep this\nand this", "untouched", ""]
    assert removed.tolist() == [len("say Alpha, beta gamma delta! now\r\n"), 0, len("alpha beta gamma")]


def _ref_pairs(docs: list[str], items: list[str], n: int) -> list[list[int]]:
    """Reference: Python sets of n-grams of lower-cased ``[^\\W_]+`` words."""
    def grams(text):
        words = re.findall(r"[^\W_]+", text.lower())
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}

    item_grams = [grams(t) for t in items]
    return [[d, i] for d, doc in enumerate(docs) for i, g in enumerate(item_grams) if g & grams(doc)]


WORDS = st.lists(st.sampled_from(["a", "B", "c", "dé", "42", "x"]), min_size=0, max_size=14)
SEPS = st.sampled_from([" ", ", ", "\n", " -- ", "!? "])


@st.composite
def texts(draw):
    words = draw(WORDS)
    return "".join(w + draw(SEPS) for w in words)


@settings(deadline=None, derandomize=True, max_examples=60)
@given(st.lists(texts(), min_size=1, max_size=4), st.lists(texts(), min_size=1, max_size=5),
       st.integers(2, 4))
def test_matches_equal_a_python_set_reference(items, docs, n):
    index = NgramIndex.build(strings(*items), n, 10_000)
    assert find_matches(strings(*docs), index, 0.0).pairs.tolist() == _ref_pairs(docs, items, n)


def test_index_is_memory_bounded():
    with pytest.raises(ValueError, match="max_index_ngrams=3"):
        NgramIndex.build(strings("a b c d e f"), 2, 3)


# ---------------------------------------------------------------- builds on real text

def _passages(docs, count, words=30):
    """``count`` passages of ``words`` words from the middle of held-out documents."""
    out = []
    for d in docs:
        w = d["text"].split()
        if len(w) >= 3 * words:
            out.append(" ".join(w[len(w) // 2: len(w) // 2 + words]))
        if len(out) == count:
            break
    return out


def _edit(passage: str, rng: random.Random) -> str:
    """The passage as it might appear in a scraped page: case, punctuation and spacing changed."""
    out = []
    for w in passage.split():
        w = w.upper() if rng.random() < 0.2 else w
        out.append(w + rng.choice([" ", "  ", ", ", "\n", " - "]))
    return "".join(out)


PLANTED = {0: [3, 17, 40], 1: [5], 2: [8, 9], 3: [60, 61, 62, 63]}  # item -> training docs


def _planted_build(tmp_path, action="drop", workers=1, out="out"):
    docs = read_sample()
    train, held_out = docs[:120], docs[200:]
    passages = _passages(held_out, 6)  # items 4 and 5 are never planted
    rng = random.Random(7)
    train = [dict(d) for d in train]
    for item, targets in PLANTED.items():
        for t in targets:
            words = train[t]["text"].split(" ")
            cut = len(words) // 2
            train[t]["text"] = " ".join(words[:cut]) + "\n" + _edit(passages[item], rng) + "\n" + \
                " ".join(words[cut:])
    write_jsonl(tmp_path / "data" / "train.jsonl", train)
    # items as question + answer, split between a JSONL and a Parquet eval set
    qa = [{"qid": f"q{i}", "question": " ".join(p.split()[:20]), "answer": " ".join(p.split()[20:])}
          for i, p in enumerate(passages)]
    write_jsonl(tmp_path / "evals" / "set_a.jsonl", qa[:3])
    pq.write_table(pa.Table.from_pylist(qa[3:]), tmp_path / "evals" / "set_b.parquet")
    recipe = write_recipe(tmp_path / "recipe.toml", f"""
[recipe]
name = "decon"

[[sources]]
name = "web"
paths = ["data/train.jsonl"]

[[steps]]
use = "decontaminate"
action = "{action}"
max_examples = 2

[[steps.eval_sets]]
name = "set_a"
paths = ["evals/set_a.jsonl"]
fields = ["question", "answer"]
id_field = "qid"

[[steps.eval_sets]]
name = "set_b"
paths = ["evals/set_b.parquet"]
fields = ["question", "answer"]

[output]
dir = "{out}"
""")
    return curate.build(load_recipe(recipe), workers=workers), train, passages


def test_planted_eval_items_are_found_exactly_in_real_documents(tmp_path):
    manifest, train, passages = _planted_build(tmp_path)
    # the clean documents share no 13-gram with any item (reference check of the fixture itself)
    planted_docs = sorted(t for ts in PLANTED.values() for t in ts)
    clean = [d["text"] for i, d in enumerate(train) if i not in planted_docs]
    assert _ref_pairs(clean, passages, 13) == []
    report = json.loads((manifest.root / "contamination.json").read_text())
    a, b = report["eval_sets"]
    assert (a["items"], a["indexed_items"], a["contaminated_items"], a["documents"]) == (3, 3, 3, 6)
    assert [(c["id"], c["documents"]) for c in a["contaminated"]] == [("q0", 3), ("q2", 2), ("q1", 1)]
    assert a["contaminated"][0]["example_ids"] == [train[3]["id"], train[17]["id"]]  # first two, input order
    assert (b["items"], b["contaminated_items"], b["documents"]) == (3, 1, 4)
    assert [(c["id"], c["documents"]) for c in b["contaminated"]] == [("set_b/0", 4)]
    assert report["documents_contaminated"] == report["documents_dropped"] == len(planted_docs)
    rejected = pq.read_table(manifest.root / "rejected").to_pylist()
    assert sorted(r["input_row"] for r in rejected) == planted_docs
    assert {r["reason"] for r in rejected} == {"contaminated"}
    stats = json.loads((manifest.root / "stats.json").read_text())
    assert stats["total"]["kept"] == 120 - len(planted_docs)
    g = stats["global_steps"]["0:decontaminate"]
    assert g["eval_sets"]["set_b"] == {"items": 3, "contaminated_items": 1, "documents": 4}
    lines = table_lines(manifest.root)
    assert lines[0].startswith("contamination (13-grams, min_overlap 0.0, action drop): 10 documents")
    assert any(line.split()[:5] == ["set_a", "3", "3", "3", "6"] for line in lines)
    assert lines == [line for line in funnel_lines(stats, manifest.root) if line in lines]


def test_lines_action_keeps_documents_without_their_contaminated_lines_same_for_two_workers(tmp_path):
    one, train, passages = _planted_build(tmp_path, action="lines", out="one")
    two, _, _ = _planted_build(tmp_path, action="lines", workers=2, out="two")
    rows = pq.read_table(one.root / "shards").sort_by("input_row").to_pylist()
    assert len(rows) == 120  # nothing dropped: every planted document has other text
    for r in rows:
        planted = r["input_row"] in {t for ts in PLANTED.values() for t in ts}
        assert (r["text"] != train[r["input_row"]]["text"]) == planted
        assert _ref_pairs([r["text"]], passages, 13) == []  # nothing of an item is left
    assert (one.root / "contamination.json").read_bytes() == (two.root / "contamination.json").read_bytes()
    assert pq.read_table(one.root / "shards").equals(pq.read_table(two.root / "shards"))


def test_eval_set_problems_are_one_line(tmp_path):
    write_jsonl(tmp_path / "e.jsonl", [{"question": "q"}])
    write_jsonl(tmp_path / "d.jsonl", [{"text": "some text"}])

    def recipe(eval_table, step=""):
        return write_recipe(tmp_path / "r.toml", f"""
[recipe]
name = "x"
[[sources]]
name = "s"
paths = ["d.jsonl"]
[[steps]]
use = "decontaminate"
{step}
[[steps.eval_sets]]
{eval_table}
[output]
dir = "out"
""")

    with pytest.raises(CurateError, match="no record has the field 'answer'"):
        curate.build(load_recipe(recipe('name = "e"\npaths = ["e.jsonl"]\nfields = ["question", "answer"]')),
                     overwrite=True)
    with pytest.raises(CurateError, match="does not exist"):
        curate.build(load_recipe(recipe('name = "e"\npaths = ["nope.jsonl"]')), overwrite=True)
    with pytest.raises(RecipeError, match="ngram_size=0 is out of range"):
        load_recipe(recipe('name = "e"\npaths = ["e.jsonl"]', "ngram_size = 0"))
    with pytest.raises(RecipeError, match="unknown key 'field'"):
        load_recipe(recipe('name = "e"\npaths = ["e.jsonl"]\nfield = ["q"]'))


def test_editing_an_eval_file_changes_the_fingerprint_and_refuses_the_old_output(tmp_path):
    manifest, _, _ = _planted_build(tmp_path)
    recipe = load_recipe(tmp_path / "recipe.toml")
    assert recipe.fingerprint() == manifest.recipe.fingerprint
    evals = tmp_path / "evals" / "set_a.jsonl"
    evals.write_text(evals.read_text().replace('"q0"', '"q0-edited"'))
    edited = load_recipe(tmp_path / "recipe.toml")
    assert edited.fingerprint() != manifest.recipe.fingerprint
    with pytest.raises(OutputError, match="different recipe fingerprint"):
        curate.build(edited)  # the finished build of the old eval set is not silently reused
    rebuilt = curate.build(edited, overwrite=True)
    ids = [c["id"] for c in json.loads((rebuilt.root / "contamination.json").read_text())["eval_sets"][0]["contaminated"]]
    assert ids[0] == "q0-edited"  # the edited file was read again, not a cached index
