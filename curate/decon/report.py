"""The contamination report: ``contamination.json`` and its table in ``curate stats``.

Per eval set: its items, how many are indexed (an item with fewer words than the n-gram size has
no n-gram), how many are contaminated (at least one training document matches it) and how many
training documents match any of its items; per contaminated item (most documents first, then
item order): its id, the number of training documents that contain it and up to
``max_examples`` example document ids (the first in input order). Pure functions of the counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

REPORT_NAME = "contamination.json"
TABLE_ITEMS = 5  # contaminated items per eval set that `curate stats` prints


def item_report(doc_idx: np.ndarray, item_idx: np.ndarray, num_items: int, doc_ids: list[str] | np.ndarray,
                max_examples: int) -> tuple[np.ndarray, dict[int, list[str]]]:
    """From matched (document, item) pairs over the whole build (document = global input-order
    number; pairs unique): documents per item, and each item's first ``max_examples`` document ids."""
    counts = np.bincount(item_idx, minlength=num_items).astype(np.int64)
    order = np.lexsort((doc_idx, item_idx))
    items_sorted, docs_sorted = item_idx[order], doc_idx[order]
    starts = np.searchsorted(items_sorted, np.arange(num_items))
    rank = np.arange(len(items_sorted)) - starts[items_sorted] if len(items_sorted) else np.zeros(0, np.int64)
    take = rank < max_examples
    examples: dict[int, list[str]] = {}
    for item, doc in zip(items_sorted[take].tolist(), docs_sorted[take].tolist()):
        examples.setdefault(item, []).append(doc_ids[doc])
    return counts, examples


def build_report(sets: list[tuple[str, int]], item_ids: list[str], item_words: np.ndarray, n: int,
                 doc_counts: np.ndarray, docs_per_set: list[int], examples: dict[int, list[str]],
                 header: dict) -> dict:
    """contamination.json as a dict. ``sets``: (name, number of items) in item order."""
    out_sets = []
    start = 0
    for (name, size), docs in zip(sets, docs_per_set):
        idx = np.arange(start, start + size)
        counts = doc_counts[idx]
        hit = idx[counts > 0]
        hit = hit[np.lexsort((hit, -doc_counts[hit]))]
        out_sets.append({
            "name": name, "items": int(size), "indexed_items": int((item_words[idx] >= n).sum()),
            "contaminated_items": int(len(hit)), "documents": int(docs),
            "contaminated": [{"id": item_ids[i], "documents": int(doc_counts[i]),
                              "example_ids": examples.get(int(i), [])} for i in hit.tolist()],
        })
        start += size
    return {**header, "eval_sets": out_sets}


def write_report(report: dict, path: Path) -> None:
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))


def table_lines(out_dir: Path) -> list[str]:
    """The contamination table for ``curate stats`` (empty when the build has no report)."""
    path = out_dir / REPORT_NAME
    if not path.is_file():
        return []
    try:
        report = orjson.loads(path.read_bytes())
        sets = report["eval_sets"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return [f"contamination: {path} is unreadable; rerun the build with --overwrite to rewrite it"]
    lines = [f"contamination ({report.get('ngram_size')}-grams, min_overlap {report.get('min_overlap')}, "
             f"action {report.get('action')}): {report.get('documents_contaminated', 0):,} documents",
             f"  {'eval set':24} {'items':>8} {'indexed':>8} {'contaminated':>12} {'documents':>10}"]
    for s in sets:
        lines.append(f"  {s['name'][:24]:24} {s['items']:>8,} {s['indexed_items']:>8,} "
                     f"{s['contaminated_items']:>12,} {s['documents']:>10,}")
        for item in s["contaminated"][:TABLE_ITEMS]:
            examples = ", ".join(item["example_ids"][:3])
            lines.append(f"    {item['id'][:40]:40} {item['documents']:>6,} docs  e.g. {examples}")
        if len(s["contaminated"]) > TABLE_ITEMS:
            lines.append(f"    ... {len(s['contaminated']) - TABLE_ITEMS} more in {REPORT_NAME}")
    return lines
