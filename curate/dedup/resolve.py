"""The global half of ``minhash_dedup`` as engine phases: band keys of every fragment (and of earlier
indexes) -> edges -> connected components -> kept members -> one decision file per fragment,
optionally a saved index. The method is in ``curate/dedup/cluster.py``; this module moves the data.

Phases (each a list of tasks run by the engine and committed with a marker, ``ResolveContext.phase``):

===========  ===============================  =================================================
phase        tasks                            writes (Arrow IPC shuffle files, ``engines/shuffle``)
===========  ===============================  =================================================
bands        one per index file and part      (key, doc) entries -> key partitions
edges        one per key partition            directed edges (u, v) -> document ranges of u
cc1, cc2...  one per document range, a round  rewired edges -> document ranges (star rounds)
members      one per document range           (root, node, score, id) -> range of the root
clusters     one per document range           (node, kept, size, kept id) -> range of the node
decisions    one per part                     the part's decision file (+ its index piece)
index        one (``save_index`` only)        the saved index, pieces concatenated in order
===========  ===============================  =================================================

The driver holds per-part and per-partition numbers only: no bytes per document. A phase's files
are deleted once the next phase is committed, so disk holds at most two phases. Shuffle bytes on
disk, per document: 16 * num_bands (band entries), ~32 per candidate edge and round (both
directions), ~(24 + id length) per clustered document (members, labels).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import faults
from curate.dedup.cluster import (key_edges, kept_of_groups, partition_bits, size_histogram, star_roots,
                                  star_round)
from curate.dedup.index import DOCS_FILE, IndexWriter, MinHashIndex, bands_array, bands_matrix
from curate.engines.shuffle import (DocRanges, PartitionWriter, read_file, read_partition, write_file,
                                    write_partitions)
from curate.errors import FatalError
from curate.schema import ID
from curate.steps.step import ResolveContext

BANDS_COLUMN = "_minhash_bands"
SCORE_COLUMN = "_minhash_score"
REASON = "minhash_duplicate"
MAX_ROUNDS = 200

ENTRIES = pa.schema([("key", pa.uint64()), ("doc", pa.int64())])
EDGES = pa.schema([("u", pa.int64()), ("v", pa.int64())])
MEMBERS = pa.schema([("root", pa.int64()), ("node", pa.int64()), ("score", pa.float64()), ("id", pa.string())])
LABELS = pa.schema([("node", pa.int64()), ("kept", pa.int64()), ("size", pa.int64()), ("kept_id", pa.string())])


@dataclasses.dataclass(frozen=True)
class Source:
    """A file of documents numbered ``first .. first + rows - 1``: an index's docs or a part."""

    path: Path
    first: int
    rows: int
    is_index: bool


@dataclasses.dataclass(frozen=True)
class Plan:
    scratch: Path
    num_bands: int
    by_score: bool
    num_old: int
    num_docs: int
    key_bits: int
    ranges: DocRanges

    def dir(self, phase: str) -> Path:
        return self.scratch / phase


def _sources_in(sources: list[Source], lo: int, hi: int) -> list[Source]:
    return [s for s in sources if s.first < hi and s.first + s.rows > lo]


# ---------------------------------------------------------------- tasks (module-level: picklable)


def bands_task(args: tuple[Plan, int, Source]) -> dict[str, int]:
    """Map: a source's band keys -> key partitions."""
    plan, i, src = args
    column = "bands" if src.is_index else BANDS_COLUMN
    offset, no_signature = src.first, 0
    out = PartitionWriter(plan.dir("bands"), f"m{i:06d}", ENTRIES, 2**plan.key_bits)
    for batch in pq.ParquetFile(src.path).iter_batches(columns=[column], batch_size=65536):
        keys, valid = bands_matrix(batch.column(0), plan.num_bands)
        no_signature += 0 if src.is_index else int((~valid).sum())
        rows = np.flatnonzero(valid)
        key = keys[rows].reshape(-1)
        doc = np.repeat(rows.astype(np.int64) + offset, plan.num_bands)
        offset += batch.num_rows
        which = (key >> np.uint64(64 - plan.key_bits)).astype(np.int64) if plan.key_bits else np.zeros(len(key), np.int64)
        out.write(pa.table({"key": key, "doc": doc}, schema=ENTRIES), which)
    return {"no_signature": no_signature, "bytes": out.close()}


