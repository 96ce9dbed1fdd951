"""The document index of a build: per mixing group, which (shard, row) documents exist and their
token counts, read from the manifest's shards (only the ``num_tokens``, group and ``id`` columns).

Up-sampled documents: when the manifest names a ``repeat_column`` (written by ``domain_balance``),
a row with repeat r appears r times in its group, so every epoch draws it r times (its tokens count
r times as available); r = 0 leaves it out.

Validation documents (the *holdout*) are chosen by a seeded 64-bit hash of the document id:
``u = (hash(id, seed') >> 11) / 2^53 < holdout_frac`` (``curate.text.hashing.holdout_mask``, the
same split the classifier holds out). Membership depends only on the id, seed and
fraction, so it is the same for every phase, shard layout and machine; a sampler built with the same
seed and fraction never yields a held-out document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.manifest import Manifest
from curate.text.hashing import holdout_mask


@dataclasses.dataclass(frozen=True)
class GroupDocs:
    shard: np.ndarray  # int32, index into manifest.shards
    row: np.ndarray  # int64, row within the shard
    num_tokens: np.ndarray  # int64


@dataclasses.dataclass(frozen=True)
class DocIndex:
    group_by: str
    groups: tuple[str, ...]  # sorted
    docs: dict[str, GroupDocs]

    def tokens(self) -> dict[str, int]:
        return {g: int(self.docs[g].num_tokens.sum()) for g in self.groups}

    def num_docs(self) -> dict[str, int]:
        return {g: len(self.docs[g].row) for g in self.groups}


def _read_shard(manifest: Manifest, i: int, group_by: str, need_ids: bool,
                repeat_column: str | None = None) -> pa.Table:
    path = manifest.root / manifest.shards[i].path
    names = pq.read_schema(path).names
    if "num_tokens" not in names:
        raise CurateError(f"{path}: no num_tokens column; the build needs a tokenize step before mixing")
    if group_by not in names:
        hint = {"skill": "add a skill_* step to the recipe",
                "length_bucket": "add a length_bucket step after tokenize",
                "style": "add a rephrase or knowledge_augment step"}.get(group_by, "is this a curate shard?")
        raise CurateError(f"{path}: no {group_by!r} column to group by; {hint}")
    cols = ["num_tokens", group_by] + (["id"] if need_ids else [])
    if repeat_column is not None:
        if repeat_column not in names:
            raise CurateError(f"{path}: the manifest names repeat column {repeat_column!r} but the shard lacks it")
        cols.append(repeat_column)
    return pq.read_table(path, columns=cols)


def build_index(manifest: Manifest, group_by: str, seed: int = 0, holdout_frac: float = 0.0,
                *, holdout: bool = False) -> DocIndex:
    """The index of the non-held-out documents (or, with ``holdout=True``, of the held-out ones).
    Documents with 0 tokens are left out (they carry nothing to train on)."""
    if not 0.0 <= holdout_frac < 1.0:
        raise CurateError(f"holdout_frac={holdout_frac!r} is out of range; allowed: 0 <= holdout_frac < 1")
    shard_ids, rows, tokens, labels = [], [], [], []
    repeat_column = manifest.repeat_column
    for i in range(len(manifest.shards)):
        t = _read_shard(manifest, i, group_by, holdout_frac > 0, repeat_column)
        ntok = t.column("num_tokens").to_numpy().astype(np.int64)
        keep = ntok > 0
        if holdout_frac > 0:
            in_holdout = holdout_mask(t.column("id"), seed, holdout_frac)
            keep &= in_holdout if holdout else ~in_holdout
        elif holdout:
            keep[:] = False
        group = t.column(group_by)
        if group.null_count:
            raise CurateError(f"{manifest.shards[i].path}: {group.null_count} rows have a null {group_by!r}")
        idx = np.flatnonzero(keep)
        if repeat_column is not None:
            repeat = t.column(repeat_column).to_numpy(zero_copy_only=False).astype(np.int64)
            idx = np.repeat(idx, np.maximum(repeat[idx], 0))
        shard_ids.append(np.full(len(idx), i, dtype=np.int32))
        rows.append(idx.astype(np.int64))
        tokens.append(ntok[idx])
        labels.append(pc.take(group, pa.array(idx)).combine_chunks().cast(pa.string()))
    return _group(group_by, shard_ids, rows, tokens, labels)


def _group(group_by: str, shard_ids: Sequence[np.ndarray], rows: Sequence[np.ndarray],
           tokens: Sequence[np.ndarray], labels: Sequence[pa.Array]) -> DocIndex:
    if not labels:
        return DocIndex(group_by, (), {})
    shard = np.concatenate(shard_ids)
    row = np.concatenate(rows)
    ntok = np.concatenate(tokens)
    enc = pc.dictionary_encode(pa.chunked_array(labels, pa.string())).combine_chunks()
    names = enc.dictionary.to_pylist()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")  # keeps manifest (shard, row) order inside a group
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    docs = {}
    for c, name in enumerate(names):
        sel = order[bounds[c]:bounds[c + 1]]
        docs[name] = GroupDocs(shard[sel], row[sel], ntok[sel])
    return DocIndex(group_by, tuple(sorted(names)), docs)
