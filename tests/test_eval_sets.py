"""Fixed eval sets and their scoring (train/evalsets.py, train/likelihood.py, train/eval_model.py).

Exact values on a hand-computable model: a real Llama whose weights are all zero predicts the
uniform distribution over its vocabulary, and a byte tokenizer without merges makes one token per
byte, so every document scores exactly log2(V) bits per byte and ln(V) nats per token; every
choice of L characters (plus the delimiter byte) scores -(L + 1) ln V, so acc picks the shortest
choice and acc_norm (divided by L) the longest. Rolling windows are checked against lm_eval's own
window function (differential, hypothesis) when lm_eval is installed.
"""

from __future__ import annotations

import math

import orjson
import pytest
import torch
from hypothesis import given, settings, strategies as st

from curate.cli import main
from curate.errors import RecipeError
from train.evalsets import load_evals, load_set
from train.likelihood import choice_request, mc_correct, rolling_requests

V = 257  # 256 bytes + <|endoftext|>


@pytest.fixture(scope="module")
def uniform_model(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    from curate.tokens.bpe import train_bpe

    out = tmp_path_factory.mktemp("uniform")
    tok = train_bpe(["abc"], vocab_size=V, special_tokens=["<|endoftext|>"])
    assert tok.get_vocab_size() == V
    tok.save(str(out / "tokenizer.json"))
    config = LlamaConfig(vocab_size=V, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                         eos_token_id=0, bos_token_id=None, pad_token_id=0)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    model.save_pretrained(out)
    return out


def write_jsonl(path, rows):
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def test_uniform_model_scores_exactly(uniform_model, tmp_path):
    docs = ["hello world", "x" * 150, "naïve café"]        # 150 bytes: several 16-token windows
    write_jsonl(tmp_path / "lm.jsonl", [{"text": t} for t in docs])
    items = [{"context": "Q: pick one", "choices": ["ab", "abcdef", "abcd"], "gold": 0},     # shortest
             {"context": "Q: again ", "choices": ["abc", "a", "abcdefgh"], "gold": 2},      # longest
             {"context": "", "choices": ["abcdefg", "ab"], "gold": 0}]                    # longest
    write_jsonl(tmp_path / "mc.jsonl", items)
    (tmp_path / "evals.toml").write_text('[[eval]]\nname = "docs"\npaths = ["lm.jsonl"]\n\n'
                                         '[[eval]]\nname = "task"\nkind = "mc"\npaths = ["mc.jsonl"]\n')
    assert main(["eval", str(uniform_model), "--evals", str(tmp_path / "evals.toml"), "--max-len", "16",
                 "--out", str(tmp_path / "eval.json")]) == 0
    sets = orjson.loads((tmp_path / "eval.json").read_bytes())["sets"]
    num_bytes = sum(len(t.encode()) for t in docs)
    assert sets["docs"]["bytes"] == sets["docs"]["tokens"] == num_bytes
    assert sets["docs"]["bits_per_byte"] == pytest.approx(math.log2(V), rel=1e-6)
    assert sets["docs"]["loss_per_token"] == pytest.approx(math.log(V), rel=1e-6)
    assert sets["task"]["acc"] == pytest.approx(1 / 3)            # only item 0's gold is the shortest
    assert sets["task"]["acc_norm"] == pytest.approx(2 / 3)       # items 1 and 2: gold is the longest


def test_a_prefix_is_read_but_not_scored(uniform_model, tmp_path):
    from train.eval_model import evaluate_model

    rows = [{"url": "URL: example.com\n\n" * k, "text": "abc " * (10 * k + 1)} for k in range(4)]
    write_jsonl(tmp_path / "p.jsonl", rows)
    (tmp_path / "e.toml").write_text('[[eval]]\nname = "p"\npaths = ["p.jsonl"]\nprefix_field = "url"\n')
    (spec,) = load_evals(tmp_path / "e.toml")
    m = evaluate_model(uniform_model, [load_set(spec)], max_len=16)["sets"]["p"]
    assert m["tokens"] == m["bytes"] == sum(len(r["text"]) for r in rows)   # prefixes not counted
    assert m["bits_per_byte"] == pytest.approx(math.log2(V), rel=1e-6)


def test_conditioned_windows_score_each_document_token_once_after_its_prefix():
    from train.likelihood import conditioned_requests

    reqs = conditioned_requests([7, 8, 9], [1, 2, 3, 4, 5], prefix=0, max_len=4)
    assert len(reqs) == 2 and sum(n for _, n in reqs) == 5
    assert reqs[0] == ([0, 7, 8, 9, 1], 1)          # the first document token read after the prefix
    assert reqs[1] == ([9, 1, 2, 3, 4, 5][-5:], 4)  # then windows of max_len inputs


def test_mc_metrics_by_hand():
    assert mc_correct([-3.0, -4.0], ["a", "abcd"], 0) == (True, False)   # -4/4 = -1 > -3/1
    assert mc_correct([-3.0, -4.0], ["a", "abcd"], 1) == (False, True)


def test_context_trailing_space_moves_into_the_continuation():
    encode = lambda s: [ord(c) for c in s]  # noqa: E731
    seq, n = choice_request("Q: ", " yes", encode, prefix=0, max_len=100)
    assert seq == encode("Q:  yes") and n == len("  yes")
    seq, n = choice_request("", " yes", encode, prefix=0, max_len=3)
    assert seq == encode(" yes") and n == 4                     # [prefix] + " yes", left-truncated to 4


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(0, 70), max_len=st.integers(1, 20))
def test_rolling_windows_equal_lm_eval(n, max_len):
    lm_utils = pytest.importorskip("lm_eval.utils")
    tokens = list(range(1, n + 1))
    theirs = [lm_utils.make_disjoint_window(w) for w in lm_utils.get_rolling_token_windows(
        token_list=tokens, prefix_token=0, max_seq_len=max_len, context_len=1)]
    ours = rolling_requests(tokens, 0, max_len)
    assert [(ctx + pred)[-(max_len + 1):] for ctx, pred in theirs] == [seq for seq, _ in ours]
    assert [len(pred) for _, pred in theirs] == [k for _, k in ours]
    assert sum(k for _, k in ours) == n


def test_bad_eval_table_is_a_one_line_error(tmp_path):
    (tmp_path / "e.toml").write_text('[[eval]]\nname = "x"\npaths = ["a.jsonl"]\nkind = "qa"\n')
    with pytest.raises(RecipeError, match=r"eval\[0\]\.kind"):
        load_evals(tmp_path / "e.toml")
    (tmp_path / "e.toml").write_text('[[eval]]\nname = "x"\npaths = ["a.jsonl"]\ntext_feld = "t"\n')
    with pytest.raises(RecipeError, match="unknown key 'text_feld'"):
        load_evals(tmp_path / "e.toml")


def test_paths_resolve_against_the_evals_file_and_max_items_keeps_the_first(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"body": f"doc {i}"} for i in range(5)])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.toml").write_text('[[eval]]\nname = "x"\npaths = ["../d.jsonl"]\n'
                                             'text_field = "body"\nmax_items = 3\n')
    (spec,) = load_evals(tmp_path / "sub" / "e.toml")
    assert load_set(spec).items == ("doc 0", "doc 1", "doc 2")


def test_the_shipped_evals_file_loads():
    from tests.conftest import REPO

    (spec,) = load_evals(REPO / "recipes" / "evals" / "wiki.toml")
    evalset = load_set(spec)
    assert spec.kind == "lm" and len(evalset.items) == 64 and all(len(t) > 100 for t in evalset.items)
