"""Length bounds on characters, words and lines (one compiled pass for characters and words:
``curate/kernels/length.py``)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import kernels
from curate.config import check_range, param
from curate.schema import TEXT
from curate.steps.step import first_reason
from curate.text.hashing import string_buffers


def char_word_counts(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(characters after stripping whitespace, whitespace-separated words) per document, in one
    compiled pass over the UTF-8 bytes (equal to ``utf8_length(utf8_trim_whitespace)`` and to the
    length of ``utf8_split_whitespace`` of the trimmed text, without materialising either)."""
    data, offsets = string_buffers(text)
    chars, words = np.empty(len(text), np.int64), np.empty(len(text), np.int64)
    kernels.load("length").char_word_counts(data, offsets, chars, words)
    return chars, words


def line_counts(text: pa.Array) -> np.ndarray:
    """Number of lines (``\\n``-separated) per document; an empty document has one line."""
    return pc.add(pc.count_substring(text, "\n"), 1).to_numpy(zero_copy_only=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Length:
    """Drop documents outside character, word or line bounds. Reasons: ``too_short_chars``,
    ``too_long_chars``, ``too_few_words``, ``too_many_words``, ``too_few_lines``."""

    name: ClassVar[str] = "length"
    min_chars: int = param(1, doc="minimum characters (after stripping whitespace)")
    max_chars: int | None = param(None, doc="maximum characters; none = no bound")
    min_words: int = param(0, doc="minimum whitespace-separated words")
    max_words: int | None = param(None, doc="maximum words; none = no bound")
    min_lines: int = param(0, doc="minimum lines")

    def __post_init__(self) -> None:
        check_range("min_chars", self.min_chars, 0)
        check_range("min_words", self.min_words, 0)
        check_range("min_lines", self.min_lines, 0)
        if self.max_chars is not None:
            check_range("max_chars", self.max_chars, self.min_chars)
        if self.max_words is not None:
            check_range("max_words", self.max_words, self.min_words)

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        text = batch.column(TEXT)
        chars, words = char_word_counts(text)
        rules = [("too_short_chars", chars < self.min_chars)]
        if self.max_chars is not None:
            rules.append(("too_long_chars", chars > self.max_chars))
        if self.min_words or self.max_words is not None:
            rules.append(("too_few_words", words < self.min_words))
            if self.max_words is not None:
                rules.append(("too_many_words", words > self.max_words))
        if self.min_lines:
            rules.append(("too_few_lines", line_counts(text) < self.min_lines))
        return first_reason(rules, batch.num_rows)
