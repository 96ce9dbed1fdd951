"""``curate classifier train``: a supervised fastText classifier from labelled recipe sources.

The recipe's ``[classifier]`` section names positive sources (e.g. reference-quality text) and
negative sources (e.g. random web), as DCLM trains its quality classifier (positives: OH-2.5 +
ELI5; negatives: random RefinedWeb). Documents are read with curate's readers, split into train and
held-out by a seeded 64-bit hash of the id (``holdout_frac``, ``curate.text.hashing.holdout_mask``:
the split the mixers hold out too; the same docs for a given seed), the
training lines are shuffled by another seeded hash (fastText's SGD sees classes interleaved), and
fastText trains with one thread so the model is deterministic for a seed. The held-out split gives
precision and recall at ``threshold`` and ROC-AUC (``curate/models/metrics.py``); they are printed
and saved next to the model as ``<model>.json``. Text is prepared by the same function the
``fasttext_score`` step uses, so the model scores what it was trained on.

Defaults (lr 0.1, 20 epochs, dim 64, word bigrams, 200k hash buckets: a ~50 MB model) are fastText's
supervised defaults except epochs (5 underfits small labelled sets: held-out ROC-AUC 0.86 vs 0.95
with 50 on the test fixture), dim and buckets (cut for small models); all are recipe keys.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
import pyarrow as pa

from curate.config import check_range, check_seed, param, to_table
from curate.errors import RecipeError
from curate.models.fasttext_model import fasttext_lines, predict_label_prob
from curate.models.metrics import precision_recall, roc_auc
from curate.recipe import Section


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifierSpec:
    """The ``[classifier]`` recipe section."""

    positives: tuple[str, ...] = param(doc="source names whose documents are positive examples")
    negatives: tuple[str, ...] = param(doc="source names whose documents are negative examples")
    model_path: Path = param(doc="where to write the fastText model (.bin), relative to the recipe")
    positive_label: str = param("hq", doc="fastText label of positives (score this one with fasttext_score)")
    negative_label: str = param("lq", doc="fastText label of negatives")
    holdout_frac: float = param(0.2, doc="fraction of documents held out for precision/recall/ROC-AUC")
    seed: int | None = param(None, doc="seed of the split, shuffle and fastText; default: the recipe seed")
    max_docs_per_source: int | None = param(None, doc="use at most this many documents of each source")
    lowercase: bool = param(False, doc="lower-case text (then set lowercase = true in fasttext_score too)")
    max_chars: int | None = param(None, doc="train on the first max_chars characters of each document")
    threshold: float = param(0.5, doc="P(positive) at or above which precision/recall count a positive")
    lr: float = param(0.1, doc="fastText learning rate")
    epoch: int = param(20, doc="fastText epochs (its default 5 underfits labelled sets of ~1k docs)")
    dim: int = param(64, doc="fastText embedding dimension")
    word_ngrams: int = param(2, doc="fastText max word n-gram length (>= 2: see fasttext_train.py)")
    min_count: int = param(1, doc="fastText minimum word count")
    bucket: int = param(200_000, doc="fastText hash buckets for n-grams")
    loss: Literal["softmax", "ns", "hs", "ova"] = param("softmax", doc="fastText loss")

    def __post_init__(self) -> None:
        if not self.positives or not self.negatives:
            raise ValueError("positives and negatives must each name at least one source")
        both = sorted(set(self.positives) & set(self.negatives))
        if both:
            raise ValueError(f"source {both[0]!r} is in both positives and negatives")
        if self.positive_label == self.negative_label:
            raise ValueError("positive_label and negative_label must differ")
        check_range("holdout_frac", self.holdout_frac, 0.01, 0.9)
        check_range("threshold", self.threshold, 0.0, 1.0)
        check_range("lr", self.lr, 1e-6, 10.0)
        check_range("epoch", self.epoch, 1, 10_000)
        check_range("dim", self.dim, 1, 4096)
        check_range("word_ngrams", self.word_ngrams, 2, 10)  # 1 trips fastText 0.9.3
        check_range("min_count", self.min_count, 1)
        check_range("bucket", self.bucket, 1, 2**28)
        check_range("bucket * dim", self.bucket * self.dim, 1, 2**31)  # fastText's float32 matrix: 8 GiB
        if self.seed is not None:
            check_seed("seed", self.seed)
        for key in ("max_docs_per_source", "max_chars"):
            if getattr(self, key) is not None:
                check_range(key, getattr(self, key), 1)


#: The ``[classifier]`` recipe section, read by ``curate classifier train``.
CLASSIFIER_SECTION = Section("classifier", ClassifierSpec)


@dataclasses.dataclass(frozen=True)
class Labelled:
    ids: pa.Array
    lines: list[str]
    labels: np.ndarray  # bool: True = positive


def read_labelled(recipe, spec: ClassifierSpec) -> Labelled:
    """Read every document of the named sources (recipe order) with curate's readers."""
    from curate.readers import read_file
    from curate.recipe import source_files

    known = {s.name for s in recipe.sources}
    for name in spec.positives + spec.negatives:
        if name not in known:
            raise RecipeError(f"classifier: source {name!r} is not a [[sources]] name; "
                              f"have: {', '.join(sorted(known))}")
    wanted = set(spec.positives + spec.negatives)
    ids, lines, labels, per_source = [], [], [], {}
    base = recipe.path.parent
    for source, path in source_files(recipe):
        if source.name not in wanted:
            continue
        for chunk in read_file(source, path, os.path.relpath(path, base), recipe.output.batch_rows):
            batch = chunk.batch
            if spec.max_docs_per_source is not None:
                room = spec.max_docs_per_source - per_source.get(source.name, 0)
                batch = batch.slice(0, max(0, room))
            per_source[source.name] = per_source.get(source.name, 0) + batch.num_rows
            ids.append(batch.column("id"))
            lines += fasttext_lines(batch.column("text"), lowercase=spec.lowercase, max_chars=spec.max_chars)
            labels.append(np.full(batch.num_rows, source.name in spec.positives))
    ids_arr = pa.chunked_array(ids, pa.string()).combine_chunks() if ids else pa.array([], pa.string())
    return Labelled(ids_arr, lines, np.concatenate(labels) if labels else np.zeros(0, bool))


