"""End-of-build reports: ``stats.json`` (the funnel) and ``manifest.json`` (the contract).

Counts from every fragment and stage are summed per source, the accounting invariant is checked
(read = kept + dropped + quarantined, per source), then both files are written; the manifest last.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow.parquet as pq

from curate import __version__
from curate.manifest import FORMAT_VERSION, Manifest
from curate.stats import add_counts, check_accounting, new_counts


def merge_counts(recipe, fragments, results) -> dict[str, dict[str, Any]]:
    names = [s.name for s in recipe.steps]
    by_source: dict[str, dict[str, Any]] = {s.name: new_counts(names) for s in recipe.sources}
    for stage_results in results:
        for frag, res in zip(fragments, stage_results):
            add_counts(by_source[frag.source.name], res["counts"])
    return by_source


def _totals(by_source: dict[str, dict[str, Any]], names: list[str]) -> dict[str, Any]:
    total = new_counts(names)
    for c in by_source.values():
        add_counts(total, c)
    return total


def write_reports(recipe, fragments, layout, results, resolve_stats, seconds: float) -> Manifest:
    from curate.plan import unique_files

    names = [s.name for s in recipe.steps]
    by_source = merge_counts(recipe, fragments, results)
    check_accounting(by_source)
    total = _totals(by_source, names)
    stats = {
        "recipe": recipe.name,
        "fingerprint": recipe.fingerprint(),
        "total": total,
        "sources": by_source,
        "global_steps": resolve_stats,
        "seconds": round(seconds, 3),
        "input_mb_per_s": round(total["input_bytes"] / 1e6 / max(seconds, 1e-9), 3),
    }
    (layout.root / "stats.json").write_bytes(orjson.dumps(stats, option=orjson.OPT_INDENT_2))
    shards = []
    for frag, res in zip(fragments, results[-1]):
        for s in res["shards"]:
            shards.append({"path": f"shards/{s['path']}", "source": frag.source.name, "num_docs": s["num_docs"],
                           "num_bytes": s["num_bytes"], "num_tokens": s["num_tokens"]})
    sources: dict[str, Any] = {}
    for src in recipe.sources:
        mine = [s for s in shards if s["source"] == src.name]
        tokens = [s["num_tokens"] for s in mine]
        sources[src.name] = {
            "num_docs": sum(s["num_docs"] for s in mine),
            "num_shards": len(mine),
            "num_tokens": None if (not mine or None in tokens) else sum(tokens),
        }
    columns = []
    if shards:
        arrow_schema = pq.read_schema(layout.root / shards[0]["path"])
        columns = [{"name": f.name, "type": str(f.type)} for f in arrow_schema]
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "curate", "version": __version__},
        "recipe": {"name": recipe.name, "fingerprint": recipe.fingerprint(), "path": str(recipe.path),
                   "seed": recipe.seed},
        "columns": columns,
        "inputs": [{"path": f.rel_path, "source": f.source.name, "num_bytes": f.path.stat().st_size}
                   for f in unique_files(fragments)],
        "shards": shards,
        "sources": sources,
        "tokenizer": None,
    }
    for step in recipe.steps:
        info = getattr(step, "manifest_info", None)
        if info is not None:
            data.update(info())
    manifest = Manifest(root=layout.root, data=data)
    manifest.save()
    return manifest
