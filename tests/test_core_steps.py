"""Exact outputs of the core steps (length, url_blocklist, exact_dedup keys, lang_id) on tiny data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from curate import schema
from curate.steps.exact_dedup import ExactDedup
from curate.steps.lang_id import LangId
from curate.steps.length import Length
from curate.steps.step import first_reason
from curate.steps.url_blocklist import UrlBlocklist
from curate.text.urls import url_host
from curate.text.hashing import hash_strings
from curate.text.normalize import normalize_text


def docs(texts, urls=None) -> pa.RecordBatch:
    n = len(texts)
    return pa.RecordBatch.from_arrays(
        [pa.array([f"d{i}" for i in range(n)]), pa.array(texts, pa.large_string()), pa.array(["s"] * n),
         pa.array(urls or [None] * n, pa.string()), pa.nulls(n, schema.TIMESTAMP_TYPE),
         pa.nulls(n, pa.string()), pa.array(["f"] * n), pa.array(range(n), pa.int64())],
        schema=schema.DOC_SCHEMA)


def reasons(step, batch):
    out = step.reject(batch)
    return [None if r is None else str(r) for r in out.to_pylist()]


def test_first_reason_takes_the_first_failed_rule_in_order():
    got = first_reason([("a", np.array([1, 0, 0, 1])), ("b", np.array([1, 1, 0, 0]))], 4)
    assert got.to_pylist() == ["a", "b", None, "a"]


def test_length_bounds():
    batch = docs(["  ", "one two three", "a\nb\nc d e f", "x" * 50])
    step = Length(min_chars=3, max_chars=40, min_words=3, min_lines=2)
    assert reasons(step, batch) == ["too_short_chars", "too_few_lines", None, "too_long_chars"]
    assert reasons(Length(min_chars=1, max_words=2), batch) == ["too_short_chars", "too_many_words", "too_many_words", None]


def test_url_hosts_and_blocklist(tmp_path):
    urls = ["https://www.Example.com/a", "http://user:pw@sub.example.com:8080/x", "example.org/path",
            "https://notexample.com/", None, "ftp://a.b.c.example.com"]
    assert url_host(pa.array(urls)).to_pylist() == [
        "www.example.com", "sub.example.com", "example.org", "notexample.com", None, "a.b.c.example.com"]
    path = tmp_path / "block.txt"
    path.write_text("# comment\nexample.com\n\n")
    step = UrlBlocklist(path=path)
    assert reasons(step, docs(["t"] * 6, urls)) == ["url_blocked", "url_blocked", None, None, None, "url_blocked"]


def test_exact_dedup_key_ignores_case_punctuation_spacing_and_digits():
    norm = normalize_text(pa.array(["Hello,  World! 2024", "hello world 1999", "hello there"]))
    assert norm.to_pylist() == ["hello world 0000", "hello world 0000", "hello there"]
    h = ExactDedup().prepare(docs(["Hello,  World! 2024", "hello world 1999", "hello there"]))
    keys = h.column("_exact_hash").to_pylist()
    assert keys[0] == keys[1] != keys[2]


def test_hash_strings_is_stable_and_seeded():
    arr = pa.array(["", "a", "abcdefgh", "abcdefghi", None])
    h0, h1 = hash_strings(arr, 0), hash_strings(arr, 1)
    assert len(set(h0.tolist())) == 4 and h0[0] == h0[4]  # null hashes like ""
    assert (h0 != h1).all()
    assert (hash_strings(pa.array(["abcdefghi"]), 0) == h0[3]).all()
    sliced = pa.array(["zz", "abcdefgh", "a"]).slice(1, 2)
    assert hash_strings(sliced, 0).tolist() == [h0[2], h0[1]]


def test_lang_id_annotates_and_filters():
    batch = docs(["The quick brown fox jumps over the lazy dog and keeps running through the field.",
                  "Le renard brun rapide saute par-dessus le chien paresseux et continue de courir.",
                  "Der schnelle braune Fuchs springt über den faulen Hund und rennt weiter."])
    step = LangId(languages=("en", "de"), min_score=0.5)
    out = step.annotate(batch)
    assert out.column("lang").to_pylist() == ["en", "fr", "de"]
    assert all(0.5 < s <= 1.0 for s in out.column("lang_score").to_pylist())
    assert reasons(step, out) == [None, "lang_not_allowed", None]
    assert reasons(LangId(languages=(), min_score=1.0), out) == ["lang_low_score"] * 3


@pytest.mark.parametrize("bad", [{"min_chars": -1}, {"max_chars": 0, "min_chars": 5}])
def test_length_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match="out of range"):
        Length(**bad)


def test_word_counts_ignore_edge_whitespace_and_empty_text():
    from curate.steps.length import char_word_counts

    assert char_word_counts(pa.array(["hello world ", "", "  ", " a\tb\nc "]))[1].tolist() == [2, 0, 0, 3]