def _write_edges(out_dir: Path, name: str, x: np.ndarray, y: np.ndarray, ranges: DocRanges) -> int:
    u, v = np.concatenate([x, y]), np.concatenate([y, x])
    return write_partitions(out_dir, name, pa.table({"u": u, "v": v}, schema=EDGES), ranges.which(u), ranges.num_ranges)


def edges_task(args: tuple[Plan, int]) -> dict[str, int]:
    """Reduce: one key partition -> candidate edges, both directions, by document range."""
    plan, k = args
    table = read_partition(plan.dir("bands"), k, ENTRIES)
    a, b = key_edges(table.column("key").to_numpy(), table.column("doc").to_numpy())
    written = _write_edges(plan.dir("edges"), f"k{k:05d}", a, b, plan.ranges)
    return {"edges": int(len(a)), "bytes": written}


def star_task(args: tuple[Plan, int, str, str, bool]) -> dict[str, int]:
    """One connected-components round over one document range."""
    plan, q, src, dst, large = args
    faults.hit("task", f"{dst}.{q}")
    table = read_partition(plan.dir(src), q, EDGES)
    x, y, violations, num_edges = star_round(table.column("u").to_numpy(), table.column("v").to_numpy(), large)
    written = _write_edges(plan.dir(dst), f"q{q:05d}", x, y, plan.ranges)
    return {"violations": violations, "edges": num_edges, "bytes": written}


def _column(src: Source, name: str) -> pa.Array:
    col = pq.ParquetFile(src.path).read(columns=[name]).column(name)  # (read_table: a dataset)
    return col.combine_chunks() if col.num_chunks else pa.array([], col.type)


def members_task(args: tuple[Plan, int, str, list[Source]]) -> dict[str, int]:
    """Every clustered document of a range, sent to its root's range with its score and id."""
    plan, q, final, sources = args
    table = read_partition(plan.dir(final), q, EDGES)
    node, root = star_roots(table.column("u").to_numpy(), table.column("v").to_numpy())
    ids, scores = [], []
    for src in sources:
        lo, hi = np.searchsorted(node, [src.first, src.first + src.rows])
        rows = pa.array(node[lo:hi] - src.first)
        ids.append(_column(src, "id" if src.is_index else ID).take(rows).cast(pa.string()))
        if plan.by_score and not src.is_index:
            scores.append(_column(src, SCORE_COLUMN).take(rows).to_numpy(zero_copy_only=False))
        else:
            scores.append(np.full(hi - lo, -np.inf))
    id_column = pa.concat_arrays(ids) if ids else pa.array([], pa.string())
    score = np.concatenate(scores) if scores else np.zeros(0)
    members = pa.table({"root": root, "node": node, "score": score, "id": id_column}, schema=MEMBERS)
    written = write_partitions(plan.dir("members"), f"q{q:05d}", members, plan.ranges.which(root),
                               plan.ranges.num_ranges)
    return {"nodes": int(len(node)), "bytes": written}


