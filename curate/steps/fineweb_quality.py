"""FineWeb quality rules (Penedo et al. 2024), as datatrove 0.10.1's ``FineWebQualityFilter`` applies
them, in one compiled pass per batch
(``curate/kernels/fineweb_quality.py``).

Lines are ``text.split("\\n")`` without the blank ones (not stripped otherwise); words are
spaCy-English tokens (``curate/kernels/words.py``) or ``language``'s (``curate/text/lang_words.py``).
Dropped by the first failing rule (datatrove's reasons):

| reason | rule (defaults) |
|---|---|
| ``empty`` | no non-blank line |
| ``line_punct_ratio`` | lines ending in a stop char (datatrove's TERMINAL_PUNCTUATION) < 12 % |
| ``short_line_ratio`` | lines of <= 30 chars > 67 % |
| ``char_dup_ratio`` | chars in duplicate lines / chars without newlines > 1 % |
| ``list_ratio`` | newlines per word > 0.3 |
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa

from curate import kernels
from curate.config import check_range, param
from curate.schema import TEXT
from curate.steps.doc_kernel import codes_to_reasons, text_buffers
from curate.text import reference_data as ref
from curate.text.lang_words import check_language_params, step_spans
from curate.text.words import word_tables

REASONS = ["empty", "line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FineWebQuality:
    """FineWeb quality rules (datatrove FineWebQualityFilter): line punctuation, short lines,
    duplicated line characters, newlines per word."""

    name: ClassVar[str] = "fineweb_quality"
    line_punct_thr: float = param(0.12, doc="min fraction of lines ending in a stop char")
    line_punct_exclude_zero: bool = param(False, doc="keep documents where no line ends in a stop char")
    stop_chars: tuple[str, ...] | None = param(None, doc="line-ending chars; none = datatrove's TERMINAL_PUNCTUATION")
    short_line_thr: float = param(0.67, doc="max fraction of short lines")
    short_line_length: int = param(30, doc="a line of at most this many chars is short")
    char_duplicates_ratio: float = param(0.01, doc="max fraction of chars in duplicate lines")
    new_line_ratio: float = param(0.3, doc="max newlines per word")
    language: str = param("en", doc="word splitting (curate/text/lang_words.py): en, de, deu_Latn, ...")
    thresholds: str | None = param(None, doc="'fineweb2': FineWeb-2's values for `language` where the recipe sets none")
    lang_column: str | None = param(
        None, doc="column with each row's language (lang_id's `lang`): words per row; `language` where null/unknown")

    def __post_init__(self) -> None:
        check_language_params(self.language, self.thresholds, self.lang_column)
        check_range("line_punct_thr", self.line_punct_thr, 0.0, 1.0)
        check_range("short_line_thr", self.short_line_thr, 0.0, 1.0)
        check_range("short_line_length", self.short_line_length, 0)
        check_range("char_duplicates_ratio", self.char_duplicates_ratio, 0.0, 1.0)
        check_range("new_line_ratio", self.new_line_ratio, 0.0)
        if self.stop_chars is not None and any(len(c) != 1 for c in self.stop_chars):
            raise ValueError(f"stop_chars={list(self.stop_chars)!r}: each must be one character")

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        data, offsets, longest = text_buffers(batch.column(TEXT))
        chars = ref.DT_TERMINAL if self.stop_chars is None else "".join(self.stop_chars)
        stop = np.unique(np.array([ord(c) for c in chars], np.int32))
        bounds = np.array([self.line_punct_thr, self.short_line_thr, self.short_line_length,
                           self.char_duplicates_ratio, self.new_line_ratio], np.float64)
        codes = np.empty(batch.num_rows, np.int32)
        given = step_spans(batch, TEXT, self.language, self.lang_column)[0]
        kernels.load("fineweb_quality").fineweb_codes(
            data, offsets, longest, *word_tables(), stop, bounds, bool(self.line_punct_exclude_zero), *given, codes)
        return codes_to_reasons(codes, REASONS)