def train_fasttext(spec: ClassifierSpec, lines: list[str], labels: np.ndarray, order_key: np.ndarray,
                   seed: int, output: Path):
    """Train the supervised model on ``lines`` (shuffled by ``order_key``), save it to ``output``
    and return it loaded."""
    from curate.models.fasttext_model import load_fasttext
    from curate.models.fasttext_train import train_in_subprocess

    names = np.where(labels, spec.positive_label, spec.negative_label)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as scratch:
        train_path = Path(scratch) / "train.txt"
        with train_path.open("w", encoding="utf-8") as f:
            for i in np.argsort(order_key, kind="stable"):
                f.write(f"__label__{names[i]} {lines[i]}\n")
        kwargs = dict(input=str(train_path), lr=spec.lr, epoch=spec.epoch, dim=spec.dim,
                      wordNgrams=spec.word_ngrams, minCount=spec.min_count, bucket=spec.bucket,
                      loss=spec.loss, thread=1, seed=seed % 2**31, verbose=0)  # a C int
        tmp_model = Path(scratch) / "model.bin"
        train_in_subprocess(kwargs, tmp_model, Path(scratch))
        os.replace(tmp_model, output)
    load_fasttext.cache_clear()
    return load_fasttext(output)


def evaluate(model, spec: ClassifierSpec, lines: list[str], labels: np.ndarray) -> dict[str, Any]:
    """Precision/recall at the threshold and ROC-AUC of P(positive) on held-out documents."""
    scores = predict_label_prob(model, lines, spec.positive_label)
    precision, recall = precision_recall(labels, scores, spec.threshold)
    return {"precision": round(precision, 6), "recall": round(recall, 6),
            "roc_auc": round(roc_auc(labels, scores), 6), "threshold": spec.threshold,
            "num_heldout": len(lines), "num_heldout_positive": int(labels.sum())}


def train_classifier(recipe, spec: ClassifierSpec) -> dict[str, Any]:
    """Read, split, train, evaluate, save the model and ``<model>.json``; returns the report."""
    seed = recipe.seed if spec.seed is None else spec.seed
    data = read_labelled(recipe, spec)
    from curate.text.hashing import hash_strings, holdout_mask  # numba: only when training

    held = holdout_mask(data.ids, seed, spec.holdout_frac)
    train, test = np.flatnonzero(~held), np.flatnonzero(held)
    for name, rows in (("training", train), ("held-out", test)):
        if len(np.unique(data.labels[rows])) < 2:
            raise RecipeError(f"classifier: the {name} split lacks positives or negatives; add documents "
                              f"or change holdout_frac={spec.holdout_frac}")
    order_key = hash_strings(data.ids, seed=seed + 1)[train]
    model = train_fasttext(spec, [data.lines[i] for i in train], data.labels[train], order_key, seed,
                           spec.model_path)
    metrics = evaluate(model, spec, [data.lines[i] for i in test], data.labels[test])
    report = {"model_path": str(spec.model_path), "seed": seed, "num_train": len(train),
              "num_train_positive": int(data.labels[train].sum()), **metrics,
              "labels": {"positive": spec.positive_label, "negative": spec.negative_label},
              "spec": to_table(spec)}
    spec.model_path.with_name(spec.model_path.name + ".json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return report
