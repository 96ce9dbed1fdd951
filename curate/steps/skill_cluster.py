"""``skill_cluster``: the ``skill`` column from unsupervised clusters: TF-IDF + spherical k-means.

Prepare (parallel): each text's first ``max_chars`` characters, lower-cased, split on non-word
characters (of any script: ``NON_WORD_RE``); words of >= 2 characters are hashed (the stable 64-bit
hash of ``curate/text/hashing``) into ``num_features`` buckets (the hashing trick), kept as the internal column ``_skill_features``.
Resolve (once, input order): a sparse matrix of sublinear term frequencies ``1 + log(tf)`` times
``idf = log((1 + n) / (1 + df)) + 1`` (scikit-learn's smooth idf; words in more than ``max_df``
of the documents, default 0.5, get idf 0), rows L2-normalised. k-means with
cosine similarity (spherical) is fitted on at most ``max_fit_docs`` documents drawn with the run's
seed, initialised by k-means++ (seeded), for at most ``num_iters`` Lloyd rounds; an emptied cluster
restarts at the point farthest from its centre. Every document then gets its nearest centre.
Clusters are named ``{prefix}{i}`` with i = 0 for the largest (ties: lower centre index), so labels
are deterministic. stats.json lists each cluster's size and top terms.

Memory: resolve runs as one engine task, not in the driver: the hashed features of every document
(4 bytes per word of its first ``max_chars`` characters, up to ~4 KB per page) and the
TF-IDF matrix (12 bytes per entry), so ~10^6 documents per 16 GB worker; the k-means fit itself
is bounded by ``max_fit_docs``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.config import check_range, param
from curate.schema import TEXT
from curate.steps.step import ResolveContext, resolve_in_one_task, with_columns
from curate.text.hashing import hash_strings
from curate.text.words import NON_WORD_RE

FEATURES = "_skill_features"


def words(text: pa.Array, max_chars: int) -> pa.ListArray:
    """Lower-cased words (>= 2 characters) of each text's first ``max_chars`` characters."""
    lower = pc.utf8_lower(pc.utf8_slice_codeunits(pc.fill_null(text, ""), 0, max_chars))
    lists = pc.split_pattern_regex(lower, NON_WORD_RE)
    flat = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists).to_numpy()
    keep = (pc.utf8_length(flat).to_numpy(zero_copy_only=False) >= 2)
    counts = np.bincount(parent[keep], minlength=len(text))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(keep)))


def hashed_features(text: pa.Array, max_chars: int, num_features: int) -> pa.ListArray:
    w = words(text, max_chars)
    values = hash_strings(w.values) % np.uint64(num_features)
    return pa.ListArray.from_arrays(w.offsets, pa.array(values.astype(np.uint32)))


def tfidf(features: pa.ListArray, num_features: int, idf: np.ndarray | None = None,
          max_df: float = 1.0) -> tuple["sp.csr_matrix", np.ndarray]:
    """Row-normalised sublinear TF-IDF matrix of hashed features; returns (matrix, idf)."""
    import scipy.sparse as sp

    n = len(features)
    rows = pc.list_parent_indices(features).to_numpy()
    cols = pc.list_flatten(features).to_numpy(zero_copy_only=False).astype(np.int64)
    counts = sp.csr_matrix((np.ones(len(cols), np.float64), (rows, cols)), shape=(n, num_features))
    counts.sum_duplicates()
    if idf is None:
        df = np.bincount(counts.indices, minlength=num_features)
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        idf[df > max_df * n] = 0.0  # too common to tell clusters apart (stop words)
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ counts), idf


def spherical_kmeans(x: "sp.csr_matrix", k: int, num_iters: int, rng: np.random.Generator) -> np.ndarray:
    """Centres (k x d, unit rows) by k-means++ seeding and Lloyd rounds on cosine similarity."""
    import scipy.sparse as sp

    n = x.shape[0]
    centres = np.zeros((k, x.shape[1]))
    centres[0] = x[rng.integers(n)].toarray()
    best = np.asarray(x @ centres[0]).ravel()
    for j in range(1, k):
        dist = np.clip(1.0 - best, 0.0, None) ** 2
        p = dist / dist.sum() if dist.sum() > 0 else np.full(n, 1.0 / n)
        centres[j] = x[rng.choice(n, p=p)].toarray()
        best = np.maximum(best, np.asarray(x @ centres[j]).ravel())
    labels = None
    for _ in range(num_iters):
        sims = np.asarray(x @ centres.T)
        new = sims.argmax(axis=1)
        if labels is not None and (new == labels).all():
            break
        labels = new
        onehot = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))
        sums = np.asarray((onehot @ x).todense())
        for j in np.flatnonzero(np.bincount(labels, minlength=k) == 0):
            sums[j] = x[int(sims.max(axis=1).argmin())].toarray()  # farthest point restarts it
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centres = sums / np.where(norms == 0, 1.0, norms)
    return centres


