"""Tiny token-column builds for the mixers tests: shards written directly (the shard columns of
CONTRACTS.md "Shard schema", "Token columns") and their manifest made by curate's one constructor, so the tests do not depend on
the tokenize step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.manifest import Manifest, RecipeRef, make_manifest, shard_entries
from curate.writers import ShardWriter


def write_build(root: Path, groups: dict[str, list[int]], *, skills: dict[str, list[str]] | None = None,
                shard_rows: int = 7, with_prefix: bool = False) -> Manifest:
    """One source per key of ``groups`` (its documents' token counts); ``skills`` optionally gives each
    document's skill. Tokens are ``range``-like uint16 ids so rows are recognisable."""
    shards = []
    for k, (source, counts) in enumerate(groups.items()):
        n = len(counts)
        ids = [f"{source}/{i}" for i in range(n)]
        tokens = [list(np.arange(c, dtype=np.uint16) + i) for i, c in enumerate(counts)]
        cols = {
            "id": pa.array(ids, pa.string()),
            "text": pa.array([f"doc {x}" for x in ids], pa.large_string()),
            "source": pa.array([source] * n, pa.string()),
            "url": pa.array([f"https://{source}.example/{i}" for i in range(n)], pa.string()),
            "tokens": pa.array(tokens, pa.list_(pa.uint16())),
            "num_tokens": pa.array(counts, pa.int32()),
        }
        if skills is not None:
            cols["skill"] = pa.array(skills[source], pa.string())
        if with_prefix:
            cols["prefix_text"] = pa.array([f"URL: {source}.example\n\n"] * n, pa.string())
            cols["prefix_tokens"] = pa.array([[1, 2]] * n, pa.list_(pa.uint16()))
        writer = ShardWriter(root / "shards", f"part-{k:05d}", max_shard_rows=shard_rows,
                             max_shard_bytes=2**30, row_group_rows=4)
        writer.write(pa.RecordBatch.from_pydict(cols))
        shards += shard_entries(writer.close(), source)
    manifest = make_manifest(root, recipe=RecipeRef(name="test", fingerprint="0" * 64, path="", seed=0),
                             shards=shards, source_names=list(groups))
    manifest.save()
    return manifest
