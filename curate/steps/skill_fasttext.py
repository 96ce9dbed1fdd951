"""``skill_fasttext``: the ``skill`` column from a local fastText classifier (its top label, prefix
stripped), e.g. a topic or domain classifier trained with ``fasttext supervised``. Documents whose
top probability is below ``min_score`` get ``default``. Adds ``skill_score`` too. The model is a
local file; nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.models.fasttext_model import check_fasttext_file, load_fasttext, predict_top1
from curate.schema import TEXT
from curate.steps.step import with_columns


@dataclasses.dataclass(frozen=True, kw_only=True)
class SkillFastText:
    """Adds ``skill`` (top label of a local fastText model) and ``skill_score``."""

    name: ClassVar[str] = "skill_fasttext"
    model_path: Path = param(doc="fastText supervised model (.bin or .ftz), relative to the recipe")
    label_prefix: str = param("__label__", doc="prefix stripped from the labels")
    min_score: float = param(0.0, doc="below this top-label probability the skill is `default`")
    default: str = param("other", doc="skill of low-confidence documents")
    max_chars: int = param(10_000, doc="classify at most this many leading characters")

    def __post_init__(self) -> None:
        check_range("min_score", self.min_score, 0.0, 1.0)
        check_range("max_chars", self.max_chars, 1)
        if not self.model_path.is_file():
            raise ValueError(f"model_path={str(self.model_path)!r}: file not found")
        check_fasttext_file(self.model_path)

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.num_rows == 0:
            return with_columns(batch, {"skill": pa.array([], pa.string()),
                                        "skill_score": pa.array([], pa.float32())})
        model = load_fasttext(self.model_path)
        text = pc.utf8_slice_codeunits(batch.column(TEXT), 0, self.max_chars)
        label, score = predict_top1(model, text, self.label_prefix)
        low = pa.array(score < self.min_score)
        skill = pc.if_else(low, pa.scalar(self.default, pa.string()), label)
        return with_columns(batch, {"skill": skill, "skill_score": pa.array(score.astype(np.float32))})
