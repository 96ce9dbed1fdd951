"""MeCo prefixes (exact text and tokens on real and odd URLs) and Korbak control tokens."""

from __future__ import annotations

import bisect
import re

import numpy as np
import pyarrow as pa
import pytest
from tokenizers import Tokenizer

from curate.steps.prefix import Prefix
from curate.steps.tokenize import Tokenize
from curate.tokens.control import ControlSpec
from tests.tokens_helpers import small_tokenizer, web_rows


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory):
    return small_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json")


def meco_short_url(url: str) -> str:
    """MeCo's --use_short_url, as METHODS.md section 1 describes it (the reference)."""
    return re.sub(r"^https?://", "", url).split("/")[0]


def prefixes(urls, **kw) -> list:
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(urls))], "url": pa.array(urls, pa.string()),
                                        "source": ["web"] * len(urls)})
    return Prefix(**kw).annotate(batch).column("prefix_text").to_pylist()


def test_meco_domain_matches_reference_on_every_real_url():
    urls = [r["url"] for r in web_rows()]
    assert len(urls) == 306
    got = prefixes(urls, lowercase=False)
    assert got == [f"URL: {meco_short_url(u)}\n\n" for u in urls]


def test_meco_paper_example_text_and_tokens(tok_path):
    batch = pa.RecordBatch.from_pydict({"id": ["bg"], "text": pa.array(["Bill Gates is ..."], pa.large_string()),
                                        "url": ["https://en.wikipedia.org/wiki/Bill_Gates"], "source": ["web"]})
    out = Tokenize(tokenizer=tok_path).annotate(Prefix().annotate(batch))
    assert out.column("prefix_text")[0].as_py() == "URL: en.wikipedia.org\n\n"
    tok = Tokenizer.from_file(str(tok_path))
    prefix_ids = out.column("prefix_tokens")[0].as_py()
    assert prefix_ids == tok.encode("URL: en.wikipedia.org\n\n", add_special_tokens=False).ids
    assert tok.decode(prefix_ids) == "URL: en.wikipedia.org\n\n"
    assert tok.decode(out.column("tokens")[0].as_py()[:-1]) == "Bill Gates is ..."


ODD_URLS = {
    "example.com/no/scheme": "example.com",
    "HTTPS://WWW.Example.COM:8443/a?b": "www.example.com:8443",
    "http://user:secret@host.example.org/x": "host.example.org",
    "https://bücher.de/katalog": "bücher.de",
    "http://xn--bcher-kva.de/": "xn--bcher-kva.de",
    "//cdn.example.net/lib.js": "cdn.example.net",
    "ftp://files.example.com/pub": "files.example.com",
    "https://example.com?utm=1": "example.com",
    "https://example.com#top": "example.com",
    "  https://padded.example.com/  ": "padded.example.com",
    "http://192.168.0.1:8080/admin": "192.168.0.1:8080",
    "": "unknown",
    None: "unknown",
    "https:///path-only": "unknown",
}


def test_odd_urls_documented_fallbacks():
    urls = list(ODD_URLS)
    assert prefixes(urls) == [f"URL: {v}\n\n" for v in ODD_URLS.values()]
    assert prefixes(urls, fallback="") == [None if v == "unknown" else f"URL: {v}\n\n" for v in ODD_URLS.values()]


