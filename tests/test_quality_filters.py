"""Exact outputs of the quality-filter steps (gopher_quality, gopher_repetition, c4, fineweb_quality)
on tiny inline texts, one per rule. Where datatrove is installed, its own filters must give the same
reason on the same text (a cheap fidelity check; the large differential test is in
test_quality_filters_vs_datatrove.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from curate.config import from_table
from curate.errors import RecipeError
from curate.steps.c4 import C4
from curate.steps.fineweb_quality import FineWebQuality
from curate.steps.gopher_quality import GopherQuality
from curate.steps.gopher_repetition import GopherRepetition

S = "The cat sat on the mat and looked at the dog with a calm face."
PARAGRAPH = (
    "Rain fell over the harbour for most of the week. Fishermen stayed ashore and mended their nets "
    "while the children watched gulls circle the empty boats. On Friday the wind turned north, "
    "the sky cleared, and by evening the first crews were loading ice and bait for an early start."
)
C4_LINES = [
    "The cat sat on the mat.", "It looked at the dog.", "The dog did not care at all!", "Menu Home About",
    "Enable javascript to see this page.", "Read our privacy policy here.", "Then it rained [1] all day.",
    "They went home. It was late.", "click",
]
C4_KEPT = ("The cat sat on the mat.\nIt looked at the dog.\nThe dog did not care at all!\n"
           "Then it rained  all day.\nThey went home. It was late.")


def batch_of(*texts: str) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(texts))],
                                       "text": pa.array(list(texts), pa.large_string())})


def reasons(step, *texts: str) -> list[str | None]:
    batch = batch_of(*texts)
    if hasattr(step, "annotate"):
        batch = step.annotate(batch)
    return step.reject(batch).to_pylist()


def datatrove_reason(filter_name: str, text: str) -> str | None:
    filters = pytest.importorskip("datatrove.pipeline.filters")
    pytest.importorskip("spacy")
    from datatrove.data import Document

    result = getattr(filters, filter_name)().filter(Document(text=text, id="0"))
    return None if result is True else result[1]


GOPHER_QUALITY_CASES = [
    (" ".join([S] * 5), None),
    ("The cat sat on the mat.", "gopher_short_doc"),
    (" ".join(["Extraordinarily"] * 60) + " the and", "gopher_above_avg_threshold"),
    (" ".join([S] * 5) + " #" * 10, "gopher_too_many_hashes"),
    (" ".join([S] * 5) + " ..." * 10, "gopher_too_many_ellipsis"),
    ("\n".join(["- the cat and the dog sat"] * 10), "gopher_too_many_bullets"),
    ("\n".join([S[:-1] + "...", S]) * 3, "gopher_too_many_end_ellipsis"),
    (" ".join([S] * 3) + " 1234567" * 30, "gopher_below_alpha_threshold"),
    (" ".join(["Cats sit on mats near dogs."] * 12), "gopher_enough_stop_words"),
]


@pytest.mark.parametrize("text,expected", GOPHER_QUALITY_CASES)
def test_gopher_quality_rules(text, expected):
    assert reasons(GopherQuality(), text) == [expected]
    assert datatrove_reason("GopherQualityFilter", text) == expected


def test_gopher_quality_overrides():
    short = "The cat sat on the mat with the dog."
    assert reasons(GopherQuality(), short) == ["gopher_short_doc"]
    assert reasons(GopherQuality(min_doc_words=5), short) == [None]
    assert reasons(GopherQuality(min_doc_words=None), short) == [None]
    no_stop = " ".join(["Cats sit on mats near dogs."] * 12)
    assert reasons(GopherQuality(stop_words=("Cats", "dogs")), no_stop) == [None]


GOPHER_REPETITION_CASES = [
    (PARAGRAPH, None),
    ("", "empty"),
    ("\n\n".join([S, S, S, PARAGRAPH]), "dup_para_frac"),
    ("\n".join([S, S, S, "x\n\n" + PARAGRAPH]), "dup_line_frac"),
    (" ".join(["big dog"] * 30) + " " + PARAGRAPH, "top_2_gram"),
    (PARAGRAPH + " " + " ".join(["one two three four five"] * 3), "duplicated_10_n_grams"),  # 38 of 330 chars
]


@pytest.mark.parametrize("text,expected", GOPHER_REPETITION_CASES)
def test_gopher_repetition_rules(text, expected):
    assert reasons(GopherRepetition(), text) == [expected]
    assert datatrove_reason("GopherRepetitionFilter", text) == expected


def test_gopher_repetition_reason_names_follow_sizes():
    step = GopherRepetition(top_ngram_sizes=(3,), top_ngram_max_fracs=(0.01,), dup_ngram_sizes=(), dup_ngram_max_fracs=())
    assert reasons(step, PARAGRAPH) == ["top_3_gram"]
    with pytest.raises(ValueError, match="top_ngram_max_fracs has 1 values for 2"):
        GopherRepetition(top_ngram_sizes=(2, 3), top_ngram_max_fracs=(0.2,))


def test_c4_removes_lines_and_rewrites_kept_text():
    text = "\n".join(C4_LINES)
    out = C4().annotate(batch_of(text, "\n".join(C4_LINES[:2])))
    assert out.column("text").to_pylist() == [C4_KEPT, "\n".join(C4_LINES[:2])]  # dropped: text unchanged
    assert C4().reject(out).to_pylist() == [None, "too_few_sentences"]
    assert datatrove_reason("C4QualityFilter", text) is None


@pytest.mark.parametrize("extra,expected", [
    ("Lorem ipsum dolor sit amet.", "lorem_ipsum"),
    ("x = {a: 1} is code.", "curly_bracket"),
    ("x = {a: 1} is code", None),  # the line is removed (no terminal punctuation) before the { check
])
def test_c4_document_rules(extra, expected):
    text = "\n".join(C4_LINES + [extra])
    assert reasons(C4(), text) == [expected]
    assert datatrove_reason("C4QualityFilter", text) == expected


def test_c4_options():
    text = "\n".join(C4_LINES)
    kept_lines = C4(remove_lines=False).annotate(batch_of(text))
    assert kept_lines.column("text").to_pylist() == [text]
    assert reasons(C4(min_num_sentences=7), text) == ["too_few_sentences"]  # 6 sentences kept
    assert reasons(C4(min_num_sentences=6), text) == [None]
    assert C4(remove_citations=False).annotate(batch_of(text)).column("text")[0].as_py() == C4_KEPT.replace(
        "rained  all", "rained [1] all")
    assert C4().reject(batch_of(text)).to_pylist() == [None]  # without annotate: computed directly


FINEWEB_CASES = [
    ("\n".join([PARAGRAPH, S, "Short line.", "Another sentence of the page is here."]), None),
    ("   \n\n", "empty"),
    ("\n".join(["Home page of the cat sat on the mat", "About us and our team", "The cat sat on the mat."] * 1
               + ["Contact the people who run this"] * 6), "line_punct_ratio"),
    ("\n".join(["Home", "About us", "Contact", "The cat sat on the mat."]), "short_line_ratio"),
    ("\n".join([PARAGRAPH, S, S]), "char_dup_ratio"),
    ("\n".join(f"Supercalifragilisticexpialidocious{i}." for i in range(5)), "list_ratio"),
]


@pytest.mark.parametrize("text,expected", FINEWEB_CASES)
def test_fineweb_quality_rules(text, expected):
    assert reasons(FineWebQuality(), text) == [expected]
    assert datatrove_reason("FineWebQualityFilter", text) == expected


def test_fineweb_overrides():
    text = "\n".join(["Home", "About us", "Contact", "The cat sat on the mat."])
    assert reasons(FineWebQuality(short_line_thr=1.0), text) == [None]
    no_punct = "\n".join(["A line that is quite long but has no end", "Another long line without an end mark"])
    assert reasons(FineWebQuality(), no_punct) == ["line_punct_ratio"]
    assert reasons(FineWebQuality(line_punct_exclude_zero=True), no_punct) == [None]
    assert reasons(FineWebQuality(stop_chars=("d",)), no_punct) == [None]


def test_recipe_errors_name_the_key():
    with pytest.raises(RecipeError, match=r"steps\[0\] \(gopher_quality\): min_doc_words=-1 is out of range"):
        from_table(GopherQuality, {"min_doc_words": -1}, "steps[0] (gopher_quality)")
    with pytest.raises(RecipeError, match="unknown key 'split_paragraph'"):
        from_table(C4, {"split_paragraph": False}, "steps[0] (c4)")
    with pytest.raises(RecipeError, match="each must be one character"):
        from_table(FineWebQuality, {"stop_chars": [".."]}, "steps[0] (fineweb_quality)")


def test_empty_batch_and_unicode():
    assert reasons(GopherQuality()) == []
    text = "Ünïcödé façade — naïve café. " * 20
    for step in (GopherQuality(), GopherRepetition(), C4(), FineWebQuality()):
        assert len(reasons(step, text, "")) == 2
