"""Benchmark decontamination: find training documents that contain evaluation items, drop them or
cut the matching spans or lines, and report per eval set and per item (``contamination.json``).

Method (``curate/decon/ngrams.py``): words are normalised (lower-cased; punctuation, symbols and
spaces separate words and are ignored; digits kept), every ``ngram_size``-word n-gram of every eval
item is hashed into one sorted index, built once per process (before workers fork) and bounded by
``max_index_ngrams`` (16 bytes per n-gram). A training document matches an item when it contains
one of the item's n-grams and, with ``min_overlap`` > 0, those n-grams cover at least that fraction
of the item's words. Reference values: 13-grams and any single match (GPT-3, OLMo / Dolma's
decontamination; the default). Llama 2 (Touvron et al. 2023, A.6) called a sample "dirty" when
matching n-grams covered more than 80% of its tokens: ``ngram_size = 8, min_overlap = 0.8`` is that
rule over words.
Items shorter than ``ngram_size`` words cannot match (reported as not indexed).

``action``: ``"drop"`` removes the document (reason ``contaminated``); ``"spans"`` cuts the matched
n-grams' text out of it (from the first matched word's start to the last one's end); ``"lines"`` cuts
every line a match touches, with its line break; ``"report"`` changes nothing and only reports.
A document that ``"spans"`` or ``"lines"`` leaves without a non-space character is dropped
(``contaminated``). The cut happens in ``prepare`` (the text of every later step is the cut text).

Global step: ``prepare`` (parallel) matches each document and stores its matched items
(``_decon_items``), the removed codepoints and whether nothing is left; ``resolve`` runs as engine
phases: ``decon_parts`` (a task per part) writes the part's decisions and its per-item document
counts with the part's first ``max_examples`` example ids; ``decon_report`` (one task) merges them in
input order (so examples are the first in the corpus) and writes ``contamination.json`` (``curate/decon/report.py``), shown as a table by ``curate stats``. The
decisions depend only on the documents and the eval sets, so any ``--workers`` gives the same bytes.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any, ClassVar, Literal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.config import check_range, param
from curate.decon import ngrams
from curate.decon.evalsets import EvalSet, load_items
from curate.decon.report import REPORT_NAME, build_report, item_report, write_report
from curate.engines.shuffle import read_file, write_file
from curate.errors import RecipeError
from curate.schema import ID, TEXT
from curate.step_files import step_file_digests
from curate.steps.step import ARTEFACTS_KEY, ResolveContext, with_columns

ITEMS_COLUMN = "_decon_items"
REMOVED_COLUMN = "_decon_removed_chars"
EMPTY_COLUMN = "_decon_empty"
REASON = "contaminated"


@dataclasses.dataclass(frozen=True)
class EvalIndex:
    """The n-gram index of all eval sets, with each item's id and each set's (name, item count)."""

    index: ngrams.NgramIndex
    item_ids: list[str]
    sets: list[tuple[str, int]]


def eval_index(eval_sets: tuple[EvalSet, ...], n: int, max_ngrams: int) -> EvalIndex:
    """Load every eval set and index it (cached: once per process, configuration and file contents,
    so an edited eval file is re-read; the same digests are in the recipe fingerprint)."""
    digests = orjson.dumps(step_file_digests(eval_sets), option=orjson.OPT_SORT_KEYS)
    return _eval_index(eval_sets, n, max_ngrams, digests)


@lru_cache(maxsize=4)
def _eval_index(eval_sets: tuple[EvalSet, ...], n: int, max_ngrams: int, digests: bytes) -> EvalIndex:
    ids, texts, sets = [], [], []
    for es in eval_sets:
        set_ids, set_texts = load_items(es)
        ids += set_ids
        texts += set_texts
        sets.append((es.name, len(set_ids)))
    try:
        index = ngrams.NgramIndex.build(pa.array(texts, pa.large_string()), n, max_ngrams)
    except ValueError as exc:
        raise RecipeError(f"steps (decontaminate): {exc}") from None
    return EvalIndex(index, ids, sets)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decontaminate:
    """Find documents containing eval items (word n-grams); drop them (reason ``contaminated``) or
    cut the matching spans or lines; writes contamination.json (per eval set and item)."""

    name: ClassVar[str] = "decontaminate"
    artefacts: ClassVar[tuple[str, ...]] = (REPORT_NAME,)
    eval_sets: tuple[EvalSet, ...] = param(doc="[[steps.eval_sets]] tables: name, paths, fields, id_field")
    ngram_size: int = param(13, doc="words per n-gram (13: GPT-3, OLMo; 8: Llama 2 with min_overlap)")
    min_overlap: float = param(0.0, doc="fraction of an item's words its matched n-grams must cover (0: any match)")
    action: Literal["drop", "spans", "lines", "report"] = param("drop", doc="drop the document, cut the "
                                                                 "matched spans or lines, or only report")
    max_examples: int = param(5, doc="example document ids per contaminated item in the report")
    max_index_ngrams: int = param(50_000_000, doc="memory bound of the eval index (16 bytes per n-gram)")

    def __post_init__(self) -> None:
        if not self.eval_sets:
            raise ValueError("eval_sets must list at least one [[steps.eval_sets]] table")
        names = [e.name for e in self.eval_sets]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise ValueError(f"eval_sets: the name {dup!r} is used twice; names must be unique")
        check_range("ngram_size", self.ngram_size, 1, 64)
        check_range("min_overlap", self.min_overlap, 0.0, 1.0)
        check_range("max_examples", self.max_examples, 0, 1000)
        check_range("max_index_ngrams", self.max_index_ngrams, 1)

    def _index(self) -> EvalIndex:
        return eval_index(self.eval_sets, self.ngram_size, self.max_index_ngrams)

    def warm_up(self) -> None:
        """Build the eval index once, before the runner forks workers (they inherit it)."""
        self._index()

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = batch.column(TEXT)
        index = self._index().index
        m = ngrams.find_matches(text, index, self.min_overlap)
        n = batch.num_rows
        offsets = np.searchsorted(m.pairs[:, 0], np.arange(n + 1)).astype(np.int32)
        items = pa.ListArray.from_arrays(pa.array(offsets), pa.array(m.pairs[:, 1].astype(np.int32)))
        removed = np.zeros(n, np.int64)
        empty = np.zeros(n, bool)
        columns: dict[str, Any] = {ITEMS_COLUMN: items}
        if self.action in ("spans", "lines") and len(m.spans):
            text, removed = ngrams.cut_spans(text, m.spans, whole_lines=self.action == "lines")
            blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0).to_numpy(zero_copy_only=False)
            empty = (removed > 0) & blank
            columns[TEXT] = text
        columns[REMOVED_COLUMN] = pa.array(removed, pa.int64())
        columns[EMPTY_COLUMN] = pa.array(empty, pa.bool_())
        return with_columns(batch, columns)

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        """Two engine phases: ``decon_parts`` (a task per part: its decision file and its items'
        document counts and first examples) and ``decon_report`` (one task: the merged report)."""
        summaries = [ctx.scratch_dir / "decon_parts" / f"{i:06d}.arrow" for i in range(len(ctx.part_paths))]
        parts = ctx.phase("decon_parts", _part_task, [(self, part, out, summary) for part, out, summary
                                                      in zip(ctx.part_paths, ctx.decision_paths, summaries)])
        totals = {key: sum(p[key] for p in parts) for key in ("documents_scanned", "documents_contaminated",
                                                                "documents_dropped", "chars_removed")}
        docs_per_set = np.sum([p["docs_per_set"] for p in parts], axis=0, dtype=np.int64).tolist() if parts else []
        return ctx.phase("decon_report", _report_task,
                         [(self, summaries, totals, docs_per_set, ctx.scratch_dir / REPORT_NAME)])[0]


SUMMARY = pa.schema([("item", pa.int64()), ("documents", pa.int64()), ("example_ids", pa.list_(pa.string()))])


def _part_task(args: tuple[Decontaminate, Any, Any, Any]) -> dict[str, Any]:
    """One part: write its decisions; summarise its matches per item (documents, first example ids)."""
    step, part, out, summary = args
    ev = step._index()
    set_of_item = np.repeat(np.arange(len(ev.sets)), [size for _, size in ev.sets])
    t = pq.read_table(part, columns=[ID, ITEMS_COLUMN, REMOVED_COLUMN, EMPTY_COLUMN])
    lists = t.column(ITEMS_COLUMN).combine_chunks()
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    hit = lengths > 0
    items = pc.list_flatten(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    docs = np.repeat(np.arange(t.num_rows), lengths)  # the part's row of each (document, item) pair
    drop = hit if step.action == "drop" else t.column(EMPTY_COLUMN).to_numpy(zero_copy_only=False)
    codes = np.where(drop, 0, -1).astype(np.int32)
    reason = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array([REASON]))
    pq.write_table(pa.table({"reason": reason.cast(pa.string())}), out)
    counts, examples = item_report(docs, items, len(ev.item_ids), t.column(ID).cast(pa.string()).to_pylist()
                                   if hit.any() else [], step.max_examples)
    found = np.flatnonzero(counts)
    write_file(summary, pa.table({"item": found, "documents": counts[found],
                                  "example_ids": [examples.get(int(i), []) for i in found]}, schema=SUMMARY))
    doc_set = np.unique(np.stack([docs, set_of_item[items]], axis=1), axis=0) if len(docs) else \
        np.zeros((0, 2), np.int64)
    return {"documents_scanned": t.num_rows, "documents_contaminated": int(hit.sum()),
            "documents_dropped": int(drop.sum()), "chars_removed": int(t.column(REMOVED_COLUMN).to_numpy().sum()),
            "docs_per_set": np.bincount(doc_set[:, 1], minlength=len(ev.sets)).tolist()}


def _report_task(args: tuple[Decontaminate, list, dict[str, int], list[int], Any]) -> dict[str, Any]:
    """Merge the part summaries in input order into contamination.json; returns the step's stats.
    Memory: the eval items' counts and examples, not the corpus."""
    step, summaries, totals, docs_per_set, path = args
    ev = step._index()
    doc_counts = np.zeros(len(ev.item_ids), np.int64)
    examples: dict[int, list[str]] = {}
    for summary in summaries:
        t = read_file(summary)
        items = t.column("item").to_numpy()
        np.add.at(doc_counts, items, t.column("documents").to_numpy())
        for item, ids in zip(items.tolist(), t.column("example_ids").to_pylist()):
            have = examples.setdefault(item, [])
            have += ids[:step.max_examples - len(have)]
    header = {"ngram_size": step.ngram_size, "min_overlap": step.min_overlap, "action": step.action,
              "documents_scanned": totals["documents_scanned"],
              "documents_contaminated": totals["documents_contaminated"],
              "documents_dropped": totals["documents_dropped"], "chars_removed": totals["chars_removed"],
              "index_ngrams": int(len(ev.index.hashes))}
    report = build_report(ev.sets, ev.item_ids, ev.index.item_words, step.ngram_size, doc_counts,
                          docs_per_set or [0] * len(ev.sets), examples, header)
    write_report(report, path)
    per_set = {s["name"]: {"items": s["items"], "contaminated_items": s["contaminated_items"],
                           "documents": s["documents"]} for s in report["eval_sets"]}
    return {**{k: v for k, v in header.items() if isinstance(v, int)},
            "contaminated_items": int((doc_counts > 0).sum()), "eval_sets": per_set,
            ARTEFACTS_KEY: [REPORT_NAME]}