def test_other_kinds():
    urls = ["https://en.wikipedia.org/wiki/X", "http://localhost/", None, "https://a.b.co.uk/"]
    assert prefixes(urls, kind="url_suffix") == ["URL: org\n\n", "URL: unknown\n\n", "URL: unknown\n\n",
                                                 "URL: uk\n\n"]
    assert prefixes(urls, kind="url")[0] == "URL: https://en.wikipedia.org/wiki/X\n\n"
    assert prefixes(urls, kind="source", template="Source: {value}\n\n")[0] == "Source: web\n\n"
    hashed = prefixes(urls + ["http://EN.wikipedia.org/other"], kind="url_hash")
    assert hashed[0] == hashed[-1] and re.fullmatch(r"URL: [0-9a-f]{16}\n\n", hashed[0])
    assert hashed[0] != prefixes(urls, kind="url_hash", hash_seed=1)[0]
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b", "c"], "q": [0.1, 0.7, None], "skill": ["math", None, "code"]})
    bucket = Prefix(kind="quality_bucket", column="q", edges=(0.5,), labels=("low", "high"))
    assert bucket.annotate(batch).column("prefix_text").to_pylist() == ["URL: low\n\n", "URL: high\n\n",
                                                                        "URL: unknown\n\n"]
    topic = Prefix(kind="column", column="skill", template="Topic: {value}\n\n", fallback="")
    assert topic.annotate(batch).column("prefix_text").to_pylist() == ["Topic: math\n\n", None, "Topic: code\n\n"]


def test_document_control_tokens_threshold_and_drop_fraction():
    n = 20000
    rng = np.random.default_rng(0)
    scores = rng.random(n)
    batch = pa.RecordBatch.from_pydict({"id": [f"doc-{i}" for i in range(n)], "tox": scores})
    spec = ControlSpec(score_column="tox", threshold=0.3, drop_token_fraction=0.2, seed=7)
    got = np.array(Prefix(kind="control", control=spec).annotate(batch).column("prefix_text").to_pylist(), object)
    dropped = np.array([g is None for g in got])
    assert abs(dropped.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)
    assert set(got[~dropped & (scores <= 0.3)]) == {"<|aligned|>"}
    assert set(got[~dropped & (scores > 0.3)]) == {"<|misaligned|>"}
    again = Prefix(kind="control", control=spec).annotate(batch.slice(100, 50)).column("prefix_text").to_pylist()
    assert again == got[100:150].tolist()  # per-document draw: independent of the batch


def line_batch(rows, seed: int):
    rng = np.random.default_rng(seed)
    texts = ["\n".join(line for line in r["text"].split("\n") if line.strip()) for r in rows]
    scores = [rng.random(t.count("\n") + 1).tolist() for t in texts]
    return pa.RecordBatch.from_pydict({"id": [r["id"] for r in rows], "text": pa.array(texts, pa.large_string()),
                                       "line_tox": scores}), texts, scores


@pytest.mark.parametrize("add_bos", [False, True])
def test_line_control_tokens_at_the_right_lines(tok_path, add_bos):
    rows = web_rows()[:150]
    batch, texts, scores = line_batch(rows, 1)
    spec = ControlSpec(score_column="line_tox", threshold=0.5, drop_token_fraction=0.1, seed=3)
    out = Tokenize(tokenizer=tok_path, add_bos=add_bos, line_control=spec).annotate(batch)
    tok = Tokenizer.from_file(str(tok_path))
    total = dropped = 0
    for r, text in enumerate(texts):
        enc = tok.encode(text, add_special_tokens=False)
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        token_starts = [a for a, _ in enc.offsets]
        expected_at = {bisect.bisect_left(token_starts, s) + add_bos: (1 if score <= 0.5 else 2)
                       for s, score in zip(starts, scores[r])}
        positions = out.column("control_positions")[r].as_py()
        ids = out.column("control_ids")[r].as_py()
        assert positions == sorted(positions)
        for p, i in zip(positions, ids):
            assert expected_at[p] == i
        total += len(starts)
        dropped += len(starts) - len(positions)
    assert total > 3000
    assert abs(dropped / total - 0.1) < 4 * np.sqrt(0.1 * 0.9 / total)


def test_line_control_scores_must_match_lines(tok_path):
    batch = pa.RecordBatch.from_pydict({"id": ["x"], "text": pa.array(["a\nb"], pa.large_string()),
                                        "s": [[0.1]]})
    with pytest.raises(Exception, match="1 scores .* for 2 lines"):
        Tokenize(tokenizer=tok_path, line_control=ControlSpec(score_column="s", threshold=0.5)).annotate(batch)
