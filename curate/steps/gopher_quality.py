"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models", App. A.1.1), as datatrove 0.10.1's
``GopherQualityFilter`` applies them, in one compiled pass per batch
(``curate/kernels/gopher_quality.py``).

Words are spaCy-English tokens (``curate/kernels/words.py``), or ``language``'s words
(``curate/text/lang_words.py``); "non-symbol" words have a character outside datatrove's punctuation
set. A document is dropped by the first failing rule, in this order:

| reason | rule (defaults) |
|---|---|
| ``gopher_short_doc`` / ``gopher_long_doc`` | non-symbol words < 50 or > 100,000 |
| ``gopher_below_avg_threshold`` / ``gopher_above_avg_threshold`` | their mean length < 3 or > 10 chars |
| ``gopher_too_many_hashes`` / ``gopher_too_many_ellipsis`` | ``#`` / (``...`` + ``…``) per word > 0.1 |
| ``gopher_too_many_bullets`` | lines starting with ``•`` or ``-`` > 90 % |
| ``gopher_too_many_end_ellipsis`` | lines ending with ``...`` or ``…`` > 30 % |
| ``gopher_below_alpha_threshold`` | words with a letter < 80 % |
| ``gopher_enough_stop_words`` | fewer than 2 of the stop words (the, be, to, of, and, that, have, with) |

``None`` turns a rule off. Ratios whose denominator is 0 count as 0 (datatrove raises there).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa

from curate import kernels
from curate.config import check_range, param
from curate.schema import TEXT
from curate.steps.doc_kernel import codes_to_reasons, text_buffers, threshold
from curate.text.fineweb2 import stop_words_of
from curate.text.lang_words import check_language_params, resolve_language, step_spans
from curate.text.words import word_tables

REASONS = [
    "gopher_short_doc", "gopher_long_doc", "gopher_below_avg_threshold", "gopher_above_avg_threshold",
    "gopher_too_many_hashes", "gopher_too_many_ellipsis", "gopher_too_many_bullets",
    "gopher_too_many_end_ellipsis", "gopher_below_alpha_threshold", "gopher_enough_stop_words",
]
STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
INF = float("inf")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GopherQuality:
    """Gopher quality rules (datatrove GopherQualityFilter): word counts and lengths, symbol, bullet,
    ellipsis, alphabetic and stop-word ratios."""

    name: ClassVar[str] = "gopher_quality"
    min_doc_words: int | None = param(50, doc="minimum non-symbol words; none = off")
    max_doc_words: int | None = param(100_000, doc="maximum non-symbol words; none = off")
    min_avg_word_length: float | None = param(3, doc="minimum mean word length (chars); none = off")
    max_avg_word_length: float | None = param(10, doc="maximum mean word length (chars); none = off")
    max_symbol_word_ratio: float | None = param(0.1, doc="max '#' and max ellipsis count per word; none = off")
    max_bullet_lines_ratio: float | None = param(0.9, doc="max fraction of lines starting with a bullet")
    max_ellipsis_lines_ratio: float | None = param(0.3, doc="max fraction of lines ending with an ellipsis")
    min_alpha_words_ratio: float | None = param(
        0.8, doc="min fraction of words with a letter (datatrove: max_non_alpha_words_ratio)")
    min_stop_words: int | None = param(2, doc="min distinct stop words present; none = off")
    stop_words: tuple[str, ...] | None = param(
        None, doc="the stop words (case-sensitive, whole words); none = the language's: Gopher's 8 for en, FineWeb-2's")
    language: str = param("en", doc="word splitting and default stop words (curate/text/lang_words.py): en, de, deu_Latn")
    thresholds: str | None = param(None, doc="'fineweb2': FineWeb-2's values for `language` where the recipe sets none")
    lang_column: str | None = param(
        None, doc="column with each row's language (lang_id's `lang`): words and stop words per row")

    def __post_init__(self) -> None:
        for key in ("min_doc_words", "max_doc_words", "min_avg_word_length", "max_avg_word_length",
                    "max_symbol_word_ratio", "max_bullet_lines_ratio", "max_ellipsis_lines_ratio",
                    "min_alpha_words_ratio", "min_stop_words"):
            if getattr(self, key) is not None:
                check_range(key, getattr(self, key), 0)
        check_language_params(self.language, self.thresholds, self.lang_column)
        if self.stop_words is not None and any(not w for w in self.stop_words):
            raise ValueError("stop_words: empty string; give non-empty words")
        if self.stop_words is None and self.min_stop_words and resolve_language(self.language).kind != "en" \
                and stop_words_of(self.language) is None:
            raise ValueError(f"stop_words: none given and FineWeb-2 has no list for language={self.language!r}; "
                             "give stop_words or set min_stop_words = none")

    def _stop_words(self, language: str) -> tuple[str, ...]:
        """The stop words of rows in ``language``: ``stop_words`` if given, else Gopher's for English,
        else FineWeb-2's list, else the step's ``language``'s."""
        if self.stop_words is not None:
            return self.stop_words
        if resolve_language(language).kind == "en":
            return STOP_WORDS
        found = stop_words_of(language)
        return found if found is not None else (() if language == self.language else self._stop_words(self.language))

    def _bounds(self) -> np.ndarray:
        return np.array([
            threshold(self.min_doc_words, -INF), threshold(self.max_doc_words, INF),
            threshold(self.min_avg_word_length, -INF), threshold(self.max_avg_word_length, INF),
            threshold(self.max_symbol_word_ratio, INF), threshold(self.max_bullet_lines_ratio, INF),
            threshold(self.max_ellipsis_lines_ratio, INF), threshold(self.min_alpha_words_ratio, -INF),
            threshold(self.min_stop_words, 0),
        ], np.float64)

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        data, offsets, longest = text_buffers(batch.column(TEXT))
        given, langs, row_lang = step_spans(batch, TEXT, self.language, self.lang_column)
        sets = [self._stop_words(lang) for lang in langs]
        words = [w for stop in sets for w in stop]
        stop_cps = np.array([ord(c) for w in words for c in w], np.int32)
        stop_off = np.cumsum([0] + [len(w) for w in words]).astype(np.int64)
        set_off = np.cumsum([0] + [len(stop) for stop in sets]).astype(np.int64)
        codes = np.empty(batch.num_rows, np.int32)
        kernels.load("gopher_quality").gopher_quality_codes(
            data, offsets, longest, *word_tables(), self._bounds(), stop_cps, stop_off, set_off,
            np.ascontiguousarray(row_lang, np.int64), *given, codes)
        return codes_to_reasons(codes, REASONS)
