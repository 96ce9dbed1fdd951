"""Knowledge augmentation (Physics of LMs 3.1, Allen-Zhu and Li, 2023): a model stores a fact in
an extractable form only when it sees the fact in diverse phrasings, so each document about one
entity is multiplied into several rewrites.

Per document (of ``sources``, default all), ``copies`` new rows follow it, each built from the text by, in this order:

- ``fullname``: full-name repetition in place of pronouns, with the entity's name read from the
  ``meta`` JSON field ``entity_field`` (default ``name``): ``He``/``She``/``They`` (capitalised,
  whole words) become the name, ``his``/``her``/``their`` become ``<name>'s`` (``her`` is taken
  as possessive, as in bioS; an object ``her`` would read wrongly). Documents without the field
  keep their pronouns (counted as ``no_entity``).
- ``permute``: the sentences (``curate/rephrase/chunking.split_sentences``) in a seeded random
  order, one permutation per copy (seed, id, copy); copies may repeat an order when a document
  has few sentences.

With ``rephrase_styles`` set, the document is also rewritten once per style through the
``rephrase`` backends (the ``[steps.rephrase]``-style settings in ``rephrase``, e.g. ``{ model =
"RUN/final" }`` or ``{ backend = "http", url = ..., model_name = ... }``; the whole document is one
prompt), dropped with reason ``rephrase_<error>`` when generation fails, as the rephrase step does.

New rows: ``id = "<id>/aug:<k>"`` (``/aug:<style>`` for rephrasings), ``derived_from`` the source
id, ``style`` (``permute+fullname``, ``permute``, ``fullname``, or the rephrase style), the source
rows ``style = "original"``, ``generator`` null (``knowledge_augment``) or the rephraser's name.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, from_table, param
from curate.rephrase.chunking import split_sentences
from curate.rephrase.prompts import completion_prompt, user_message
from curate.schema import ID, META, SOURCE, TEXT
from curate.steps.rephrase import DERIVED_FROM, ERROR, GENERATOR, ORIGINAL, STYLE, Rephrase, chunk_seed
from curate.steps.step import interleave, with_columns

_SUBJECT = re.compile(r"\b(?:He|She|They)\b")
_POSSESSIVE = re.compile(r"\b(?:his|her|their|His|Her|Their)\b")


def repeat_name(text: str, name: str) -> str:
    """Pronouns replaced by the full name (subject) or ``name's`` (possessive)."""
    return _POSSESSIVE.sub(f"{name}'s", _SUBJECT.sub(name, text))


def permute_sentences(text: str, seed: int) -> str:
    sentences = [s.strip() for s in split_sentences(text)]
    order = np.random.default_rng(seed).permutation(len(sentences))
    return " ".join(sentences[i] for i in order)


