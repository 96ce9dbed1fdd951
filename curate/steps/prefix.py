"""Metadata-conditioning prefixes, stored apart from the document (``prefix_text``).

One set of shards serves the conditioned phase (prefix + document, prefix masked from the loss)
and the cooldown (document only): the prefix is never written into ``text`` or ``tokens``; the
``tokenize`` step turns it into ``prefix_tokens``. Kinds (METHODS.md section 1 and 3):

| kind | value | default template |
|---|---|---|
| ``url_domain`` | MeCo: URL without scheme up to the first ``/`` (``curate/tokens/urls.py``) | ``URL: {value}\\n\\n`` |
| ``url`` | the full URL | ``URL: {value}\\n\\n`` |
| ``url_suffix`` | the top-level label (``org``) | ``URL: {value}\\n\\n`` |
| ``url_hash`` | 16 hex digits per domain (MeCo's hashed-URL ablation) | ``URL: {value}\\n\\n`` |
| ``source`` | the source name | ``URL: {value}\\n\\n`` |
| ``column`` | a string column, e.g. ``skill`` or a topic | ``URL: {value}\\n\\n`` |
| ``quality_bucket`` | label of the bucket of a score column (``edges``) | ``URL: {value}\\n\\n`` |
| ``control`` | Korbak's document-level control token | ``{value}`` |

MeCo's ablations keep the ``URL: ...\\n\\n`` template and change only the value (topics were used "in
place of the URL value"), hence one default template. Missing values (no URL, no host, null column
or score) use ``fallback`` (default ``unknown``, MeCo's value for URLs outside its kept set); an
empty fallback leaves those documents without a prefix (null). ``control`` has no fallback: a
missing score or a dropped draw (``drop_token_fraction``) gives no prefix. ``append = true`` adds
this prefix after an existing ``prefix_text`` (e.g. a control token then a URL).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_seed, param
from curate.errors import CurateError
from curate.schema import ID, SOURCE, URL
from curate.steps.step import with_columns
from curate.tokens.control import ControlSpec, doc_keys, kept
from curate.tokens.urls import full_url, url_domain, url_hash, url_suffix

PREFIX_TEXT = "prefix_text"
MECO_TEMPLATE = "URL: {value}\n\n"
Kind = Literal["url_domain", "url", "url_suffix", "url_hash", "source", "column", "quality_bucket", "control"]


def fill_template(template: str, values: pa.Array) -> pa.Array:
    """``template`` with ``{value}`` replaced by each value; null values stay null."""
    head, _, tail = template.partition("{value}")
    values = pa.array(values).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar(head), values, pa.scalar(tail), "")


def bucket_labels(scores: np.ndarray, edges: tuple[float, ...], labels: tuple[str, ...]) -> pa.Array:
    """The label of each score's bucket: bucket i holds edges[i-1] <= score < edges[i]."""
    idx = np.searchsorted(np.asarray(edges, np.float64), scores, side="right")
    return pa.array(np.asarray(labels, dtype=object)[idx], pa.string(), mask=np.isnan(scores))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Prefix:
    """Add ``prefix_text``: MeCo metadata (URL domain, URL, suffix, hash, source, a column, a quality
    bucket) or a document-level control token (Korbak)."""

    name: ClassVar[str] = "prefix"
    kind: Kind = param("url_domain", doc="what the prefix says (see `curate steps` / the module doc)")
    template: str | None = param(None, doc="text around {value}; default 'URL: {value}\\n\\n', control '{value}'")
    column: str | None = param(None, doc="kind column: the string column; quality_bucket: the score column")
    fallback: str = param("unknown", doc="value when the URL/column/score is missing; '' = no prefix")
    lowercase: bool = param(True, doc="lower-case URL hosts")
    hash_seed: int = param(0, doc="url_hash: seed of the domain hash")
    edges: tuple[float, ...] = param((), doc="quality_bucket: ascending bucket edges")
    labels: tuple[str, ...] = param((), doc="quality_bucket: len(edges)+1 labels; default q0, q1, ...")
    control: ControlSpec | None = param(None, doc="control: score column, threshold, tokens, drop fraction")
    append: bool = param(False, doc="append to an existing prefix_text instead of replacing it")

    def __post_init__(self) -> None:
        check_seed("hash_seed", self.hash_seed)
        if self.kind in ("column", "quality_bucket") and not self.column:
            raise ValueError(f"kind={self.kind!r} needs column = the name of the {self.kind} column")
        if self.kind == "control" and self.control is None:
            raise ValueError("kind='control' needs a [steps.control] table (score_column, threshold)")
        if self.kind == "quality_bucket":
            if not self.edges or list(self.edges) != sorted(self.edges):
                raise ValueError(f"edges={list(self.edges)!r}: give ascending bucket edges")
            if self.labels and len(self.labels) != len(self.edges) + 1:
                raise ValueError(f"labels: expected {len(self.edges) + 1} labels (len(edges)+1)")
        if self.template is not None and "{value}" not in self.template:
            raise ValueError(f"template={self.template!r} must contain {{value}}")

    def _column(self, batch: pa.RecordBatch, name: str) -> pa.Array:
        if name not in batch.schema.names:
            raise CurateError(f"step prefix: no column {name!r} in the documents; "
                              f"columns: {', '.join(batch.schema.names)}")
        return batch.column(name)

    def values(self, batch: pa.RecordBatch) -> pa.Array:
        """The metadata value of each document (null = missing)."""
        if self.kind == "control":
            return self._control_values(batch)
        if self.kind in ("url_domain", "url", "url_suffix", "url_hash"):
            urls = batch.column(URL)
            if self.kind == "url":
                return full_url(urls)
            if self.kind == "url_hash":
                return url_hash(urls, seed=self.hash_seed, lowercase=self.lowercase)
            fn = url_domain if self.kind == "url_domain" else url_suffix
            return fn(urls, lowercase=self.lowercase)
        if self.kind == "source":
            return batch.column(SOURCE).cast(pa.string())
        if self.kind == "column":
            return full_url(self._column(batch, self.column))  # trimmed; empty -> missing
        scores = self._column(batch, self.column).cast(pa.float64()).to_numpy(zero_copy_only=False)
        labels = self.labels or tuple(f"q{i}" for i in range(len(self.edges) + 1))
        return bucket_labels(scores, self.edges, labels)

    def _control_values(self, batch: pa.RecordBatch) -> pa.Array:
        spec = self.control
        scores = self._column(batch, spec.score_column).cast(pa.float64()).to_numpy(zero_copy_only=False)
        label = spec.labels(scores)
        label[~kept(doc_keys(batch.column(ID), spec.seed), spec.drop_token_fraction)] = -1
        names = np.asarray(spec.tokens, dtype=object)[np.maximum(label, 0)]
        return pa.array(names, pa.string(), mask=label < 0)

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        values = self.values(batch)
        if self.kind != "control" and self.fallback:
            values = pc.fill_null(values, self.fallback)
        template = self.template or ("{value}" if self.kind == "control" else MECO_TEMPLATE)
        text = fill_template(template, values)
        if self.append and PREFIX_TEXT in batch.schema.names:
            old = batch.column(PREFIX_TEXT)
            text = pc.if_else(pc.is_null(old), text,
                              pc.if_else(pc.is_null(text), old, pc.binary_join_element_wise(old, text, "")))
        return with_columns(batch, {PREFIX_TEXT: text.cast(pa.string())})
