"""Tokenizer training and the tokenize step: exact tokens, BOS/EOS, batching, special tokens."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from tokenizers import Tokenizer

from curate.errors import CurateError
from curate.steps.prefix import Prefix
from curate.steps.tokenize import Tokenize
from curate.tokens.encode import add_bos_eos, encode_unique, ids_array
from curate.tokens.tokenizer import file_sha256, token_dtype
from tests.tokens_helpers import SPECIALS, small_tokenizer, web_batch, web_rows


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory):
    return small_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json")


@pytest.fixture(scope="module")
def rows():
    return web_rows()[:120]


def test_bpe_training_is_deterministic_and_has_specials_first(tmp_path, tok_path):
    again = small_tokenizer(tmp_path / "again.json")
    assert file_sha256(again) == file_sha256(tok_path)
    tok = Tokenizer.from_file(str(tok_path))
    assert [tok.token_to_id(s) for s in SPECIALS] == [0, 1, 2]
    assert tok.get_vocab_size() == 600


def test_tokens_equal_raw_encode_plus_eos(tok_path, rows):
    batch = Tokenize(tokenizer=tok_path).annotate(web_batch(rows))
    raw = Tokenizer.from_file(str(tok_path))
    expected = [e.ids + [0] for e in raw.encode_batch([r["text"] for r in rows], add_special_tokens=False)]
    assert batch.column("tokens").to_pylist() == expected
    assert batch.column("tokens").type == pa.list_(pa.uint16())
    assert batch.column("num_tokens").to_pylist() == [len(e) for e in expected]
    assert batch.column("control_positions").to_pylist() == [[]] * len(rows)
    assert "prefix_tokens" not in batch.schema.names


@pytest.mark.parametrize("chunk_chars", [1, 3_000, 50_000])
def test_chunked_encoding_equals_one_call(tok_path, rows, chunk_chars, monkeypatch):
    """encode_texts cuts the batch into chunks of ENCODE_CHUNK_CHARS characters (bounded memory):
    the tokens equal one raw encode_batch over every document, for any chunk size."""
    from curate.tokens import encode

    monkeypatch.setattr(encode, "ENCODE_CHUNK_CHARS", chunk_chars)
    texts = [r["text"] for r in rows] + [""]
    raw = Tokenizer.from_file(str(tok_path))
    expected = [[5] + e.ids + [0] for e in raw.encode_batch(texts, add_special_tokens=False)]
    got = encode.encode_texts(raw, texts, np.dtype(np.uint16), bos_id=5, eos_id=0)
    assert got.to_pylist() == expected


def test_bos_and_no_eos(tok_path, rows):
    step = Tokenize(tokenizer=tok_path, add_bos=True, add_eos=False, bos_token="<|endoftext|>")
    tokens = step.annotate(web_batch(rows[:5])).column("tokens").to_pylist()
    raw = Tokenizer.from_file(str(tok_path))
    assert tokens == [[0] + raw.encode(r["text"], add_special_tokens=False).ids for r in rows[:5]]


def test_add_bos_eos_handles_empty_documents():
    flat, lengths = add_bos_eos(np.array([5, 6, 7], np.uint16), np.array([2, 0, 1]), bos_id=1, eos_id=0)
    assert flat.tolist() == [1, 5, 6, 0, 1, 0, 1, 7, 0]
    assert lengths.tolist() == [4, 2, 3]


def test_uint32_above_65536_ids():
    assert token_dtype(65536) == np.uint16 and token_dtype(65537) == np.uint32
    arr = ids_array([[70000, 1], []], np.dtype(np.uint32), eos_id=65999)
    assert arr.type == pa.list_(pa.uint32()) and arr.to_pylist() == [[70000, 1, 65999], [65999]]


@pytest.mark.parametrize("k", [2, 3, 7])
def test_batches_split_k_ways_equal_one_batch(tok_path, rows, k):
    step_prefix, step = Prefix(kind="url_domain"), Tokenize(tokenizer=tok_path)
    whole = step.annotate(step_prefix.annotate(web_batch(rows)))
    cuts = np.linspace(0, len(rows), k + 1).astype(int)
    parts = [step.annotate(step_prefix.annotate(web_batch(rows[a:b]))) for a, b in zip(cuts[:-1], cuts[1:])]
    assert pa.Table.from_batches(parts).equals(pa.Table.from_batches([whole]))


def test_special_token_text_in_documents_is_plain_text(tok_path):
    text = "before <|endoftext|> middle <|aligned|> after"
    batch = pa.RecordBatch.from_pydict({"id": ["x"], "text": pa.array([text], pa.large_string())})
    tokens = Tokenize(tokenizer=tok_path).annotate(batch).column("tokens")[0].as_py()
    assert tokens[-1] == 0 and not set(tokens[:-1]) & {0, 1, 2}
    assert Tokenizer.from_file(str(tok_path)).decode(tokens[:-1]) == text


def test_prefix_tokens_encode_each_distinct_prefix_once_and_keep_nulls(tok_path):
    tok = Tokenizer.from_file(str(tok_path))
    values = pa.array(["URL: a.org\n\n", None, "URL: a.org\n\n", "<|aligned|>"])
    got = encode_unique(tok, values, np.dtype(np.uint16)).to_pylist()
    assert got == [tok.encode("URL: a.org\n\n").ids, None, tok.encode("URL: a.org\n\n").ids, [1]]


def test_unknown_control_token_in_prefix_is_an_error(tok_path):
    batch = pa.RecordBatch.from_pydict({"id": ["x"], "text": pa.array(["t"], pa.large_string()),
                                        "prefix_text": ["<|toxic|>"]})
    with pytest.raises(CurateError, match="not a special token"):
        Tokenize(tokenizer=tok_path).annotate(batch)


def test_hf_folder_with_config_names_eos(tmp_path, tok_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes(tok_path.read_bytes())
    (folder / "tokenizer_config.json").write_text('{"eos_token": "<|misaligned|>"}')
    batch = pa.RecordBatch.from_pydict({"id": ["x"], "text": pa.array(["hello"], pa.large_string())})
    assert Tokenize(tokenizer=folder).annotate(batch).column("tokens")[0].as_py()[-1] == 2


def test_tokens_recipe_parses_with_the_documented_steps():
    from curate.recipe import load_recipe
    from tests.tokens_helpers import REPO

    recipe = load_recipe(REPO / "recipes" / "tokens.toml")
    names = [s.name for s in recipe.steps]
    assert names[-3:] == ["train_tokenizer", "prefix", "tokenize"]
    assert recipe.steps[-3].vocab_size == 4096 and recipe.steps[-2].kind == "url_domain"


def test_tokenize_without_any_tokenizer_says_what_to_do(tmp_path):
    with pytest.raises(CurateError, match="train_tokenizer step before tokenize"):
        Tokenize().annotate(pa.RecordBatch.from_pydict({"id": ["x"], "text": pa.array(["a"], pa.large_string())}))


def _resolve_train(tmp_path, step, batches, seed=0):
    import pyarrow.parquet as pq

    from curate.steps.step import ResolveContext

    parts, decisions = [], []
    for i, b in enumerate(batches):
        parts.append(tmp_path / f"p{i}.parquet")
        decisions.append(tmp_path / f"d{i}.parquet")
        pq.write_table(pa.Table.from_batches([step.prepare(b)]), parts[-1])
    ctx = ResolveContext(part_paths=parts, decision_paths=decisions, scratch_dir=tmp_path, seed=seed,
                         num_workers=1)
    stats = step.resolve(ctx)
    assert stats["artefacts"] == ["tokenizer.json"] and (tmp_path / "tokenizer.json").is_file()  # in scratch
    kept = [pq.read_table(d).column("reason").null_count for d in decisions]
    assert kept == [b.num_rows for b in batches]  # nothing dropped
    return stats


def test_train_tokenizer_sample_is_seeded_and_independent_of_parts(tmp_path, rows):
    from curate.steps.train_tokenizer import TrainTokenizer

    step = TrainTokenizer(vocab_size=400, sample_docs=40)
    for name in "abc":
        (tmp_path / name).mkdir()
    one = _resolve_train(tmp_path / "a", step, [web_batch(rows)])
    three = _resolve_train(tmp_path / "b", step, [web_batch(rows[:10]), web_batch(rows[10:70]), web_batch(rows[70:])])
    other_seed = _resolve_train(tmp_path / "c", step, [web_batch(rows)], seed=1)
    assert one["sample_docs"] == 40 and one["sha256"] == three["sha256"] != other_seed["sha256"]
    assert Tokenizer.from_file(str(tmp_path / "a" / "tokenizer.json")).get_vocab_size() == 400
