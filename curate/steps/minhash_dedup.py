"""Near-duplicate removal with MinHash LSH: clusters of documents whose shingle sets are similar,
one document kept per cluster, every removal traceable to the document it duplicates.

Prepare (parallel, per fragment): MinHash signatures and their LSH band keys in numba over the
batch's UTF-8 buffer (``curate/dedup/minhash.py``; ~165 MB of text per CPU-second for 5-word
shingles and 126 permutations), stored as ``_minhash_bands`` (``num_bands`` uint64 per document;
null when the document has no word) and, with ``keep = "max"``, the score as ``_minhash_score``.

Resolve (global, distributed): documents of the ``against`` indexes first, then the build's in input
order; band keys are shuffled into partitions by hash prefix, turned into edges partition by
partition, and clustered by star rounds over document ranges (connected components as file
shuffles, ``curate/dedup/cluster.py``, phases in ``curate/dedup/resolve.py``), each round committed,
so the result is the same for any engine and worker count and a killed build resumes mid-clustering.
Each cluster keeps its earliest document (``keep = "first"``) or its highest ``score_column``
(``keep = "max"``, ties: earliest; a missing score, null or NaN, ranks lowest; the column must be
numeric); a cluster that contains an index document keeps none of the
new ones. Removed rows: reason ``minhash_duplicate``, ``duplicate_of`` = the kept (or index) id.
Kept rows gain ``dup_cluster`` (the kept document's id: their own) and ``dup_cluster_size``.

Defaults: 5-word shingles, threshold 0.7 with 128 permutations -> 14 bands x 9 rows (datasketch's
optimal choice): P(candidate) = 0.03 at Jaccard 0.5, 0.44 at 0.7, 0.975 at 0.85, 0.999 at 0.9.

Bytes per document in the global stage: ``16 * num_bands`` on disk for the shuffled band keys (224
with the defaults), ~32 per candidate edge per round, ~(24 + id) per clustered document. In RAM:
none in the driver; per task one key partition being sorted (~230 MB) or one document range's
edges (2^20 documents per range). Nothing scales as Python objects per document. The saved index takes ``8 * num_bands`` bytes per
kept document plus its id (zstd-compressed Parquet).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from curate.config import check_range, check_seed, param
from curate.dedup.index import IndexWriter, MinHashIndex
from curate.dedup.lsh_params import optimal_bands
from curate.dedup.minhash import band_keys, signatures, warm_up
from curate.dedup.resolve import BANDS_COLUMN, SCORE_COLUMN, planned_phases, resolve_clusters
from curate.errors import CurateError
from curate.schema import TEXT
from curate.steps.ranking import numeric_scores
from curate.steps.step import ResolveContext, with_columns


@dataclasses.dataclass(frozen=True, kw_only=True)
class MinHashDedup:
    """Remove near-duplicates (MinHash LSH clusters; reason ``minhash_duplicate``, with
    ``duplicate_of``); kept rows get ``dup_cluster`` and ``dup_cluster_size``."""

    name: ClassVar[str] = "minhash_dedup"
    output_params: ClassVar[tuple[str, ...]] = ("save_index",)  # written, not read: not in the fingerprint
    unit: Literal["word", "char"] = param("word", doc="shingle unit: word or char n-grams")
    ngram_size: int = param(5, doc="units per shingle (5 words; use ~5-10 for char)")
    normalize: bool = param(True, doc="lower-case; punctuation separates words; digits hash as 0")
    threshold: float = param(0.7, doc="Jaccard threshold that picks bands and rows when unset")
    num_perm: int = param(128, doc="hash functions available to the threshold-based choice")
    num_bands: int | None = param(None, doc="LSH bands (with rows_per_band; default: by threshold)")
    rows_per_band: int | None = param(None, doc="signature values per band (default: by threshold)")
    seed: int = param(0, doc="hash seed (an index only matches builds with the same seed)")
    keep: Literal["first", "max"] = param("first", doc="member kept: first by input order, or max")
    score_column: str | None = param(None, doc="column maximised when keep = 'max' (a score)")
    save_index: Path | None = param(None, doc="directory to save this build's MinHash index to")
    against: tuple[Path, ...] = param((), doc="indexes of earlier builds not to duplicate")

    def __post_init__(self) -> None:
        check_range("ngram_size", self.ngram_size, 1, 64)
        check_range("threshold", self.threshold, 0.01, 0.99)
        check_range("num_perm", self.num_perm, 2, 1024)
        check_seed("seed", self.seed)
        if (self.num_bands is None) != (self.rows_per_band is None):
            raise ValueError("num_bands and rows_per_band go together; "
                             "set both, or neither to use threshold")
        if self.num_bands is None:
            b, r = optimal_bands(self.threshold, self.num_perm)
            object.__setattr__(self, "num_bands", b)
            object.__setattr__(self, "rows_per_band", r)
        check_range("num_bands", self.num_bands, 1, 512)
        check_range("rows_per_band", self.rows_per_band, 1, 512)
        check_range("num_bands * rows_per_band", self.num_bands * self.rows_per_band, 1, 4096)
        if (self.keep == "max") != (self.score_column is not None):
            raise ValueError("keep = 'max' needs score_column, and score_column needs keep = 'max'")

    def warm_up(self) -> None:
        """Compile the numba kernels once, in the parent, before the runner forks its workers."""
        warm_up()

    def index_params(self) -> dict[str, Any]:
        """The parameters that shape band keys: an index matches only identical ones."""
        return {"unit": self.unit, "ngram_size": self.ngram_size, "normalize": self.normalize,
                "num_bands": self.num_bands, "rows_per_band": self.rows_per_band, "seed": self.seed}

    def band_keys(self, text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(uint64 ``[n, num_bands]`` band keys, bool "has a signature") of a string array."""
        sigs, num_shingles = signatures(text, num_perm=self.num_bands * self.rows_per_band,
                                        ngram_size=self.ngram_size, unit=self.unit,
                                        normalize=self.normalize, seed=self.seed)
        return band_keys(sigs, self.num_bands, self.rows_per_band, self.seed), num_shingles > 0

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        keys, valid = self.band_keys(batch.column(TEXT))
        flat = pa.array(keys.reshape(-1), pa.uint64())
        bands = pa.FixedSizeListArray.from_arrays(flat, self.num_bands, mask=pa.array(~valid))
        columns: dict[str, pa.Array] = {BANDS_COLUMN: bands}
        if self.keep == "max":
            if self.score_column not in batch.schema.names:
                raise CurateError(f"minhash_dedup.score_column={self.score_column!r} is not a "
                                  f"column here; columns: {', '.join(batch.schema.names)}")
            values, present = numeric_scores(batch.column(self.score_column), self.score_column,
                                             "minhash_dedup.score_column")
            columns[SCORE_COLUMN] = pa.array(np.where(present, values, -np.inf))
        return with_columns(batch, columns)

    def planned_phases(self, num_parts: int, num_docs: int) -> list[tuple[str, int, int]]:
        return planned_phases(num_parts + len(self.against), num_docs, self.num_bands)

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        indexes = [MinHashIndex.open(path, self.index_params()) for path in self.against]
        if self.save_index:
            IndexWriter.check(self.save_index)
        save = (self.save_index, self.index_params()) if self.save_index else None
        return resolve_clusters(ctx, indexes, num_bands=self.num_bands, by_score=self.keep == "max",
                                save=save)
