"""lm_score (small-model loss per document) against a one-document-at-a-time HF reference, its
batching/padding/truncation invariants, and score_band (SALT-style band selection) exactly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.build import build
from curate.errors import CurateError
from curate.recipe import load_recipe
from curate.steps.lm_score import LmScore, length_batches
from curate.steps.score_band import ScoreBand, band_codes
from tests.lm_helpers import tiny_model_dir
from tests.train_support import WEB, read_web

torch = pytest.importorskip("torch")
MAX_TOKENS = 48


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: the machine is shared, and many threads make tiny models crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, one_thread) -> Path:
    return tiny_model_dir(tmp_path_factory.mktemp("lm"), train_steps=200)


def _texts() -> list[str]:
    docs = [d["text"] for d in read_web(90)[60:90]]  # not trained on
    return docs[:12] + ["", "Hi", docs[12][:40]]


def _batch(texts: list[str], tokens: list[list[int]] | None = None) -> pa.RecordBatch:
    cols = {"text": pa.array(texts, pa.large_string())}
    if tokens is not None:
        cols["tokens"] = pa.array(tokens, pa.list_(pa.uint16()))
    return pa.RecordBatch.from_pydict(cols)


def _reference(model_dir: Path, ids_per_doc: list[list[int]], max_tokens: int) -> list[float | None]:
    """HF's own loss, one document at a time: model(ids, labels=ids).loss on the first max_tokens."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True).eval()
    out = []
    with torch.inference_mode():
        for ids in ids_per_doc:
            ids = ids[:max_tokens]
            x = torch.tensor([ids])
            out.append(model(input_ids=x, labels=x).loss.item() if len(ids) >= 2 else None)
    return out


def _ids(model_dir: Path, texts: list[str]) -> list[list[int]]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    eos = tok.token_to_id("<|endoftext|>")
    return [tok.encode(t, add_special_tokens=False).ids + [eos] for t in texts]


def _scores(step: LmScore, batch: pa.RecordBatch) -> list[float | None]:
    return step.annotate(batch).column(step.column).to_pylist()


def _close(got: list, want: list, tol: float = 1e-5) -> None:
    assert [g is None for g in got] == [w is None for w in want]
    assert all(abs(g - w) <= tol for g, w in zip(got, want) if w is not None), (got, want)


def test_text_and_tokens_scores_equal_the_reference(model_dir) -> None:
    texts = _texts()
    ids = _ids(model_dir, texts)
    want = _reference(model_dir, ids, MAX_TOKENS)
    assert want[12] is None and want[13] is not None  # "" is [EOS] alone: no prediction to score
    assert any(len(i) > MAX_TOKENS for i in ids) and any(len(i) < MAX_TOKENS for i in ids)
    step = LmScore(model=model_dir, max_tokens=MAX_TOKENS, ppl_column="lm_ppl")
    out = step.annotate(_batch(texts))
    _close(out.column("lm_loss").to_pylist(), want)
    assert out.column("lm_loss").type == pa.float32()
    ppl = out.column("lm_ppl").to_pylist()
    _close(ppl, [None if w is None else math.exp(w) for w in want], tol=1e-3)
    # the build's tokens column is used when present (here: the same ids -> the same scores)
    _close(_scores(step, _batch(texts, ids)), want)
    _close(_scores(LmScore(model=model_dir, max_tokens=MAX_TOKENS, ids="text"), _batch(texts, ids)), want)


def test_batch_split_and_padding_invariance(model_dir) -> None:
    texts = _texts()
    one = _scores(LmScore(model=model_dir, max_tokens=MAX_TOKENS, batch_tokens=10**6), _batch(texts))
    per_doc = _scores(LmScore(model=model_dir, max_tokens=MAX_TOKENS, batch_tokens=2), _batch(texts))
    _close(per_doc, one)
    step = LmScore(model=model_dir, max_tokens=MAX_TOKENS, batch_tokens=100)
    sliced = [s for k in range(0, len(texts), 4) for s in _scores(step, _batch(texts[k : k + 4]))]
    _close(sliced, one)


