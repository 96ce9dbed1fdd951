"""knn_distance's exact k-th-neighbour search vs scikit-learn's brute-force cosine kNN, same
vectors, same run.

    python benchmarks/knn_distance.py [--pairs N] [--k K] [--repeats R]

Texts: the first N bench_corpus documents (first 2,000 characters each), as hashed sublinear TF-IDF
(2^18 dims, ``skill_cluster.tfidf``, built once, not timed). Ours: ``kth_neighbour_distance`` (sparse
blocks of 64 MiB of similarities, ``np.partition``). Peer: ``NearestNeighbors(n_neighbors=K + 1,
metric="cosine", algorithm="brute").kneighbors`` on the same CSR matrix, self removed. Wall time,
min and median of R interleaved repeats; the max |difference| of the distances is printed (texts
with exact duplicates may order differently; the k-th distance is the same).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import zstandard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's curate, not another installed one

from curate.steps.knn_distance import kth_neighbour_distance
from curate.steps.skill_cluster import hashed_features, tfidf

CORPUS = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"


def texts(n: int) -> list[str]:
    out = []
    with CORPUS.open("rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            out.append(orjson.loads(line)["text"][:2000])
            if len(out) == n:
                break
    return out


def peer(x, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    dist, idx = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(x).kneighbors(x)
    own = idx == np.arange(x.shape[0])[:, None]
    # drop self (or, where a duplicate took its place, the last column) and take the k-th of the rest
    keep = np.where(own.any(axis=1)[:, None], ~own, np.arange(k + 1)[None, :] < k)
    return dist[keep].reshape(x.shape[0], k)[:, k - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=5000)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    x, _ = tfidf(hashed_features(pa.array(texts(args.pairs)), 2000, 2**18), 2**18)
    rows = np.arange(x.shape[0])
    times: dict[str, list[float]] = {"curate": [], "sklearn": []}
    for _ in range(args.repeats):
        t = time.perf_counter()
        ours = kth_neighbour_distance(x, x, rows, args.k)
        times["curate"].append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs = peer(x, args.k)
        times["sklearn"].append(time.perf_counter() - t)
    print(f"{x.shape[0]} texts, k = {args.k}, max |diff| = {np.nanmax(np.abs(ours - theirs)):.2e}")
    for name, ts in times.items():
        print(f"{name:8s} min {min(ts):7.2f} s  median {statistics.median(ts):7.2f} s")
    print(f"ratio sklearn / curate (min): {min(times['sklearn']) / min(times['curate']):.2f}")


if __name__ == "__main__":
    main()