def clusters_task(args: tuple[Plan, int]) -> dict[str, Any]:
    """The components rooted in a range: kept member, size (new documents) and the kept id, sent
    to each new member's range; returns {size: count} of components keeping a new document."""
    plan, q = args
    t = read_partition(plan.dir("members"), q, MEMBERS)
    root, node = t.column("root").to_numpy(), t.column("node").to_numpy()
    order = np.lexsort((node, root))
    root, node = root[order], node[order]
    score = t.column("score").to_numpy()[order] if plan.by_score else None
    ids = t.column("id").take(pa.array(order))
    kept_row = kept_of_groups(root, node, score, plan.num_old)
    kept = node[kept_row]
    new = node >= plan.num_old
    starts = np.flatnonzero(np.r_[True, root[1:] != root[:-1]]) if len(root) else np.zeros(0, np.int64)
    group_new = np.add.reduceat(new.astype(np.int64), starts) if len(root) else np.zeros(0, np.int64)
    size = np.repeat(group_new, np.diff(np.r_[starts, len(root)]))
    labels = pa.table({"node": node[new], "kept": kept[new], "size": size[new],
                       "kept_id": ids.take(pa.array(kept_row[new]))}, schema=LABELS)
    written = write_partitions(plan.dir("clusters"), f"q{q:05d}", labels, plan.ranges.which(node[new]),
                               plan.ranges.num_ranges)
    keeps_new = kept[starts] >= plan.num_old if len(root) else np.zeros(0, bool)
    sizes, counts = np.unique(group_new[keeps_new], return_counts=True)
    return {"sizes": {str(int(s)): int(c) for s, c in zip(sizes, counts)},
            "duplicates": int((new & (kept != node)).sum()),
            "duplicates_of_index": int((new & (kept < plan.num_old)).sum()), "bytes": written}


def decisions_task(args: tuple[Plan, Source, Path, Path | None]) -> int:
    """A part's decision file (and its piece of the saved index) from its documents' labels."""
    plan, src, out, piece = args
    lo, n = src.first, src.rows
    found = [read_partition(plan.dir("clusters"), q, LABELS) for q in plan.ranges.overlapping(lo, lo + n)]
    labels = pa.concat_tables(found).combine_chunks() if found else LABELS.empty_table()
    node = labels.column("node").to_numpy()
    mine = np.flatnonzero((node >= lo) & (node < lo + n))
    row = node[mine] - lo
    kept_of = np.arange(lo, lo + n, dtype=np.int64)
    kept_of[row] = labels.column("kept").to_numpy()[mine]
    size = np.ones(n, np.int64)
    size[row] = labels.column("size").to_numpy()[mine]
    pos = np.full(n, -1, np.int64)
    pos[row] = mine
    other = labels.column("kept_id").take(pa.array(pos, mask=pos < 0))
    table = pq.ParquetFile(src.path).read(columns=[ID, BANDS_COLUMN] if piece is not None else [ID])
    own_ids = pa.chunked_array(table.column(ID).chunks, pa.string()).combine_chunks() \
        if n else pa.array([], pa.string())
    removed = kept_of != np.arange(lo, lo + n)
    mask = pa.array(removed)
    pq.write_table(pa.table({
        "reason": pa.array(np.where(removed, REASON, None), pa.string()),
        "duplicate_of": pc.if_else(mask, other, pa.nulls(n, pa.string())),
        "dup_cluster": pc.if_else(mask, other, own_ids),
        "dup_cluster_size": pa.array(size, pa.int64()),
    }), out)
    if piece is not None and n:
        keys, valid = bands_matrix(table.column(BANDS_COLUMN), plan.num_bands)
        rows = np.flatnonzero(~removed & valid)
        write_file(piece, pa.table({"id": own_ids.take(pa.array(rows)), "bands": bands_array(keys[rows])}))
    return int(removed.sum())


def index_task(args: tuple[Path, dict[str, Any], list[Path], int]) -> int:
    """Concatenate the index pieces, in part order, into the saved index."""
    path, params, pieces, num_bands = args
    save = IndexWriter(path, params)
    for piece in pieces:
        if piece.is_file():
            t = read_file(piece)
            save.write(t.column("id"), bands_matrix(t.column("bands"), num_bands)[0])
    save.close()
    return save.num_docs


# ---------------------------------------------------------------- the driver: phases only