def test_truncation_uses_exactly_the_first_max_tokens(model_dir) -> None:
    texts = _texts()[:4]
    ids = _ids(model_dir, texts)
    for max_tokens in (2, 17):
        _close(_scores(LmScore(model=model_dir, max_tokens=max_tokens), _batch(texts)),
               _reference(model_dir, ids, max_tokens))


def test_repeated_text_scores_lower_than_real_pages(model_dir) -> None:
    real = [d["text"][:2000] for d in read_web(90)[60:90]]
    repeated = " ".join(["the"] * 200)
    scores = _scores(LmScore(model=model_dir, max_tokens=MAX_TOKENS), _batch([repeated] + real))
    assert scores[0] < min(scores[1:])


def test_tokens_from_another_tokenizer_fail_with_a_message(model_dir) -> None:
    with pytest.raises(CurateError, match="vocab_size"):
        LmScore(model=model_dir).annotate(_batch(["a b"], [[1, 60000]]))
    with pytest.raises(CurateError, match="config.json"):
        LmScore(model=model_dir.parent).annotate(_batch(["a b c"]))


def test_length_batches_respect_the_token_budget() -> None:
    lengths = np.array([5, 1, 9, 3, 3, 20])
    groups = length_batches(lengths, 10)
    assert sorted(np.concatenate(groups).tolist()) == list(range(6))
    assert all(len(g) == 1 or len(g) * lengths[g].max() <= 10 for g in groups)
    assert [g.tolist() for g in groups] == [[1, 3, 4], [0], [2], [5]]


@settings(deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 5), max_size=40), st.floats(0, 0.5), st.floats(0, 0.5))
def test_band_codes_match_a_sorted_reference(values, bottom, top) -> None:
    scores = np.array(values, float)
    n = len(values)
    ranked = sorted(range(n), key=lambda i: (values[i], i))
    num_bottom = math.floor(bottom * n + 0.5)
    num_top = min(math.floor(top * n + 0.5), n - num_bottom)
    want = np.full(n, -1)
    want[ranked[:num_bottom]] = 1
    want[ranked[n - num_top :]] = 2
    assert band_codes(scores, bottom, top).tolist() == want.tolist()


def test_score_band_rejects_overlapping_fractions() -> None:
    with pytest.raises(ValueError, match="drop_bottom_frac"):
        ScoreBand(column="x", drop_bottom_frac=0.6, drop_top_frac=0.5)


def test_build_keeps_exactly_the_band(tmp_path, model_dir) -> None:
    recipe = tmp_path / "salt.toml"
    recipe.write_text(f"""
[recipe]
name = "salt-test"
[[sources]]
name = "web"
paths = ["{WEB}"]
[[steps]]
use = "length"
min_words = 50
[[steps]]
use = "lm_score"
model = "{model_dir}"
max_tokens = 32
num_threads = 1
[[steps]]
use = "score_band"
column = "lm_loss"
drop_bottom_frac = 0.2
drop_top_frac = 0.1
[output]
dir = "{tmp_path / 'out'}"
""")
    manifest = build(load_recipe(recipe))
    kept = pa.concat_tables([pq.read_table(p) for p in manifest.shard_paths()])
    # the reference: score every document that passed `length`, rank by (loss, input order)
    docs = [d for d in read_web() if len(d["text"].split()) >= 50]
    scores = _scores(LmScore(model=model_dir, max_tokens=32), _batch([d["text"] for d in docs]))
    n = len(docs)
    ranked = sorted(range(n), key=lambda i: (scores[i], i))
    band = ranked[math.floor(0.2 * n + 0.5) : n - math.floor(0.1 * n + 0.5)]
    assert sorted(kept.column("id").to_pylist()) == sorted(docs[i]["id"] for i in band)
