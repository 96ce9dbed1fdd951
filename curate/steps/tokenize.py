"""Tokenize documents (and their conditioning prefixes) into the token columns
(CONTRACTS.md "Token columns").

Adds ``tokens`` (``list<uint16>`` for vocabularies up to 65536 ids, else ``list<uint32>``: optional
BOS + encode(text) + EOS; default no BOS, EOS appended) and ``num_tokens`` (int32); when a
``prefix`` step ran, ``prefix_tokens`` (the prefix encoded as one unit, as MeCo does; null where
``prefix_text`` is null); and always ``control_positions`` / ``control_ids`` (``list<int32>``, empty
unless ``line_control`` is set). The tokenizer is ``tokenizer`` (a local tokenizer.json or HF folder)
or, by default, the artefact of an earlier ``train_tokenizer`` step, which the runner binds into
``tokenizer`` (``artefact_params``). It is recorded in manifest.json with its sha256; an external
one is copied next to the shards by the runner (``published_files``).

Chat documents (``chat_template``; sources with ``format = "chat"``): the conversation in ``text`` is
rendered with the template (``curate/tokens/chat.py``: built-in ``chatml`` or the tokenizer folder's
``chat_template``, in a sandboxed Jinja2) and ``loss_mask`` (``list<uint8>``, one per token, 1 on
assistant turns) is added; the trainer computes the loss on mask-1 tokens only.

Line-level control tokens (Korbak et al.; ``curate/tokens/control.py``): ``line_control`` names a
``list<float>`` column with one score per ``\\n``-separated line. A line's token goes before the
first document token that starts at or after the line's first character (GPT-2 pre-tokenisation
can merge blank lines' newlines with the next line's leading space, so a line does not always start
a token). Document text never produces special tokens (see ``curate/tokens/tokenizer.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.errors import CurateError
from curate.schema import ID, TEXT
from curate.readers.chat import parse_messages
from curate.steps.prefix import PREFIX_TEXT
from curate.steps.step import with_columns
from curate.tokens.chat import (BUILTIN_SPECIALS, BUILTINS, FROM_TOKENIZER, compile_template, encode_chats,
                                 template_source)
from curate.tokens.control import ControlSpec, doc_keys, kept, line_keys, line_starts
from curate.tokens.encode import encode_texts, encode_unique, ids_array, list_array
from curate.tokens.tokenizer import (
    TOKENIZER_FILE,
    file_sha256,
    find_token_id,
    load_tokenizer,
    require_special,
    resolve_path,
    special_tokens,
    token_dtype,
)

SPECIAL_PATTERN = re.compile(r"<\|[^|<>\s]+\|>")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Tokenize:
    """Add ``tokens``, ``num_tokens``, ``prefix_tokens`` and control-token columns."""

    name: ClassVar[str] = "tokenize"
    artefact_params: ClassVar[dict[str, str]] = {"tokenizer": TOKENIZER_FILE}
    tokenizer: Path | None = param(None, doc="tokenizer.json or HF folder; default: train_tokenizer's")
    add_bos: bool = param(False, doc="prepend the BOS token to every document")
    add_eos: bool = param(True, doc="append the EOS token to every document")
    bos_token: str | None = param(None, doc="BOS token; default: tokenizer_config.json's or a usual name")
    eos_token: str | None = param(None, doc="EOS token; default: tokenizer_config.json's or <|endoftext|>, </s>, ...")
    line_control: ControlSpec | None = param(None, doc="line-level control tokens from a list<float> column")
    chat_template: str | None = param(None, doc="chat documents (a source with format = 'chat'): 'chatml' "
                                      "or 'tokenizer' (tokenizer_config.json's chat_template); adds loss_mask")

    def __post_init__(self) -> None:
        if self.chat_template is not None and self.line_control is not None:
            raise ValueError("chat_template and line_control: give one of them (chat turns carry no line scores)")
        if self.chat_template is not None and self.chat_template not in (*BUILTINS, FROM_TOKENIZER):
            raise ValueError(f"chat_template={self.chat_template!r} is not known; allowed: "
                             f"{', '.join(repr(n) for n in (*BUILTINS, FROM_TOKENIZER))}")
        if self.tokenizer is not None:
            try:
                resolve_path(self.tokenizer)
            except CurateError as exc:
                raise ValueError(f"tokenizer={str(self.tokenizer)!r}: {exc}") from None

    def tokenizer_path(self) -> Path:
        if self.tokenizer is None:
            raise CurateError("step tokenize: no `tokenizer` path given and no train_tokenizer step before "
                              "it; put a train_tokenizer step before tokenize, or set tokenizer = PATH")
        return resolve_path(self.tokenizer)

    def _setup(self) -> tuple[Any, Any, np.dtype, int | None, int | None]:
        path = self.tokenizer_path()
        tok = load_tokenizer(path)
        dtype = token_dtype(tok.get_vocab_size(with_added_tokens=True))
        bos = find_token_id(tok, path, self.bos_token, "bos") if self.add_bos else None
        eos = find_token_id(tok, path, self.eos_token, "eos") if self.add_eos else None
        return tok, load_tokenizer(path, plain_specials=False), dtype, bos, eos

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        tok, prefix_tok, dtype, bos, eos = self._setup()
        texts = batch.column(TEXT).to_pylist()
        if self.chat_template is not None:
            return self._annotate_chat(batch, texts, tok, prefix_tok, dtype, bos, eos)
        if self.line_control is None:
            tokens = encode_texts(tok, texts, dtype, bos_id=bos, eos_id=eos)  # chunked: bounded memory
            positions, ids = _empty_lists(batch.num_rows), _empty_lists(batch.num_rows)
        else:
            encodings = tok.encode_batch(texts, add_special_tokens=False)
            positions, ids = self._line_controls(batch, texts, encodings, tok, int(bos is not None))
            tokens = ids_array([e.ids for e in encodings], dtype, bos_id=bos, eos_id=eos)
        cols = {"tokens": tokens, "num_tokens": pc.list_value_length(tokens).cast(pa.int32())}
        if PREFIX_TEXT in batch.schema.names:
            prefixes = batch.column(PREFIX_TEXT)
            _check_prefix_specials(prefix_tok, prefixes)
            cols["prefix_tokens"] = encode_unique(prefix_tok, prefixes, dtype)
        cols["control_positions"], cols["control_ids"] = positions, ids
        return with_columns(batch, cols)

    def _annotate_chat(self, batch, texts, tok, special_tok, dtype, bos, eos) -> pa.RecordBatch:
        """``tokens`` = optional BOS + rendered conversation + optional EOS, and ``loss_mask``
        (``list<uint8>``, 1 = target: assistant turns and their end-of-turn token, and the EOS
        after a final assistant turn; ``curate/tokens/chat.py``)."""
        path = self.tokenizer_path()
        if self.chat_template in BUILTIN_SPECIALS:
            require_special(special_tok, list(BUILTIN_SPECIALS[self.chat_template]),
                            f"tokenize.chat_template={self.chat_template!r}")
        template = _compiled(template_source(self.chat_template, path))
        names = {i: n for n, i in special_tokens(special_tok).items()}
        conversations = [parse_messages(t) for t in texts]
        encoded = encode_chats(template, conversations, tok, special_tok, set(names),
                               names.get(bos, "") if bos is not None else "",
                               names.get(eos, "") if eos is not None else "")
        id_lists, masks = [], []
        for conv, (ids, mask) in zip(conversations, encoded):
            head, tail = ([bos], [0]) if bos is not None else ([], [])
            end = ([eos], [int(conv[-1]["role"] == "assistant")]) if eos is not None else ([], [])
            id_lists.append([*head, *ids.tolist(), *end[0]])
            masks.append(np.concatenate([tail, mask, end[1]]).astype(np.uint8))
        tokens = ids_array(id_lists, dtype)
        lengths = np.fromiter(map(len, masks), np.int64, len(masks))
        flat = np.concatenate(masks) if masks else np.zeros(0, np.uint8)
        return with_columns(batch, {"tokens": tokens, "num_tokens": pc.list_value_length(tokens).cast(pa.int32()),
                                    "loss_mask": list_array(flat.astype(np.uint8), lengths),
                                    "control_positions": _empty_lists(batch.num_rows),
                                    "control_ids": _empty_lists(batch.num_rows)})

    def _line_controls(self, batch, texts, encodings, tok, shift: int) -> tuple[pa.Array, pa.Array]:
        spec = self.line_control
        token_ids = np.asarray(require_special(tok, spec.tokens, "tokenize.line_control"), np.int32)
        if spec.score_column not in batch.schema.names:
            raise CurateError(f"tokenize.line_control: no column {spec.score_column!r} in the documents")
        scores = batch.column(spec.score_column).to_pylist()
        keys = doc_keys(batch.column(ID), spec.seed)
        pos_out, id_out = [], []
        for r, (text, enc, row_scores) in enumerate(zip(texts, encodings, scores)):
            pos, ids = _doc_controls(spec, text, enc, row_scores, keys[r], batch.column(ID)[r], shift)
            pos_out.append(pos)
            id_out.append(token_ids[ids])
        lengths = np.fromiter(map(len, pos_out), np.int64, len(pos_out))
        flat_pos = np.concatenate(pos_out).astype(np.int32) if pos_out else np.zeros(0, np.int32)
        flat_ids = np.concatenate(id_out).astype(np.int32) if id_out else np.zeros(0, np.int32)
        return list_array(flat_pos, lengths), list_array(flat_ids, lengths)

    def _eos_id(self, tok, path: Path) -> int | None:
        """The EOS id (required when appended; else recorded when the tokenizer has one)."""
        try:
            return find_token_id(tok, path, self.eos_token, "eos")
        except CurateError:
            if self.add_eos:
                raise
            return None

    def published_files(self) -> dict[str, Path]:
        """The tokenizer file, published as ``<output dir>/tokenizer.json`` (the manifest's path)."""
        return {TOKENIZER_FILE: self.tokenizer_path()}

    def manifest_info(self) -> dict[str, Any]:
        """The manifest's ``tokenizer`` entry (the file is published by the runner)."""
        from curate.manifest import TokenizerInfo

        src = self.tokenizer_path()
        tok = load_tokenizer(src)
        vocab_size = tok.get_vocab_size(with_added_tokens=True)
        return {"tokenizer": TokenizerInfo(
            path=TOKENIZER_FILE,
            sha256=file_sha256(src),
            vocab_size=vocab_size,
            bos_id=find_token_id(tok, src, self.bos_token, "bos") if self.add_bos else None,
            eos_id=self._eos_id(tok, src),
            add_bos=self.add_bos,
            add_eos=self.add_eos,
            dtype=token_dtype(vocab_size).name,
            special_tokens=special_tokens(tok),
            origin=str(src),
        )}


def _doc_controls(spec: ControlSpec, text: str, enc, row_scores, key, doc_id, shift: int):
    """(positions, 0/1 labels) of one document's line control tokens."""
    if row_scores is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = line_starts(text)
    if len(row_scores) != len(starts):
        raise CurateError(f"tokenize.line_control: document {doc_id}: {len(row_scores)} scores in "
                          f"{spec.score_column!r} for {len(starts)} lines (one score per '\\n'-separated line)")
    scores = np.array([np.nan if s is None else s for s in row_scores], np.float64)
    labels = spec.labels(scores)
    keep = (labels >= 0) & kept(line_keys(np.full(len(starts), key, np.uint64), np.arange(len(starts))),
                                spec.drop_token_fraction)
    token_starts = np.fromiter((o[0] for o in enc.offsets), np.int64, len(enc.offsets))
    positions = np.searchsorted(token_starts, starts[keep], side="left") + shift
    return positions, labels[keep].astype(np.int64)


@functools.lru_cache(maxsize=8)
def _compiled(source: str):
    return compile_template(source)


def _empty_lists(n: int) -> pa.Array:
    return list_array(np.zeros(0, np.int32), np.zeros(n, np.int64))


def _check_prefix_specials(tok, prefixes: pa.Array) -> None:
    """Every ``<|...|>`` in a prefix must be a special token (a control token), never plain text."""
    specials = special_tokens(tok)
    for value in pc.unique(prefixes).drop_null().to_pylist():
        for name in SPECIAL_PATTERN.findall(value):
            if name not in specials:
                raise CurateError(f"prefix {value!r}: {name!r} is not a special token of the tokenizer; "
                                  f"special tokens: {sorted(specials)}")