def entity_names(meta: pa.Array, field: str) -> list[str | None]:
    out = []
    for m in meta.to_pylist():
        value = orjson.loads(m).get(field) if m else None
        out.append(value if isinstance(value, str) and value else None)
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class KnowledgeAugment:
    """Multiply each entity document into ``copies`` rewrites: permuted sentences, full names."""

    name: ClassVar[str] = "knowledge_augment"
    copies: int = param(4, doc="rewrites per document (permutation / full-name variants)")
    permute: bool = param(True, doc="shuffle the sentences of each copy (seeded)")
    fullname: bool = param(True, doc="replace pronouns with the entity's full name")
    entity_field: str = param("name", doc="meta JSON field holding the entity's full name")
    seed: int = param(0, doc="permutation seed (mixed with id and copy index)")
    sources: tuple[str, ...] = param((), doc="augment only documents of these sources; default: all")
    rephrase_styles: tuple[str, ...] = param((), doc="also rewrite each document in these rephrase styles")
    rephrase: dict[str, Any] = param(default_factory=dict,
                                     doc="rephrase settings for rephrase_styles (as the rephrase step's keys)")

    def __post_init__(self) -> None:
        check_range("copies", self.copies, 0, 1000)
        if not (self.permute or self.fullname) and self.copies:
            raise ValueError("permute = false and fullname = false: copies would equal the original; "
                             "enable one or set copies = 0")
        if self.rephrase_styles and not self.rephrase:
            raise ValueError("rephrase_styles needs rephrase = { model = PATH } (or an http backend)")
        if self.rephrase_styles:  # parsed now: one-line errors, paths relative to the recipe file
            object.__setattr__(self, "_rephraser", from_table(
                Rephrase, {**self.rephrase, "styles": list(self.rephrase_styles)}, "knowledge_augment.rephrase"))

    @property
    def rephraser(self) -> Rephrase:
        return self._rephraser

    @property
    def variant(self) -> str:
        return "+".join(k for k, on in (("permute", self.permute), ("fullname", self.fullname)) if on)

    def expand(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        ids = batch.column(ID).to_pylist()
        texts = pc.fill_null(batch.column(TEXT), "").to_pylist()
        names = entity_names(batch.column(META), self.entity_field)
        wanted = (pc.is_in(batch.column(SOURCE), pa.array(list(self.sources), pa.string())).to_pylist()
                  if self.sources else [True] * batch.num_rows)
        src, new_ids, new_text, styles, generators, errors = [], [], [], [], [], []
        for i, (doc_id, text, name) in enumerate(zip(ids, texts, names)):
            if not wanted[i]:
                continue
            base = repeat_name(text, name) if self.fullname and name else text
            for k in range(self.copies):
                src.append(i)
                new_ids.append(f"{doc_id}/aug:{k}")
                new_text.append(permute_sentences(base, chunk_seed(self.seed, doc_id, "permute", k))
                                if self.permute else base)
                styles.append(self.variant)
        generators = [None] * len(src)
        errors = [None] * len(src)
        if self.rephrase_styles:
            self._rephrasings(ids, texts, wanted, src, new_ids, new_text, styles, generators, errors)
        out = interleave(batch, np.asarray(src, np.int64), {
            ID: (None, pa.array(new_ids, pa.string())),
            TEXT: (None, pa.array(new_text, pa.large_string())),
            DERIVED_FROM: (pa.nulls(batch.num_rows, pa.string()), pa.array([ids[i] for i in src], pa.string())),
            STYLE: (pa.array([ORIGINAL] * batch.num_rows, pa.string()), pa.array(styles, pa.string())),
            GENERATOR: (pa.nulls(batch.num_rows, pa.string()), pa.array(generators, pa.string())),
            ERROR: (pa.nulls(batch.num_rows, pa.string()), pa.array(errors, pa.string())),
        })
        no_entity = np.zeros(out.num_rows, np.int64)
        no_entity[: min(1, out.num_rows)] = sum(n is None and w for n, w in zip(names, wanted)) if self.fullname else 0
        return with_columns(out, {"_count:no_entity": pa.array(no_entity)})

    def _rephrasings(self, ids, texts, wanted, src, new_ids, new_text, styles, generators, errors) -> None:
        step = self.rephraser
        backend = step.make_backend()
        fmt = user_message if getattr(backend, "api", "completions") == "chat" else completion_prompt
        jobs = [(i, s) for i in range(len(texts)) if wanted[i] for s in step.styles]
        prompts = [fmt(step.instruction(s), texts[i]) for i, s in jobs]
        seeds = [chunk_seed(step.seed, ids[i], s, 0) for i, s in jobs]
        outputs, errs, _ = step.generate_cached(backend, prompts, seeds)
        for (i, s), o, e in zip(jobs, outputs, errs):
            src.append(i)
            new_ids.append(f"{ids[i]}/aug:{s}")
            new_text.append(texts[i] if e else o)
            styles.append(s)
            generators.append(backend.name)
            errors.append(e)

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        return pc.binary_join_element_wise("rephrase_", batch.column(ERROR), "")
