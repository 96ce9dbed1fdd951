"""Score documents with any local fastText classifier (quality, toxicity, topic): one probability
column per step, so filtering, conditioning and rebalancing can be decided later from the column.

The model is loaded once per process from a local file (never downloaded) and every batch goes to
fastText in one ``predict`` call over all labels; the column holds P(``label`` | text) as float32.
Text is prepared exactly as ``curate classifier train`` prepares it (newlines to spaces, optional
lower-casing and truncation), so a model trained by curate scores what it was trained on. DCLM's
quality filter is this step with its fastText model and label ``hq``, then a percentile filter
(``score_percentile``) or a threshold (``score_filter``) on the column.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.models.fasttext_model import check_fasttext_file, fasttext_lines, load_fasttext, predict_label_prob
from curate.schema import TEXT
from curate.steps.step import with_columns


@dataclasses.dataclass(frozen=True, kw_only=True)
class FasttextScore:
    """Add a float32 column with the probability of one label of a local fastText model."""

    name: ClassVar[str] = "fasttext_score"
    model_path: Path = param(doc="local fastText .bin/.ftz model (e.g. from `curate classifier train`)")
    label: str = param(doc="the label whose probability is written (with or without __label__)")
    column: str = param("score", doc="name of the score column to write")
    lowercase: bool = param(False, doc="lower-case the text first (use what the model was trained with)")
    max_chars: int | None = param(None, doc="score only the first max_chars characters; none = all")

    def __post_init__(self) -> None:
        if self.max_chars is not None:
            check_range("max_chars", self.max_chars, 1)
        if self.model_path.is_file():  # else checked when scoring: `classifier train` may make it
            check_fasttext_file(self.model_path)
            predict_label_prob(load_fasttext(self.model_path), [], self.label)  # label must exist

    def _model(self):
        if not self.model_path.is_file():
            raise RecipeError(f"fasttext_score: model_path={str(self.model_path)!r}: file not found "
                              "(train it first with `curate classifier train RECIPE`?)")
        return load_fasttext(self.model_path)

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        lines = fasttext_lines(batch.column(TEXT), lowercase=self.lowercase, max_chars=self.max_chars)
        probs = predict_label_prob(self._model(), lines, self.label)
        return with_columns(batch, {self.column: pa.array(probs, pa.float32())})
