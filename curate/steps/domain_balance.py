"""Per-domain rebalancing (Qwen2.5-style, METHODS.md 7): caps and down-sampling of over-represented
domains, up-sampling of chosen ones, and per-domain statistics. A global step.

Qwen2.5 down-samples domains that are over-represented and repetitive (e-commerce, social media,
entertainment) and up-samples high-value ones (technology, science, academic). Here the unit is the
registered domain written by the ``domain`` step; the user lists the domains (no category model).

Selection is exact and deterministic: within a domain of ``n`` documents the kept ones are those
with the smallest seeded 64-bit hash of their id (seed = the recipe seed; ties by input order),
``limit = min(floor(frac * n + 0.5), max_docs, floor(max_frac * N))`` of them, where ``frac`` is
the domain's ``downsample`` fraction (1 when unlisted), ``max_docs``/``max_frac`` the caps for every
domain and ``N`` the documents entering this step. Kept sets are nested: a smaller limit keeps a
subset of a larger one. The same ids, seed and limits give the same rows for any worker count.
Documents without a domain are never capped. Reasons: ``domain_downsampled`` (cut by the listed
fraction), ``domain_cap`` (cut by a cap).

Up-sampling writes an int32 ``repeat`` column (listed factor, 1 elsewhere) instead of duplicating
rows: duplicates would inflate shards and defeat deduplication and held-out splits keyed on ids.
The manifest records ``"repeat_column"`` so mixers/trainers draw a row ``repeat`` times as often
(or count its tokens ``repeat`` times in a source's budget).

Memory: resolve runs as one engine task, not in the driver: ~40 bytes per document there (id hash,
group code, sort order, decision, repeat) plus the ids and domains while they are read.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.schema import ID
from curate.steps.score_percentile import read_column, write_decisions
from curate.steps.step import ResolveContext, resolve_in_one_task
from curate.text.hashing import hash_strings


def keep_lowest_hash(codes: np.ndarray, hashes: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Keep, in each group ``codes[i] >= 0``, the ``limits[code]`` rows with the smallest hash (ties
    by position). Rows with code -1 are always kept."""
    n = len(codes)
    grouped = codes >= 0
    rows = np.flatnonzero(grouped)
    order = rows[np.lexsort((rows, hashes[rows], codes[rows]))]
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, sorted_codes, side="left")
    rank = np.arange(len(order)) - starts
    keep = np.ones(n, dtype=bool)
    keep[order] = rank < limits[sorted_codes]
    return keep


#: Largest up-sampling factor: mixers expand a row into ``repeat`` index entries.
MAX_REPEAT = 1000


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainBalance:
    """Cap and down-sample over-represented domains, up-sample chosen ones (repeat column); global."""

    name: ClassVar[str] = "domain_balance"
    column: str = param("domain", doc="domain column (written by the `domain` step)")
    max_docs: int | None = param(None, doc="keep at most this many documents of any one domain")
    max_frac: float | None = param(None, doc="keep at most this fraction of the step's input per domain")
    downsample: dict[str, float] = param(default_factory=dict, doc="domain -> fraction of its documents kept")
    upsample: dict[str, int] = param(default_factory=dict,
                                     doc="domain -> repeat factor (>= 1) in the repeat column")
    repeat_column: str = param("repeat", doc="name of the int32 repeat column (written when upsample is set)")
    num_stats_domains: int = param(50, doc="list this many largest domains (plus the listed ones) in stats")

    def __post_init__(self) -> None:
        if self.max_docs is not None:
            check_range("max_docs", self.max_docs, 0)
        if self.max_frac is not None:
            check_range("max_frac", self.max_frac, 0.0, 1.0)
        for d, frac in self.downsample.items():
            check_range(f"downsample.{d}", frac, 0.0, 1.0)
        for d, factor in self.upsample.items():
            check_range(f"upsample.{d}", factor, 1, MAX_REPEAT)
        check_range("num_stats_domains", self.num_stats_domains, 0)

    def manifest_info(self) -> dict[str, Any]:
        return {"repeat_column": self.repeat_column} if self.upsample else {}

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.column not in batch.schema.names:
            raise RecipeError(f"domain_balance: column {self.column!r} is missing; "
                              "add the `domain` step first")
        return batch

    def _limits(self, names: list[str], counts: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-domain (limit from the down-sampling fraction, limit from the caps)."""
        frac = np.array([self.downsample.get(d, 1.0) for d in names], np.float64)
        by_frac = np.floor(frac * counts + 0.5).astype(np.int64)
        cap = np.full(len(names), np.iinfo(np.int64).max, np.int64)
        if self.max_docs is not None:
            cap = np.minimum(cap, self.max_docs)
        if self.max_frac is not None:
            cap = np.minimum(cap, int(np.floor(self.max_frac * total)))
        return by_frac, cap

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        return resolve_in_one_task(self, ctx)

    def select(self, ctx: ResolveContext) -> dict[str, Any]:
        cols, sizes = read_column(ctx, [self.column, ID])
        encoded = pc.dictionary_encode(pc.cast(cols[self.column], pa.string()))
        names = encoded.dictionary.to_pylist()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        counts = np.bincount(codes[codes >= 0], minlength=len(names))
        hashes = hash_strings(cols[ID], seed=ctx.seed)
        by_frac, cap = self._limits(names, counts, len(codes))
        kept_frac = keep_lowest_hash(codes, hashes, by_frac)
        kept = keep_lowest_hash(codes, hashes, np.minimum(by_frac, cap))
        decision = np.where(kept, -1, np.where(kept_frac, 1, 0))
        factor = np.array([self.upsample.get(d, 1) for d in names] + [1], np.int32)
        repeat = factor[codes]  # code -1 picks the trailing 1
        extra = {self.repeat_column: repeat} if self.upsample else None
        write_decisions(ctx, sizes, decision, ["domain_downsampled", "domain_cap"], extra)
        return self._stats(names, codes, counts, kept, factor)

    def _stats(self, names, codes, counts, kept, factor) -> dict[str, Any]:
        kept_counts = np.bincount(codes[(codes >= 0) & kept], minlength=len(names))
        listed = set(self.downsample) | set(self.upsample)
        top = set(np.argsort(-counts, kind="stable")[: self.num_stats_domains].tolist())
        show = sorted((i for i, d in enumerate(names) if i in top or d in listed),
                      key=lambda i: (-counts[i], names[i]))
        return {
            "num_domains": len(names),
            "docs_without_domain": int((codes < 0).sum()),
            "domains": {names[i]: {"in": int(counts[i]), "kept": int(kept_counts[i]), "repeat": int(factor[i])}
                        for i in show},
        }
