"""Length bounds on characters, words and lines (vectorised with pyarrow.compute)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.schema import TEXT
from curate.steps.step import first_reason


def word_counts(text: pa.Array) -> np.ndarray:
    """Whitespace-separated word count per document (an empty or blank document has 0 words)."""
    trimmed = pc.utf8_trim_whitespace(text)
    counts = pc.list_value_length(pc.utf8_split_whitespace(trimmed)).to_numpy(zero_copy_only=False)
    return np.where(pc.equal(trimmed, "").to_numpy(zero_copy_only=False), 0, counts)


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
        chars = pc.utf8_length(pc.utf8_trim_whitespace(text)).to_numpy(zero_copy_only=False)
        rules = [("too_short_chars", chars < self.min_chars)]
        if self.max_chars is not None:
            rules.append(("too_long_chars", chars > self.max_chars))
        if self.min_words or self.max_words is not None:
            words = word_counts(text)
            rules.append(("too_few_words", words < self.min_words))
            if self.max_words is not None:
                rules.append(("too_many_words", words > self.max_words))
        if self.min_lines:
            rules.append(("too_few_lines", line_counts(text) < self.min_lines))
        return first_reason(rules, batch.num_rows)
