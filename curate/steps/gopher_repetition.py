"""Gopher repetition rules (Rae et al. 2021, Table A1), as datatrove 0.10.1's ``GopherRepetitionFilter``
applies them, in one compiled pass per batch
(``curate/kernels/gopher_repetition.py``).

Paragraphs are ``text.strip()`` split on ``\\n{2,}``, lines ``text`` split on ``\\n+``, words
spaCy-English tokens (``curate/kernels/words.py``) or ``language``'s (``curate/text/lang_words.py``).
All character fractions divide by ``len(text)``. A document is dropped by the first failing rule, in this order (reasons are datatrove's):

| reason | rule (defaults) |
|---|---|
| ``empty`` | empty text |
| ``dup_para_frac`` / ``dup_para_char_frac`` | duplicate paragraphs > 30 % of paragraphs / > 20 % of chars |
| ``dup_line_frac`` / ``dup_line_char_frac`` | duplicate lines > 30 % of lines / > 20 % of chars |
| ``top_{n}_gram`` | most frequent word n-gram (joined by spaces) x count > 20 / 18 / 16 % of chars, n = 2 / 3 / 4 |
| ``duplicated_{n}_n_grams`` | chars of repeated n-grams (joined without spaces, greedy scan) > 15 ... 10 % for n = 5 ... 10 |

N-grams are keyed by 64-bit hashes: top n-grams by the word tuple, duplicated n-grams by the
concatenated characters (a polynomial hash mod 2^64 over the words' characters, so any n-gram's key
is two prefix lookups), exactly the equalities datatrove uses (up to 64-bit collisions).
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
from curate.text.lang_words import check_language_params, step_spans
from curate.text.words import word_tables

INF = float("inf")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GopherRepetition:
    """Gopher repetition rules (datatrove GopherRepetitionFilter): duplicate paragraphs and lines,
    top word n-grams, duplicated word n-grams."""

    name: ClassVar[str] = "gopher_repetition"
    dup_para_frac: float | None = param(0.3, doc="max fraction of duplicate paragraphs; none = off")
    dup_para_char_frac: float | None = param(0.2, doc="max fraction of chars in duplicate paragraphs")
    dup_line_frac: float | None = param(0.3, doc="max fraction of duplicate lines; none = off")
    dup_line_char_frac: float | None = param(0.2, doc="max fraction of chars in duplicate lines")
    top_ngram_sizes: tuple[int, ...] = param((2, 3, 4), doc="n of the top n-gram rules")
    top_ngram_max_fracs: tuple[float, ...] = param((0.2, 0.18, 0.16), doc="max char fraction of the top n-gram, per n")
    dup_ngram_sizes: tuple[int, ...] = param((5, 6, 7, 8, 9, 10), doc="n of the duplicated n-gram rules")
    dup_ngram_max_fracs: tuple[float, ...] = param(
        (0.15, 0.14, 0.13, 0.12, 0.11, 0.10), doc="max char fraction of duplicated n-grams, per n")
    language: str = param("en", doc="word splitting (curate/text/lang_words.py): en, de, deu_Latn, ...")
    thresholds: str | None = param(None, doc="'fineweb2': FineWeb-2's values for `language` where the recipe sets none")
    lang_column: str | None = param(
        None, doc="column with each row's language (lang_id's `lang`): words per row; `language` where null/unknown")

    def __post_init__(self) -> None:
        check_language_params(self.language, self.thresholds, self.lang_column)
        for key in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            if getattr(self, key) is not None:
                check_range(key, getattr(self, key), 0.0, 1.0)
        for sizes, fracs in (("top_ngram_sizes", "top_ngram_max_fracs"), ("dup_ngram_sizes", "dup_ngram_max_fracs")):
            if len(getattr(self, sizes)) != len(getattr(self, fracs)):
                raise ValueError(f"{fracs} has {len(getattr(self, fracs))} values for "
                                 f"{len(getattr(self, sizes))} {sizes}; give one per size")
            for n in getattr(self, sizes):
                check_range(sizes, n, 1)

    @property
    def reasons(self) -> list[str]:
        return (["empty", "dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"]
                + [f"top_{n}_gram" for n in self.top_ngram_sizes]
                + [f"duplicated_{n}_n_grams" for n in self.dup_ngram_sizes])

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        data, offsets, longest = text_buffers(batch.column(TEXT))
        fracs = np.array([threshold(v, INF) for v in (self.dup_para_frac, self.dup_para_char_frac,
                                                       self.dup_line_frac, self.dup_line_char_frac)])
        codes = np.empty(batch.num_rows, np.int32)
        kernels.load("gopher_repetition").gopher_repetition_codes(
            data, offsets, longest, *word_tables(), fracs,
            np.array(self.top_ngram_sizes, np.int64), np.array(self.top_ngram_max_fracs, np.float64),
            np.array(self.dup_ngram_sizes, np.int64), np.array(self.dup_ngram_max_fracs, np.float64),
            *step_spans(batch, TEXT, self.language, self.lang_column)[0], codes)
        return codes_to_reasons(codes, self.reasons)