def planned_phases(num_parts: int, num_docs: int, num_bands: int) -> list[tuple[str, int, int]]:
    """(phase, tasks, shuffle bytes written) for ``curate explain``; edges assume ~1 candidate
    edge per document, the CC row is per round."""
    bits = partition_bits(num_docs * num_bands)
    ranges = DocRanges.of(num_docs).num_ranges
    return [("bands", num_parts, 16 * num_bands * num_docs), ("edges", 2**bits, 32 * num_docs),
            ("cc round (x rounds)", ranges, 32 * num_docs), ("members", ranges, 40 * num_docs // 4),
            ("clusters", ranges, 40 * num_docs // 4), ("decisions", num_parts, 0)]



def _components(ctx: ResolveContext, plan: Plan) -> tuple[str, int]:
    """Run star rounds until one's input has no violation; returns (its input phase, rounds)."""
    src = "edges"
    for r in range(MAX_ROUNDS):
        dst = f"cc{r + 1}"
        results = ctx.phase(dst, star_task, [(plan, q, src, dst, r % 2 == 0) for q in range(plan.ranges.num_ranges)])
        if sum(x["violations"] for x in results) == 0:
            ctx.drop(dst)  # a converged round rewrites its input
            return src, r
        ctx.drop(src)
        src = dst
    raise FatalError(f"minhash_dedup: connected components did not converge in {MAX_ROUNDS} rounds")


def resolve_clusters(ctx: ResolveContext, indexes: list[MinHashIndex], *, num_bands: int,
                     by_score: bool, save: tuple[Path, dict[str, Any]] | None) -> dict[str, Any]:
    """Cluster and write the decisions (and the index ``save`` = (path, params)) through the
    engine; returns the stats for stats.json."""
    sources: list[Source] = []
    for index in indexes:
        sources.append(Source(index.path / DOCS_FILE, sum(s.rows for s in sources), index.num_docs, True))
    num_old = sum(s.rows for s in sources)
    for path, rows in zip(ctx.part_paths, ctx.part_rows()):
        sources.append(Source(path, sum(s.rows for s in sources), rows, False))
    num_docs = sum(s.rows for s in sources)
    plan = Plan(ctx.scratch_dir, num_bands, by_score, num_old, num_docs,
                partition_bits(num_docs * num_bands), DocRanges.of(num_docs))
    mapped = ctx.phase("bands", bands_task, [(plan, i, s) for i, s in enumerate(sources)])
    edges = ctx.phase("edges", edges_task, [(plan, k) for k in range(2**plan.key_bits)])
    ctx.drop("bands")
    final, rounds = _components(ctx, plan)
    ranges = plan.ranges
    ctx.phase("members", members_task, [(plan, q, final, _sources_in(sources, *ranges.bounds(q)))
                                        for q in range(ranges.num_ranges)])
    ctx.drop(final)
    clusters = ctx.phase("clusters", clusters_task, [(plan, q) for q in range(ranges.num_ranges)])
    ctx.drop("members")
    parts = sources[len(indexes):]
    pieces = [plan.dir("decisions") / f"index-{i:06d}.arrow" if save else None for i in range(len(parts))]
    ctx.phase("decisions", decisions_task, [(plan, src, out, piece)
                                            for src, out, piece in zip(parts, ctx.decision_paths, pieces)])
    if save is not None:
        ctx.phase("index", index_task, [(save[0], save[1], pieces, num_bands)])
    size_counts: dict[int, int] = {}
    for res in clusters:
        for s, c in res["sizes"].items():
            size_counts[int(s)] = size_counts.get(int(s), 0) + c
    num_new = num_docs - num_old
    num_dups = sum(r["duplicates"] for r in clusters)
    num_dups_of_index = sum(r["duplicates_of_index"] for r in clusters)
    clustered_new = sum(s * c for s, c in size_counts.items()) + num_dups_of_index
    largest = max(size_counts) if size_counts else (1 if num_new > clustered_new else 0)
    return {
        "num_docs": num_new,
        "num_index_docs": num_old,
        "num_without_shingles": sum(r["no_signature"] for r in mapped),
        "num_partitions": 2**plan.key_bits,
        "num_candidate_edges": sum(r["edges"] for r in edges),
        "num_clusters": sum(size_counts.values()),
        "num_duplicates": num_dups,
        "num_duplicates_of_index": num_dups_of_index,
        "largest_cluster": largest,
        "cluster_size_histogram": size_histogram(size_counts),
        "cc_rounds": rounds,
    }