@dataclasses.dataclass(frozen=True, kw_only=True)
class SkillCluster:
    """Adds ``skill`` = a TF-IDF + k-means cluster (deterministic for a seed)."""

    name: ClassVar[str] = "skill_cluster"
    num_clusters: int = param(8, doc="number of clusters (skills)")
    num_features: int = param(2**18, doc="hashed vocabulary size")
    max_chars: int = param(5_000, doc="use each text's first characters only")
    max_fit_docs: int = param(20_000, doc="fit k-means on at most this many documents (seeded sample)")
    num_iters: int = param(30, doc="maximum Lloyd iterations")
    max_df: float = param(0.5, doc="ignore words in more than this fraction of the fitted documents")
    prefix: str = param("cluster_", doc="skill names are prefix + rank by size (0 = largest)")

    def __post_init__(self) -> None:
        check_range("num_clusters", self.num_clusters, 1, 10_000)
        check_range("num_features", self.num_features, 16, 2**26)
        check_range("num_clusters * num_features", self.num_clusters * self.num_features, 16, 2**28)  # 2 GiB of float64 centres
        check_range("max_chars", self.max_chars, 1)
        check_range("max_fit_docs", self.max_fit_docs, 1)
        check_range("num_iters", self.num_iters, 1, 10_000)
        check_range("max_df", self.max_df, 0.0, 1.0)

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        feats = hashed_features(batch.column(TEXT), self.max_chars, self.num_features)
        return with_columns(batch, {FEATURES: feats})

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        return resolve_in_one_task(self, ctx)

    def select(self, ctx: ResolveContext) -> dict[str, Any]:
        parts = [pq.read_table(p, columns=[FEATURES]).column(FEATURES).combine_chunks() for p in ctx.part_paths]
        sizes = [len(p) for p in parts]
        allf = pa.concat_arrays(parts) if parts else pa.array([], pa.list_(pa.uint32()))
        n = len(allf)
        rng = np.random.default_rng(ctx.seed)
        fit = np.sort(rng.choice(n, size=min(n, self.max_fit_docs), replace=False)) if n else np.zeros(0, int)
        k = max(1, min(self.num_clusters, len(fit)))
        labels = np.zeros(n, dtype=np.int64)
        centres = np.zeros((k, self.num_features))
        if len(fit):
            x_fit, idf = tfidf(allf.take(pa.array(fit)), self.num_features, max_df=self.max_df)
            centres = spherical_kmeans(x_fit, k, self.num_iters, rng)
            x_all, _ = tfidf(allf, self.num_features, idf)
            labels = np.asarray(x_all @ centres.T).argmax(axis=1)
        size = np.bincount(labels, minlength=k)
        rank = np.empty(k, dtype=np.int64)
        rank[np.lexsort((np.arange(k), -size))] = np.arange(k)
        names = pa.array([f"{self.prefix}{r}" for r in range(k)], pa.string())
        skill = pc.take(names, pa.array(rank[labels]))
        start = 0
        for size_i, out in zip(sizes, ctx.decision_paths):
            pq.write_table(pa.table({"reason": pa.nulls(size_i, pa.string()),
                                     "duplicate_of": pa.nulls(size_i, pa.string()),
                                     "skill": skill.slice(start, size_i)}), out)
            start += size_i
        vocab = self._vocabulary(ctx)
        clusters = {f"{self.prefix}{rank[j]}": {
            "num_docs": int(size[j]),
            "top_terms": [vocab[f] for f in np.argsort(-centres[j], kind="stable")[:20] if f in vocab][:8],
        } for j in np.argsort(rank)}
        return {"num_clusters": k, "num_fit_docs": int(len(fit)), "clusters": clusters}

    def _vocabulary(self, ctx: ResolveContext, max_docs: int = 2000) -> dict[int, str]:
        """feature -> a word hashed to it (the most frequent, among the first ``max_docs`` texts)."""
        texts, count = [], 0
        for path in ctx.part_paths:
            if count >= max_docs:
                break
            t = pq.read_table(path, columns=[TEXT]).column(TEXT).combine_chunks()[: max_docs - count]
            texts.append(t)
            count += len(t)
        if not count:
            return {}
        flat = words(pa.concat_arrays([t.cast(pa.large_string()) for t in texts]), self.max_chars).values
        counts = pc.value_counts(flat).flatten()
        vocab_words, freq = counts[0], counts[1].to_numpy()
        feats = hash_strings(vocab_words) % np.uint64(self.num_features)
        order = np.argsort(-freq, kind="stable")
        uniq, first = np.unique(feats[order], return_index=True)
        return dict(zip(uniq.tolist(), vocab_words.take(pa.array(order[first])).to_pylist()))
