"""SFT data: chat records in the messages, Alpaca and ShareGPT shapes read into one canonical form,
bad records quarantined with file and line, the exact ChatML token/mask layout of a tiny
conversation, a tokenizer-folder template (and the sandbox refusing code), the trainer's targets
from ``loss_mask``, and DMT's stage-2 shares (k of the specialised data)."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pyarrow as pa
import pytest

from curate.errors import CurateError
from curate.readers.chat import parse_messages
from curate.recipe import SourceSpec
from curate.tokens.bpe import train_bpe
from tests.test_readers import read_all
from tests.train_support import phase

CHAT = SourceSpec(name="chat", paths=("x",), format="chat")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
GOOD = [
    {"id": "m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                             {"role": "assistant", "content": "Hello"}], "lang": "en"},
    {"id": "a", "instruction": "Add", "input": "2 3", "output": "5"},
    {"id": "a2", "instruction": "Say yes", "output": "yes"},
    {"id": "g", "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"},
                                  {"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A2"}]},
]
BAD = [
    ({"messages": [{"role": "user", "content": "x"}, {"role": "robot", "content": "y"}]}, "role is not one of"),
    ({"messages": [{"role": "assistant", "content": "x"}]}, "where 'user' is expected"),
    ({"messages": [{"role": "user", "content": "only a question"}]}, "no assistant turn"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": 7}]}, "content is not a string"),
    ({"conversations": [{"from": "human", "value": "x"}, {"from": ["gpt"], "value": "y"}]}, "from is not one of"),
    ({"instruction": "x", "output": None}, "must be strings"),
    ({"text": "plain document"}, "not a chat record"),
]


def test_three_shapes_become_canonical_messages_and_bad_records_are_quarantined(tmp_path):
    lines = [json.dumps(r) for r in GOOD[:2]] + [json.dumps(r) for r, _ in BAD] + ["{not json"] + \
            [json.dumps(r) for r in GOOD[2:]]
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(lines) + "\n")
    docs, bad, _ = read_all(path, CHAT)
    assert docs.num_rows + len(bad) == len(lines)
    assert docs.column("input_row").to_pylist() == [0, 1, 10, 11]
    assert [q["line"] for q in bad] == list(range(2, 10)) and {q["input_file"] for q in bad} == {"chat.jsonl"}
    for q, (_, why) in zip(bad, BAD + [(None, "invalid JSON")]):
        assert why in q["error"], q
    texts = [parse_messages(t) for t in docs.column("text").to_pylist()]
    assert texts[0] == GOOD[0]["messages"]
    assert texts[1] == [{"role": "user", "content": "Add\n\n2 3"}, {"role": "assistant", "content": "5"}]
    assert texts[2] == [{"role": "user", "content": "Say yes"}, {"role": "assistant", "content": "yes"}]
    assert [m["role"] for m in texts[3]] == ["user", "assistant", "user", "assistant"]
    assert docs.column("meta").to_pylist()[0] == '{"lang":"en"}'  # the shape's keys are not meta


@pytest.fixture(scope="module")
def byte_tokenizer(tmp_path_factory):
    """A byte-level tokenizer without merges (one token per byte) plus the ChatML specials."""
    tok = train_bpe(["x"], vocab_size=256 + len(SPECIALS), special_tokens=SPECIALS, min_frequency=1000)
    folder = tmp_path_factory.mktemp("tok")
    tok.save(str(folder / "tokenizer.json"))
    return folder


def tokenize_chat(folder, conversations, template="chatml"):
    from curate.steps.tokenize import Tokenize

    step = Tokenize(tokenizer=folder, chat_template=template)
    texts = [orjson.dumps(c).decode() for c in conversations]
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(texts))], "text": texts})
    out = step.annotate(batch)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    return [([tok.id_to_token(i) for i in ids], mask) for ids, mask in
            zip(out.column("tokens").to_pylist(), out.column("loss_mask").to_pylist())]


def test_chatml_exact_token_and_mask_layout(byte_tokenizer):
    conv = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]
    ((tokens, mask),) = tokenize_chat(byte_tokenizer, [conv])
    assert list(zip(tokens, mask)) == [
        ("<|im_start|>", 0), *[(c, 0) for c in "user"], ("Ċ", 0), ("H", 0), ("i", 0), ("<|im_end|>", 0), ("Ċ", 0),
        ("<|im_start|>", 0), *[(c, 0) for c in "assistant"], ("Ċ", 0),
        ("Y", 1), ("o", 1), ("<|im_end|>", 1), ("Ċ", 0), ("<|endoftext|>", 1)]


def test_special_strings_in_content_stay_text(byte_tokenizer):
    conv = [{"role": "user", "content": "<|im_end|>"}, {"role": "assistant", "content": "ok"}]
    ((tokens, _),) = tokenize_chat(byte_tokenizer, [conv])
    assert tokens.count("<|im_end|>") == 2 and "|" in tokens


def test_tokenizer_folder_template_and_the_sandbox(byte_tokenizer):
    llama2 = ("{% for m in messages %}{% if m['role'] == 'user' %}{{ '[INST]' + m['content'] + '[/INST]' }}"
              "{% else %}{{ m['content'] + eos_token }}{% endif %}{% endfor %}")
    (byte_tokenizer / "tokenizer_config.json").write_text(json.dumps({"chat_template": llama2, "eos_token": "<|endoftext|>"}))
    conv = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    ((tokens, mask),) = tokenize_chat(byte_tokenizer, [conv], "tokenizer")
    text = "".join(t if m else "." for t, m in zip(tokens, mask))
    turn = "......" + "." + "......."  # [INST] user [/INST]: no loss
    assert text == turn + "b<|endoftext|>" + turn + "d<|endoftext|>" + "<|endoftext|>"
    from curate.tokens.chat import compile_template, split_rendered

    with pytest.raises(CurateError, match="chat template failed"):
        split_rendered(compile_template("{{ ''.__class__.__mro__[1].__subclasses__() }}"), conv, "", "")
    with pytest.raises(CurateError, match="each once in order"):
        split_rendered(compile_template("{{ messages[0]['content'] }}"), conv, "", "")


def test_missing_chatml_specials_fail_naming_what_to_add(tmp_path):
    from curate.steps.tokenize import Tokenize

    tok = train_bpe(["x"], vocab_size=257, special_tokens=["<|endoftext|>"], min_frequency=1000)
    tok.save(str(tmp_path / "tokenizer.json"))
    batch = pa.RecordBatch.from_pydict({"id": ["0"], "text": [orjson.dumps(GOOD[0]["messages"]).decode()]})
    with pytest.raises(CurateError, match="'<\\|im_start\\|>' is not a special token.*train_tokenizer.special_tokens"):
        Tokenize(tokenizer=tmp_path, chat_template="chatml").annotate(batch)


def test_dmt_stage_two_takes_k_of_the_specialised_tokens():
    from mixers.plan import plan_phase

    available = {"general": 50_000, "math": 256_000}
    stage2 = phase("mixed", 40_000, mixture={"strategy": "budget", "fractions": {"math": 1 / 256}})
    (seg,) = plan_phase(stage2, available).segments
    assert seg.budgets == {"general": 39_000, "math": 1_000}
    with pytest.raises(CurateError, match="fractions.math = 1e-06 of 256,000 tokens is 0 tokens"):
        plan_phase(phase("m", 100, mixture={"fractions": {"math": 1e-6}}), available)
    with pytest.raises(CurateError, match="group 'code' is not in the data"):
        plan_phase(phase("m", 100, mixture={"fractions": {"code": 0.5}}), available)


def test_sft_toy_data_is_valid_and_seeded(tmp_path):
    from train.sft_toy import write_sft_toy

    paths = write_sft_toy(tmp_path / "a", 50, seed=1)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in write_sft_toy(tmp_path / "b", 50, seed=1)]
    for path in paths:
        docs, bad, _ = read_all(path, CHAT, batch_rows=64)
        assert bad == [] and docs.num_rows == 50
    first = parse_messages(read_all(paths[0], CHAT)[0].column("text")[0].as_py())
    a, op, b, _, value = first[1]["content"].split()
    assert int(value) == (int(a) + int(b) if op == "+" else int(a) - int(b))


def test_trainer_targets_are_the_loss_mask(tmp_path):
    import pyarrow.parquet as pq

    from train.data import TokenStore

    table = pa.table({"tokens": pa.array([[5, 6, 7, 8]], pa.list_(pa.uint16())),
                      "loss_mask": pa.array([[0, 0, 1, 1]], pa.list_(pa.uint8()))})
    pq.write_table(table, tmp_path / "s.parquet")

    class M:
        def shard_paths(self):
            return [tmp_path / "s.parquet"]

    ids, targets = TokenStore(M()).example(0, 0, conditioning=False)
    assert ids.tolist() == [5, 6, 7, 8] and targets.tolist() == [False, False, True, True]
    assert np.array_equal(TokenStore(M()).example(0, 0, conditioning=True)[1], targets)


def test_export_refuses_a_chat_shard_rather_than_drop_its_loss_mask(tmp_path):
    import pyarrow.parquet as pq

    from curate.export.sequences import read_shard

    pq.write_table(pa.table({"id": ["a"], "tokens": pa.array([[1, 2]], pa.list_(pa.uint16())),
                             "loss_mask": pa.array([[0, 1]], pa.list_(pa.uint8()))}), tmp_path / "s.parquet")
    with pytest.raises(CurateError, match="no per-token loss mask"):
        read_shard(tmp_path / "s.parquet", with_prefix=False)


def test_unknown_chat_template_fails_at_parse_time_with_the_key():
    from curate.config import from_table
    from curate.errors import RecipeError
    from curate.steps.tokenize import Tokenize

    with pytest.raises(RecipeError, match="chat_template='chatm' is not known; allowed: 'chatml', 'tokenizer'"):
        from_table(Tokenize, {"chat_template": "chatm"}, "steps[1] (tokenize)")
