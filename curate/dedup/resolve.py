"""The global half of ``minhash_dedup``: band keys of every fragment (and of earlier indexes) ->
clusters -> one decision file per fragment, optionally a saved index. See
``curate/steps/minhash_dedup.py`` for the method and ``curate/dedup/cluster.py`` for the memory
bound.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.dedup.cluster import (BandKeySpill, all_edges, connected_components, kept_members,
                                  partition_bits, size_histogram)
from curate.dedup.index import IndexWriter, MinHashIndex, bands_matrix
from curate.schema import ID
from curate.steps.step import ResolveContext

BANDS_COLUMN = "_minhash_bands"
SCORE_COLUMN = "_minhash_score"
REASON = "minhash_duplicate"


def _spill_all(ctx: ResolveContext, indexes: list[MinHashIndex], num_bands: int, by_score: bool,
               num_docs: int) -> tuple[BandKeySpill, np.ndarray | None, int]:
    """Spill every band key; returns the spill, the scores of the build's documents (or None) and
    the number of documents without a signature."""
    spill = BandKeySpill(ctx.scratch_dir / "minhash", partition_bits(num_docs * num_bands))
    offset, no_signature, scores = 0, 0, []
    for index in indexes:
        for keys in index.iter_keys():
            spill.add(keys, np.ones(len(keys), bool), offset)
            offset += len(keys)
    columns = [BANDS_COLUMN] + ([SCORE_COLUMN] if by_score else [])
    for path in ctx.part_paths:
        for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=65536):
            keys, valid = bands_matrix(batch.column(0), num_bands)
            spill.add(keys, valid, offset)
            no_signature += int((~valid).sum())
            offset += batch.num_rows
            if by_score:
                scores.append(batch.column(1).to_numpy(zero_copy_only=False))
    score = (np.concatenate(scores) if scores else np.zeros(0)) if by_score else None
    return spill, score, no_signature


def _id_batches(ctx: ResolveContext, indexes: list[MinHashIndex]) -> Iterator[pa.Array]:
    for index in indexes:
        yield from index.iter_ids()
    for path in ctx.part_paths:
        for batch in pq.ParquetFile(path).iter_batches(columns=[ID], batch_size=65536):
            yield batch.column(0)


def lookup_ids(needed: np.ndarray, batches: Iterator[pa.Array]) -> pa.Array:
    """The ids of the (sorted, unique) global document numbers ``needed``, read batch by batch."""
    out, offset = [], 0
    for ids in batches:
        lo, hi = np.searchsorted(needed, [offset, offset + len(ids)])
        if hi > lo:
            out.append(ids.take(pa.array(needed[lo:hi] - offset)))
        offset += len(ids)
    return pa.concat_arrays(out).cast(pa.string()) if out else pa.array([], pa.string())


def _write_decisions(ctx: ResolveContext, kept: np.ndarray, num_old: int, cluster_size: np.ndarray,
                     needed: np.ndarray, needed_ids: pa.Array, num_bands: int,
                     save: IndexWriter | None) -> None:
    needed_ids = pa.concat_arrays([needed_ids, pa.array([""], pa.string())])
    offset = num_old
    for path, out in zip(ctx.part_paths, ctx.decision_paths):
        table = pq.read_table(path, columns=[ID, BANDS_COLUMN])
        n = table.num_rows
        own_ids = pa.chunked_array(table.column(ID).chunks, pa.string()).combine_chunks() \
            if n else pa.array([], pa.string())
        kept_of = kept[offset:offset + n]
        removed = kept_of != np.arange(offset, offset + n)
        pos = np.minimum(np.searchsorted(needed, kept_of), len(needed))
        pos[~removed] = len(needed)
        other = needed_ids.take(pa.array(pos))
        mask = pa.array(removed)
        pq.write_table(pa.table({
            "reason": pa.array(np.where(removed, REASON, None), pa.string()),
            "duplicate_of": pc.if_else(mask, other, pa.nulls(n, pa.string())),
            "dup_cluster": pc.if_else(mask, other, own_ids),
            "dup_cluster_size": pa.array(cluster_size[kept_of], pa.int64()),
        }), out)
        if save is not None and n:
            keys, valid = bands_matrix(table.column(BANDS_COLUMN), num_bands)
            rows = np.flatnonzero(~removed & valid)
            save.write(own_ids.take(pa.array(rows)), keys[rows])
        offset += n


def resolve_clusters(ctx: ResolveContext, indexes: list[MinHashIndex], *, num_bands: int,
                     by_score: bool, save: IndexWriter | None) -> dict[str, Any]:
    """Cluster, write the decisions (and the index); returns the stats for stats.json."""
    num_old = sum(index.num_docs for index in indexes)
    num_new = sum(pq.ParquetFile(p).metadata.num_rows for p in ctx.part_paths)
    num_docs = num_old + num_new
    spill, score, no_signature = _spill_all(ctx, indexes, num_bands, by_score, num_docs)
    partitions = spill.close()
    root, num_edges = connected_components(num_docs, all_edges(partitions, ctx.num_workers))
    for path in partitions:
        path.unlink()
    kept = kept_members(root, num_old, score)
    del root
    cluster_size = np.bincount(kept[num_old:], minlength=num_docs)
    new_kept = kept[num_old:]
    removed = new_kept != np.arange(num_old, num_docs)
    needed = np.unique(new_kept[removed])
    needed_ids = lookup_ids(needed, _id_batches(ctx, indexes))
    _write_decisions(ctx, kept, num_old, cluster_size, needed, needed_ids, num_bands, save)
    if save is not None:
        save.close()
    sizes = cluster_size[num_old:]
    return {
        "num_docs": num_new,
        "num_index_docs": num_old,
        "num_without_shingles": no_signature,
        "num_partitions": len(partitions),
        "num_candidate_edges": num_edges,
        "num_clusters": int((sizes >= 2).sum()),
        "num_duplicates": int(removed.sum()),
        "num_duplicates_of_index": int((new_kept[removed] < num_old).sum()),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "cluster_size_histogram": size_histogram(sizes),
    }
