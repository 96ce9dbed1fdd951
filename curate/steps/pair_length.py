"""``pair_length``: the length indicators of Instruction Mining (METHODS.md 13), per text column.

For each column in ``columns`` (default the ``instruction`` and ``response`` of
``instruction_pair``) it writes ``<column>_words`` (int32: whitespace-separated words, the rule of
``length``'s ``char_word_counts``) and, when ``tokenizer`` is set, ``<column>_tokens`` (int32: ids of the
text encoded with that ``tokenizer.json``, no BOS/EOS, special-token strings kept as plain text as
in ``tokenize``). A null text has length 0.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.errors import RecipeError
from curate.steps.length import char_word_counts
from curate.steps.step import with_columns
from curate.tokens.tokenizer import load_tokenizer, resolve_path


@dataclasses.dataclass(frozen=True, kw_only=True)
class PairLength:
    """Adds ``<column>_words`` (and ``<column>_tokens`` with a tokenizer) for each text column."""

    name: ClassVar[str] = "pair_length"
    columns: tuple[str, ...] = param(("instruction", "response"), doc="text columns to measure")
    tokenizer: Path | None = param(None, doc="tokenizer.json or folder: also count tokens; none = words only")

    def __post_init__(self) -> None:
        if not self.columns:
            raise ValueError("columns: empty; name at least one text column, e.g. ['response']")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        tok = load_tokenizer(resolve_path(self.tokenizer)) if self.tokenizer is not None else None
        out = {}
        for column in self.columns:
            if column not in batch.schema.names:
                raise RecipeError(f"pair_length: column {column!r} is missing; add instruction_pair (or the "
                                  "step that writes it) first, or set columns")
            text = pc.fill_null(batch.column(column), "")
            out[f"{column}_words"] = pa.array(char_word_counts(text)[1].astype(np.int32))
            if tok is not None:
                encodings = tok.encode_batch_fast(text.to_pylist(), add_special_tokens=False)
                out[f"{column}_tokens"] = pa.array(np.array([len(e.ids) for e in encodings], np.int32))
        return with_columns(batch, out)
