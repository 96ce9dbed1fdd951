"""Materialise one phase: the sampler's stream written out as ordered Parquet shards plus a
``manifest.json``, for trainers (and exporters) that cannot mix on the fly.

Rows are copied in stream order (a document drawn twice appears twice), with one extra column
``mix_group`` (the group it was drawn for). In an unconditioned phase (``conditioning = false``, e.g.
the MeCo cooldown) the conditioning columns (``prefix_text``, ``prefix_tokens``, ``control_positions``,
``control_ids``) are dropped, so a consumer cannot use them by mistake. Reading is chunked: the refs
of ``chunk_docs`` documents are grouped by shard, taken with one ``Table.take`` per shard (a small
LRU cache of shard tables), and put back in stream order. A ``skill_it`` phase has no feedback here,
so it is written with its initial mixture p_1 (use ``skill_ordered`` for a graph-driven fixed order).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate.config import to_table
from curate.errors import OutputError
from curate.manifest import MANIFEST_NAME, Manifest, make_manifest, shard_entries
from curate.storage import copy_file, rmtree
from curate.writers import ShardWriter
from mixers.phases import PhaseSpec
from mixers.sampler import DocRef, make_sampler

CONDITIONING_COLUMNS = ("prefix_text", "prefix_tokens", "control_positions", "control_ids")
MARKER = "mix.json"


@dataclasses.dataclass(frozen=True, kw_only=True)
class MixOutput:
    max_shard_rows: int = 100_000
    max_shard_bytes: int = 256 * 2**20
    row_group_rows: int = 8192
    compression: str = "zstd"
    chunk_docs: int = 4096
    cached_shards: int = 8


def mix_key(manifest: Manifest, phase: PhaseSpec, seed: int, holdout_frac: float) -> str:
    """sha256 identifying a materialised mix: the build, the phase table, the seed and holdout."""
    blob = orjson.dumps({"build": manifest.fingerprint, "phase": to_table(phase), "seed": seed,
                         "holdout_frac": holdout_frac}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


class _ShardCache:
    def __init__(self, manifest: Manifest, size: int, drop: tuple[str, ...]):
        self.manifest, self.size, self.drop = manifest, size, drop
        self.tables: OrderedDict[int, pa.Table] = OrderedDict()

    def get(self, shard: int) -> pa.Table:
        if shard in self.tables:
            self.tables.move_to_end(shard)
            return self.tables[shard]
        path = self.manifest.root / self.manifest.shards[shard].path
        names = [n for n in pq.read_schema(path).names if n not in self.drop]
        table = pq.read_table(path, columns=names)
        self.tables[shard] = table
        if len(self.tables) > self.size:
            self.tables.popitem(last=False)
        return table


def _rows(cache: _ShardCache, refs: list[DocRef]) -> pa.Table:
    shard = np.array([r.shard for r in refs])
    row = np.array([r.row for r in refs])
    order = np.argsort(shard, kind="stable")
    pieces = []
    for s in np.unique(shard):
        sel = order[shard[order] == s]
        pieces.append(cache.get(int(s)).take(pa.array(row[sel])))
    table = pa.concat_tables(pieces, promote_options="default")
    table = table.take(pa.array(np.argsort(order, kind="stable")))  # back to stream order
    return table.append_column("mix_group", pa.array([r.group for r in refs], pa.string()))


def _prepare_dir(out_dir: Path, key: str, overwrite: bool) -> bool:
    """True when ``out_dir`` already holds this exact mix."""
    if out_dir.exists() and any(out_dir.iterdir()):
        marker = out_dir / MARKER
        ours = marker.is_file()
        if ours and (out_dir / MANIFEST_NAME).is_file() and orjson.loads(marker.read_bytes())["key"] == key \
                and not overwrite:
            return True
        if not ours:
            raise OutputError(f"{out_dir} is not empty and was not written by `curate mix`; choose another --out")
        if not overwrite and (out_dir / MANIFEST_NAME).is_file():
            raise OutputError(f"{out_dir} holds another mix (other phase, seed or build); use --overwrite")
        rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_bytes(orjson.dumps({"key": key}))
    return False


def materialize(manifest: Manifest, phase: PhaseSpec, seed: int, out_dir: Path, *, holdout_frac: float = 0.0,
                overwrite: bool = False, output: MixOutput = MixOutput()) -> Manifest:
    """Write ``phase``'s stream to ``out_dir``; returns its manifest (re-running is a no-op)."""
    key = mix_key(manifest, phase, seed, holdout_frac)
    if _prepare_dir(out_dir, key, overwrite):
        return Manifest.load(out_dir)
    sampler = make_sampler(manifest, phase, seed, holdout_frac)
    cache = _ShardCache(manifest, output.cached_shards, () if phase.conditioning else CONDITIONING_COLUMNS)
    writer = ShardWriter(out_dir / "shards", "part-00000", max_shard_rows=output.max_shard_rows,
                         max_shard_bytes=output.max_shard_bytes, row_group_rows=output.row_group_rows,
                         compression=output.compression)
    groups: dict[str, dict[str, int]] = {g: {"num_docs": 0, "num_tokens": 0} for g in sampler.groups}
    schema = None
    while True:
        refs = [r for _, r in zip(range(output.chunk_docs), sampler)]
        if not refs:
            break
        table = _rows(cache, refs)
        schema = schema or table.schema
        counts = table.group_by("mix_group").aggregate([("num_tokens", "count"), ("num_tokens", "sum")])
        for row in counts.to_pylist():
            groups[row["mix_group"]]["num_docs"] += row["num_tokens_count"]
            groups[row["mix_group"]]["num_tokens"] += row["num_tokens_sum"]
        for batch in table.cast(schema).to_batches():
            writer.write(batch)
    shards = writer.close()
    return _write_manifest(manifest, phase, seed, holdout_frac, key, out_dir, shards, groups)


def _write_manifest(manifest, phase, seed, holdout_frac, key, out_dir, shards, groups) -> Manifest:
    """The mix's manifest: its shards as one source ``mix:<phase>``, the build's recipe, inputs,
    tokenizer (copied along) and repeat column, and a ``mix`` entry (phase, seed, groups)."""
    name = f"mix:{phase.name}"
    tok = manifest.tokenizer
    if tok is not None and (manifest.root / tok.path).is_file():
        dst = out_dir / tok.path
        dst.parent.mkdir(parents=True, exist_ok=True)
        copy_file(manifest.root / tok.path, dst)
    mix = {"phase": to_table(phase), "seed": seed, "holdout_frac": holdout_frac, "key": key,
           "from": str(manifest.root.resolve()), "build_fingerprint": manifest.fingerprint, "groups": groups}
    result = make_manifest(out_dir, recipe=manifest.recipe, shards=shard_entries(shards, name), source_names=[name],
                           inputs=manifest.inputs, tokenizer=tok, repeat_column=manifest.repeat_column, mix=mix)
    result.save()
    return result
