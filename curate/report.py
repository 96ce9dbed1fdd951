"""End-of-build reports: ``stats.json`` (the funnel) and ``manifest.json`` (the contract).

Counts from every fragment and stage are summed per source, the accounting invariant is checked
(read = kept + dropped + quarantined, per source), then both files are written; the manifest last.
"""

from __future__ import annotations

from typing import Any

import orjson

from curate.manifest import InputEntry, Manifest, RecipeRef, make_manifest, shard_entries
from curate.stats import add_counts, check_accounting, new_counts
from curate.writers import ShardInfo


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


def write_reports(recipe, steps, fragments, layout, results, resolve_stats, seconds: float,
                  profile: dict[str, Any] | None = None) -> Manifest:
    """Write stats.json, then manifest.json (last). ``steps`` are the steps as run (artefacts bound):
    their ``manifest_info()`` fields (tokenizer, repeat column) go into the manifest. ``profile``
    (``--profile`` only) becomes stats.json's ``profile`` key."""
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
    if profile is not None:
        stats["profile"] = profile
    (layout.root / "stats.json").write_bytes(orjson.dumps(stats, option=orjson.OPT_INDENT_2))
    shards = [entry for frag, res in zip(fragments, results[-1])
              for entry in shard_entries([ShardInfo(**s) for s in res["shards"]], frag.source.name)]
    fields: dict[str, Any] = {}
    for step in steps:
        info = getattr(step, "manifest_info", None)
        if info is not None:
            fields.update(info())
    manifest = make_manifest(
        layout.root, shards=shards, source_names=[s.name for s in recipe.sources],
        recipe=RecipeRef(name=recipe.name, fingerprint=recipe.fingerprint(), path=str(recipe.path),
                         seed=recipe.seed),
        inputs=[InputEntry(path=f.rel_path, source=f.source.name, num_bytes=f.path.stat().st_size)
                for f in unique_files(fragments)],
        **fields)
    manifest.save()
    return manifest
