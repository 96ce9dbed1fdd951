"""Lexicon (toxicity word/phrase list) rates: exact counts and a differential check against a
plain-Python reference."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.steps.word_list_score import WordListScore, lexicon_rate, load_lexicon


def _lexicon(tmp_path, lines: list[str]):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_exact_rates_words_and_phrases(tmp_path) -> None:
    path = _lexicon(tmp_path, ["# comment", "Damn", "shut up", "", "b c", "çà"])
    step = WordListScore(words_path=path, column="tox")
    texts = ["damn, DAMN it", "shut   up! a b c", "", "Shut", "ÇÀ va", "up shut", "b c b c"]
    batch = pa.RecordBatch.from_arrays([pa.array(texts, pa.large_string())], names=["text"])
    out = step.annotate(batch).column("tox").to_pylist()
    assert out == pytest.approx([2 / 3, 2 / 5, 0.0, 0.0, 1 / 2, 0.0, 2 / 4])


def _reference(text: str, terms: list[str]) -> float:
    words = re.sub(r"[\W_]+", " ", text.lower()).split()
    phrases = [re.sub(r"[\W_]+", " ", t.lower()).split() for t in terms]
    hits = sum(words[i : i + len(p)] == p for p in {tuple(p): p for p in phrases if p}.values()
               for i in range(len(words) - len(p) + 1))
    return hits / max(len(words), 1)


VOCAB = ["ab", "cd", "Ef", "gh", "ij", "é", "1"]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    texts=st.lists(st.lists(st.sampled_from(VOCAB + [",", "!", " "]), max_size=12), min_size=1, max_size=6),
    terms=st.lists(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3), min_size=1, max_size=4),
)
def test_matches_python_reference(tmp_path_factory, texts, terms) -> None:
    docs = [" ".join(t) for t in texts]
    lines = [" ".join(t) for t in terms]
    path = _lexicon(tmp_path_factory.mktemp("lex"), lines)
    load_lexicon.cache_clear()
    got = lexicon_rate(pa.array(docs, pa.large_string()), load_lexicon(path))
    assert got.tolist() == pytest.approx([_reference(d, lines) for d in docs], rel=1e-6)
