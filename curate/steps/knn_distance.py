"""``knn_distance``: distance of each pair to its k-th nearest neighbour (Instruction Mining's
KNN-k indicator, METHODS.md 13; the paper uses k = 6 in a SentenceBERT space).

Embedding, offline: the texts of ``columns`` (default instruction and response, joined by a
newline) as hashed, sublinear TF-IDF vectors, the ones ``skill_cluster`` uses (``tfidf`` there:
words of >= 2 characters of the first ``max_chars`` characters, ``num_features`` = 2^18 buckets,
smooth idf, rows L2-normalised). Distance = cosine distance ``1 - cos``; a text without words is a
zero vector (cosine 0 to everything, distance 1). The score is the distance to the k-th nearest
*other* document (a duplicate counts, at distance 0); with fewer than k + 1 documents it is null.

Exact for sets up to ``max_reference_docs`` (default 20,000): every document is compared with
every other one. Larger sets compare each document with a seeded sample of ``max_reference_docs``
reference documents (itself excluded where sampled), an estimate of the same distance.
Global step; resolve runs as one engine task. Time: O(n x references x words per pair); memory:
the hashed features (4 bytes per word), the TF-IDF matrices (12 bytes per entry) and one block of
``block_rows x references`` float64 similarities (``block_rows`` chosen so a block is <= 64 MiB,
~2x that while the sparse product forms it). Time is n x references: 10,000 bench-corpus texts
(first 2,000 characters) take ~10 s exact, 0.64 GB peak RSS, on the loaded 2-core machine; a million
pairs against 20,000 references ~35 min.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.config import check_range, param
from curate.errors import RecipeError
from curate.steps.score_percentile import write_decisions
from curate.steps.skill_cluster import hashed_features, tfidf
from curate.steps.step import ResolveContext, resolve_in_one_task, with_columns

FEATURES = "_knn_features"
#: Bytes of float64 similarities one block of rows may hold (the sparse product that forms them
#: takes up to ~2x that while it is converted).
BLOCK_BYTES = 64 * 2**20


def kth_neighbour_distance(x: Any, ref: Any, ref_rows: np.ndarray, k: int) -> np.ndarray:
    """Cosine distance of each row of ``x`` (L2-normalised CSR) to its k-th nearest row of ``ref``
    (``ref_rows[j]`` = the row of ``x`` that ``ref[j]`` is, so a row never neighbours itself).
    NaN where fewer than k other references exist."""
    n, m = x.shape[0], ref.shape[0]
    out = np.full(n, np.nan)
    is_ref = np.full(n, -1, np.int64)
    is_ref[ref_rows] = np.arange(m)
    block = max(1, BLOCK_BYTES // (8 * max(m, 1)))
    ref_t = ref.T.tocsr()
    for start in range(0, n, block):
        stop = min(n, start + block)
        sims = (x[start:stop] @ ref_t).toarray()
        own = is_ref[start:stop]
        rows = np.flatnonzero(own >= 0)
        sims[rows, own[rows]] = -np.inf  # not its own neighbour
        others = m - (own >= 0)
        if m >= k:
            kth = np.partition(sims, m - k, axis=1)[:, m - k]  # the k-th largest similarity
            out[start:stop] = np.where(others >= k, 1.0 - kth, np.nan)
    return np.clip(out, 0.0, 2.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class KnnDistance:
    """Adds ``knn<k>_distance`` (float32): cosine distance to the k-th nearest other pair (global)."""

    name: ClassVar[str] = "knn_distance"
    columns: tuple[str, ...] = param(("instruction", "response"), doc="text columns embedded together")
    k: int = param(6, doc="which neighbour: the paper's KNN-6 is k = 6")
    num_features: int = param(2**18, doc="hashed TF-IDF dimensions")
    max_chars: int = param(5_000, doc="embed each pair's first characters only")
    max_reference_docs: int = param(20_000, doc="exact up to this many pairs; above, a seeded sample")
    out_column: str | None = param(None, doc="float32 column to write; default knn<k>_distance")

    def __post_init__(self) -> None:
        check_range("k", self.k, 1, 1000)
        check_range("num_features", self.num_features, 16, 2**26)
        check_range("max_chars", self.max_chars, 1)
        check_range("max_reference_docs", self.max_reference_docs, self.k + 1)
        if not self.columns:
            raise ValueError("columns: empty; name the text columns to embed, e.g. ['instruction', 'response']")

    @property
    def column(self) -> str:
        return self.out_column or f"knn{self.k}_distance"

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        missing = [c for c in self.columns if c not in batch.schema.names]
        if missing:
            raise RecipeError(f"knn_distance: column {missing[0]!r} is missing; add instruction_pair (or "
                              "the step that writes it) first, or set columns")
        big = pa.large_string()
        texts = [pc.fill_null(batch.column(c).cast(big), "") for c in self.columns]
        text = pc.binary_join_element_wise(*texts, pa.scalar("\n", big)) if len(texts) > 1 else texts[0]
        return with_columns(batch, {FEATURES: hashed_features(text, self.max_chars, self.num_features)})

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        return resolve_in_one_task(self, ctx)

    def select(self, ctx: ResolveContext) -> dict[str, Any]:
        parts = [pq.read_table(p, columns=[FEATURES]).column(FEATURES).combine_chunks() for p in ctx.part_paths]
        sizes = [len(p) for p in parts]
        feats = pa.concat_arrays(parts) if parts else pa.array([], pa.list_(pa.uint32()))
        n = len(feats)
        x, _ = tfidf(feats, self.num_features)
        if n > self.max_reference_docs:
            ref_rows = np.sort(np.random.default_rng(ctx.seed).choice(n, self.max_reference_docs, replace=False))
        else:
            ref_rows = np.arange(n)
        dist = kth_neighbour_distance(x, x[ref_rows], ref_rows, self.k)
        valid = ~np.isnan(dist)
        write_decisions(ctx, sizes, np.full(n, -1), [], {self.column: pa.array(dist.astype(np.float32), mask=~valid)})
        return {"num_docs": n, "num_reference_docs": int(len(ref_rows)), "exact": bool(len(ref_rows) == n),
                "mean_distance": float(dist[valid].mean()) if valid.any() else None}
