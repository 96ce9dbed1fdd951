"""The global half of ``exact_dedup`` and ``url_dedup`` as engine phases: a hash-partitioned group-by.

===============  =======================  ===============================================
phase            tasks                    writes
===============  =======================  ===============================================
exact_hashes     one per part             (hash, doc, id) -> hash partitions (top bits)
exact_groups     one per hash partition   (doc, first id) of each later duplicate -> range
exact_decisions  one per part             the part's decision file
===============  =======================  ===============================================

(``url_dedup`` names its phases ``url_*``.) Within a hash partition the rows are sorted by (hash,
rank descending, document number), so each group's best-ranked, then earliest, document comes
first: the kept one, exactly as a single pass in input order would choose. ``exact_dedup`` ranks
every document 0 (first occurrence wins); ``url_dedup`` by timestamp or length. A null key (a
document without a URL) is in no group. The driver holds no bytes per document; shuffle bytes on disk
are ~(16 + id length) per document; a reduce task holds one hash partition (~``PARTITION_ROWS``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.dedup.cluster import partition_bits
from curate.engines.shuffle import DocRanges, read_partition, write_partitions
from curate.schema import ID
from curate.steps.step import ResolveContext

HASH_COLUMN = "_exact_hash"
REASON = "exact_duplicate"
PARTITION_ROWS = 4 * 2**20
ROWS = pa.schema([("hash", pa.uint64()), ("rank", pa.int64()), ("doc", pa.int64()), ("id", pa.string())])
DUPS = pa.schema([("doc", pa.int64()), ("first_id", pa.string())])


@dataclasses.dataclass(frozen=True)
class Plan:
    scratch: Path
    bits: int
    ranges: DocRanges
    key_column: str = HASH_COLUMN
    rank_column: str | None = None
    reason: str = REASON
    prefix: str = "exact"

    def dir(self, phase: str) -> Path:
        return self.scratch / f"{self.prefix}_{phase}"


def hashes_task(args: tuple[Plan, int, Path, int]) -> dict[str, int]:
    plan, i, path, first = args
    columns = [plan.key_column, ID] + ([plan.rank_column] if plan.rank_column else [])
    t = pq.read_table(path, columns=columns)
    key = t.column(plan.key_column)
    has_key = pc.is_valid(key).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(has_key)
    h = pc.fill_null(key, 0).to_numpy()[rows]
    rank = t.column(plan.rank_column).to_numpy()[rows] if plan.rank_column else np.zeros(len(rows), np.int64)
    table = pa.table({"hash": h, "rank": rank, "doc": rows.astype(np.int64) + first,
                      "id": t.column(ID).cast(pa.string()).take(pa.array(rows))}, schema=ROWS)
    which = (h >> np.uint64(64 - plan.bits)).astype(np.int64) if plan.bits else np.zeros(len(h), np.int64)
    return {"bytes": write_partitions(plan.dir("hashes"), f"m{i:06d}", table, which, 2**plan.bits),
            "without_key": int(t.num_rows - len(rows))}


def groups_task(args: tuple[Plan, int]) -> dict[str, int]:
    plan, k = args
    t = read_partition(plan.dir("hashes"), k, ROWS)
    h = t.column("hash").to_numpy()
    order = np.lexsort((t.column("doc").to_numpy(), -t.column("rank").to_numpy(), h))
    h = h[order]
    first = np.r_[True, h[1:] != h[:-1]] if len(h) else np.zeros(0, bool)
    group_start = np.flatnonzero(first)
    first_row = order[np.repeat(group_start, np.diff(np.r_[group_start, len(h)]))]
    dup = order[~first]
    doc = t.column("doc").to_numpy()
    dups = pa.table({"doc": doc[dup], "first_id": t.column("id").take(pa.array(first_row[~first]))}, schema=DUPS)
    written = write_partitions(plan.dir("groups"), f"k{k:05d}", dups, plan.ranges.which(doc[dup]),
                               plan.ranges.num_ranges)
    sizes = np.diff(np.r_[group_start, len(h)])
    return {"groups": int((sizes > 1).sum()), "duplicates": int(len(dup)), "bytes": written}


def decisions_task(args: tuple[Plan, int, int, Path]) -> int:
    plan, first, n, out = args
    found = [read_partition(plan.dir("groups"), q, DUPS) for q in plan.ranges.overlapping(first, first + n)]
    dups = pa.concat_tables(found).combine_chunks() if found else DUPS.empty_table()
    doc = dups.column("doc").to_numpy()
    mine = np.flatnonzero((doc >= first) & (doc < first + n))
    pos = np.full(n, -1, np.int64)
    pos[doc[mine] - first] = mine
    d = pos >= 0
    reason = pa.array(np.where(d, 0, -1).astype(np.int32), mask=~d)
    pq.write_table(pa.table({
        "reason": pa.DictionaryArray.from_arrays(reason, pa.array([plan.reason])).cast(pa.string()),
        "duplicate_of": dups.column("first_id").take(pa.array(pos, mask=~d)),
    }), out)
    return int(d.sum())


def planned_phases(num_parts: int, num_docs: int) -> list[tuple[str, int, int]]:
    """(phase, tasks, shuffle bytes written) for ``curate explain`` (ids taken as ~24 bytes)."""
    return [("hashes", num_parts, 40 * num_docs), ("groups", 2 ** partition_bits(num_docs, PARTITION_ROWS), 0),
            ("decisions", num_parts, 0)]


def resolve_exact(ctx: ResolveContext, *, key_column: str = HASH_COLUMN, rank_column: str | None = None,
                  reason: str = REASON, prefix: str = "exact") -> dict[str, Any]:
    """Group the documents by ``key_column`` (uint64, null: no group) and drop all but the best
    of each (highest ``rank_column``, then earliest); returns the stats."""
    rows = ctx.part_rows()
    firsts = np.r_[0, np.cumsum(rows)].astype(int).tolist()
    num_docs = firsts[-1]
    plan = Plan(ctx.scratch_dir, partition_bits(num_docs, PARTITION_ROWS), DocRanges.of(num_docs),
                key_column, rank_column, reason, prefix)
    mapped = ctx.phase(f"{prefix}_hashes", hashes_task, [(plan, i, p, firsts[i]) for i, p in enumerate(ctx.part_paths)])
    groups = ctx.phase(f"{prefix}_groups", groups_task, [(plan, k) for k in range(2**plan.bits)])
    ctx.drop(f"{prefix}_hashes")
    ctx.phase(f"{prefix}_decisions", decisions_task, [(plan, firsts[i], n, out)
                                                      for i, (n, out) in enumerate(zip(rows, ctx.decision_paths))])
    return {"num_docs": num_docs, "num_without_key": sum(m["without_key"] for m in mapped),
            "num_duplicate_groups": sum(g["groups"] for g in groups),
            "num_duplicates": sum(g["duplicates"] for g in groups)}
