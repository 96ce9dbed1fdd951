"""The spaCy-English word splitter (curate/kernels/words.py, its tables in curate/text/words.py) and
sentence counter: exact tokens on the cases spaCy's rules single out, and a differential check
against spaCy itself on real pages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from curate.text.charclass import char_flags
from curate.kernels.sentences import count_sentences
from curate.kernels.words import tokenize
from curate.text.words import word_tables

REPO = Path(__file__).resolve().parents[1]


def buffers(text: str):
    cps = np.array([ord(c) for c in text], np.int32)
    n = len(cps)
    return cps, np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64), np.zeros(4 * n + 4, np.int64)


def words(text: str) -> list[str]:
    cps, ts, te, stack = buffers(text)
    n = tokenize(cps, 0, len(cps), *word_tables(), ts, te, stack)
    return [text[ts[i]:te[i]] for i in range(n)]


def sentences(text: str) -> int:
    cps, ts, te, stack = buffers(text)
    return count_sentences(cps, 0, len(cps), *word_tables(), ts, te, stack)


@pytest.mark.parametrize("text,expected", [
    ("word.", ["word", "."]),  # period after a lower-case letter is a suffix
    ("ABC. A. I.B.M.", ["ABC", ".", "A.", "I.B.M."]),  # ... after two capitals too, not after one
    ("end...", ["end", "..."]),
    ('"Hello," she said.', ['"', "Hello", ",", '"', "she", "said", "."]),
    ("(see http://x.com/a-b.)", ["(", "see", "http://x.com/a-b", ".", ")"]),  # URLs are not split
    ("well-known 3-4 and/or 50% 10km", ["well", "-", "known", "3", "-", "4", "and/or", "50", "%", "10", "km"]),
    ("$5 US$5 C++ don't can't John's", ["$", "5", "US$", "5", "C++", "do", "n't", "ca", "n't", "John", "'s"]),
    ("e.g., Mr. Smith end.Next", ["e.g.", ",", "Mr.", "Smith", "end", ".", "Next"]),
    ("--foo a--b x......y #tag 5+ +5 +a", ["--foo", "a", "--", "b", "x", "......", "y", "#", "tag", "5", "+",
                                           "+5", "+", "a"]),
    ("foo/bar 1/2 :) word):", ["foo", "/", "bar", "1/2", ":)", "word", "):"]),
    ("  tabs\tand\nnewlines  ", ["tabs", "and", "newlines"]),
    ("", []),
])
def test_spacy_rules(text, expected):
    assert words(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("Hello world. This is Mr. Smith. He is here! ok", 4),
    ("One sentence without an end", 1),
    ("Wait... what?! Yes.", 2),  # "..." is not a sentence end; "?" then "!" is one end
    ("He said. [2]  Then.", 2),  # "[" is punctuation: the sentence starts at "2"
    ("Done.  .", 2),  # the second space is a whitespace token, which starts a sentence
    ('"Go." She went.', 2),
])
def test_sentence_counts(text, expected):
    assert sentences(text) == expected


def test_char_flags_match_python():
    flags = char_flags()
    from curate.text import charclass as cc

    for ch in "aZé ß\t\n\u00a0\u2028日1#…":
        assert bool(flags[ord(ch)] & cc.ALPHA) == ch.isalpha()
        assert bool(flags[ord(ch)] & cc.SPACE) == ch.isspace()


def test_same_tokens_as_spacy_on_real_pages():
    """>= 97 % of pages split exactly as spaCy does and token counts differ by < 0.1 % (measured: all
    918 web_sample pages; see test_quality_filters_vs_datatrove for where they can differ)."""
    spacy = pytest.importorskip("spacy")
    zstandard = pytest.importorskip("zstandard")
    nlp = spacy.blank("en")
    with open(REPO / "tests" / "data" / "web_sample.jsonl.zst", "rb") as f:
        lines = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8")
        texts = [json.loads(line)["text"] for _, line in zip(range(150), lines)]
    same_docs = count_diff = total_tokens = 0
    for text in texts:
        theirs = [t.text.strip() for t in nlp(text) if t.text.strip()]
        ours = words(text)
        same_docs += ours == theirs
        count_diff += abs(len(ours) - len(theirs))
        total_tokens += len(theirs)
    assert same_docs >= 0.97 * len(texts)
    assert count_diff < 0.001 * total_tokens


def test_table_keys_are_the_kernels_span_keys():
    """The special-case table is keyed in Python (curate/text/words.py, no numba); the tokenizer looks
    keys up with its compiled ``span_key``: both give the same key for every special case."""
    from curate.kernels.words import span_key as kernel_span_key
    from curate.text import reference_data as ref
    from curate.text.words import span_key

    for orth in [*ref.SPACY_EXCEPTIONS, "", "\u00e9\U0001f600"]:
        cps = np.array([ord(c) for c in orth], np.int32)
        assert span_key(orth) == int(kernel_span_key(cps, 0, len(cps))), orth
