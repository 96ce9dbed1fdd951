"""Streaming statistics of a finished build (or materialised mix) for its dataset card.

Method: the shards listed in ``manifest.json`` are read one Arrow record batch at a time
(``BATCH_ROWS`` rows, only the columns needed), each batch is turned into a Polars frame of a few
numbers per document (the text is dropped right away), and folded into fixed-size accumulators:

- histograms with fixed bin edges: lengths on a log scale ([0, 1), then ``LOG_BINS_PER_DECADE``
  bins per decade up to 10^8), scores on ``SCORE_BINS`` linear bins between the column's min and
  max (a first pass over the score columns only, which is cheap); values past the last edge count
  in the last bin;
- counts per value (source, language, year, skill, mix group): docs, tokens and summed score;
- top domains: counts per host, pruned to the ``DOMAIN_KEEP`` largest whenever more than
  ``DOMAIN_LIMIT`` hosts are held (counts of hosts outside the top can then be undercounted;
  ``domains_pruned`` says so);
- samples: per source and per drop reason, the ``SAMPLES`` documents with the smallest seeded
  hash of their id (the same documents for any batch size or shard order).

Memory is one batch plus the accumulators, whatever the size of the build. Rejected documents are
read the same way from ``rejected/``; duplicate cluster sizes (1 + documents naming the same
``duplicate_of``) are one Polars streaming group-by over the rejected rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.manifest import Manifest
from curate.steps.length import char_word_counts
from curate.text.hashing import hash_strings
from curate.text.urls import url_host

BATCH_ROWS = 8192
LOG_BINS_PER_DECADE = 10
LOG_DECADES = 8
SCORE_BINS = 40
DOMAIN_LIMIT = 200_000
DOMAIN_KEEP = 50_000
SAMPLES = 3
EXCERPT_CHARS = 600
SAMPLE_SEED = 14
# float columns that are not scores of a document
NOT_SCORES = frozenset({"input_row"})
SAMPLE_COLUMNS = ("id", "source", "url", "timestamp", "lang", "skill", "domain", "mix_group")


def log_edges() -> np.ndarray:
    """Edges of the length histograms: [0, 1) then 10^(k/LOG_BINS_PER_DECADE) up to 10^LOG_DECADES."""
    return np.concatenate([[0.0], 10.0 ** (np.arange(LOG_DECADES * LOG_BINS_PER_DECADE + 1) / LOG_BINS_PER_DECADE)])


def bin_index(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Bin of each value: i with edges[i] <= x < edges[i+1]; below the first edge -> 0, at or above
    the last -> the last bin (so the histogram counts every value)."""
    idx = np.searchsorted(edges, np.asarray(x, dtype=np.float64), side="right") - 1
    return np.clip(idx, 0, len(edges) - 2)


@dataclasses.dataclass
class Histogram:
    """Counts per key (a source) over fixed edges."""

    edges: list[float]
    counts: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        bins = bin_index(np.asarray(self.edges), values)
        n = len(self.edges) - 1
        for key in np.unique(keys):
            c = self.counts.setdefault(str(key), np.zeros(n, dtype=np.int64))
            c += np.bincount(bins[keys == key], minlength=n)

    def to_json(self) -> dict[str, Any]:
        return {"edges": self.edges, "counts": {k: v.tolist() for k, v in self.counts.items()}}


@dataclasses.dataclass
class ValueCounts:
    """Per value of a column: docs, and the sums of some numeric columns (tokens, chars, a score)."""

    rows: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)

    def add(self, frame: pl.DataFrame, column: str, sums: tuple[str, ...] = ()) -> None:
        aggs = [pl.len().alias("num_docs")] + [pl.col(c).cast(pl.Float64).sum().alias(c) for c in sums]
        for r in frame.group_by(column).agg(aggs).iter_rows(named=True):
            key = "(none)" if r[column] is None else str(r[column])
            acc = self.rows.setdefault(key, dict.fromkeys(("num_docs", *sums), 0))
            for k in ("num_docs", *sums):
                acc[k] += r[k] or 0

    def to_json(self) -> dict[str, dict[str, float]]:
        """Rows by decreasing docs (ties by value); integer sums as ints."""
        ordered = sorted(self.rows.items(), key=lambda kv: (-kv[1]["num_docs"], kv[0]))
        return {key: {k: int(v) if float(v).is_integer() else v for k, v in r.items()} for key, r in ordered}


@dataclasses.dataclass
class Samples:
    """The ``k`` rows with the smallest hash per key; rows are dicts."""

    k: int = SAMPLES
    best: dict[str, list[tuple[int, str, dict]]] = dataclasses.field(default_factory=dict)

    def add(self, frame: pl.DataFrame, key_column: str) -> None:
        """Merge the batch's k smallest ``_hash`` rows per key (ranked on the small columns, then
        only those rows gathered, so a text column is never sorted)."""
        small = frame.select(key_column, "_hash", "id").with_row_index("_row")
        rows = small.sort(["_hash", "id"]).group_by(key_column, maintain_order=True).head(self.k)["_row"]
        for row in frame[rows].iter_rows(named=True):
            key = str(row[key_column])
            items = self.best.setdefault(key, [])
            if isinstance(row.get("text"), str):
                row["text"] = row["text"][:EXCERPT_CHARS]
            items.append((row["_hash"], row["id"], {k: v for k, v in row.items() if k != "_hash"}))
            items.sort(key=lambda t: (t[0], t[1]))
            del items[self.k:]

    def to_json(self) -> dict[str, list[dict]]:
        """Rows per key (sorted keys); ``text`` was cut to EXCERPT_CHARS when the row was taken."""
        return {key: [_jsonable(r) for _, _, r in items] for key, items in sorted(self.best.items())}


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if v is not None}


def _batches(path: Path, columns: list[str]):
    try:
        f = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise CurateError(f"{path}: cannot read this shard ({exc}); rebuild with `curate build --overwrite`") from None
    yield from f.iter_batches(batch_size=BATCH_ROWS, columns=[c for c in columns if c in f.schema_arrow.names])


def score_columns(manifest: Manifest) -> list[str]:
    """Float columns of the shards: the scores steps wrote (lang_score, quality, toxicity, lm_loss ...)."""
    return [c.name for c in manifest.columns
            if c.type in ("float", "double", "halffloat") and c.name not in NOT_SCORES]


def score_ranges(manifest: Manifest, columns: list[str]) -> dict[str, tuple[float, float]]:
    """(min, max) of each score column over all shards (one streaming Polars pass, scores only)."""
    if not columns or not manifest.shards:
        return {}
    lazy = pl.scan_parquet([str(p) for p in manifest.shard_paths()])
    exprs = [e for c in columns for e in (pl.col(c).min().alias(f"{c}:min"), pl.col(c).max().alias(f"{c}:max"))]
    row = lazy.select(exprs).collect(engine="streaming").row(0, named=True)
    return {c: (float(row[f"{c}:min"]), float(row[f"{c}:max"])) for c in columns if row[f"{c}:min"] is not None}


def collect_shards(manifest: Manifest, samples: int = SAMPLES) -> dict[str, Any]:
    """Everything the card shows about the kept documents (see the module docstring)."""
    names = {c.name for c in manifest.columns}
    scores = score_columns(manifest)
    ranges = score_ranges(manifest, scores)
    host_col = "domain" if "domain" in names else ("url" if "url" in names else None)
    read = ["id", "text", "source", "num_tokens", "timestamp", "lang", "lang_score", "skill", "mix_group",
            "url", "domain", *scores]
    edges = log_edges().tolist()
    lengths = {unit: Histogram(edges) for unit in ("chars", "words", "tokens")}
    score_hists = {c: Histogram(np.linspace(lo, hi if hi > lo else lo + 1, SCORE_BINS + 1).tolist())
                   for c, (lo, hi) in ranges.items()}
    counts = {k: ValueCounts() for k in ("source", "lang", "year", "skill", "mix_group")}
    domains: dict[str, int] = {}
    pruned = False
    picks = Samples(samples)
    has_tokens = "num_tokens" in names
    tok = ("num_tokens",) if has_tokens else ()
    for path in manifest.shard_paths():
        for batch in _batches(path, read):
            df = pl.from_arrow(batch)
            chars, words = char_word_counts(batch.column("text"))
            df = df.with_columns(
                pl.Series("_chars", chars),
                pl.Series("_words", words),
                pl.Series("_hash", hash_strings(batch.column("id"), SAMPLE_SEED)),
            )
            if "timestamp" in df.columns:
                df = df.with_columns(pl.col("timestamp").dt.year().alias("_year"))
            src = df["source"].to_numpy()
            lengths["chars"].add(src, df["_chars"].to_numpy())
            lengths["words"].add(src, df["_words"].to_numpy())
            if has_tokens:
                lengths["tokens"].add(src, df["num_tokens"].to_numpy())
            for c, h in score_hists.items():
                valid = df[c].is_not_null().to_numpy()
                h.add(src[valid], df[c].to_numpy()[valid])
            counts["source"].add(df.rename({"_chars": "num_chars"}), "source", (*tok, "num_chars"))
            for key, column in (("lang", "lang"), ("year", "_year"), ("skill", "skill"), ("mix_group", "mix_group")):
                if column in df.columns:
                    extra = ("lang_score",) if key == "lang" and "lang_score" in df.columns else ()
                    counts[key].add(df, column, (*tok, *extra))
            if host_col:
                hosts = df[host_col] if host_col == "domain" else pl.Series(url_host(batch.column("url")))
                for host, n in pl.DataFrame({"h": hosts}).group_by("h").len().iter_rows():
                    if host is not None:
                        domains[host] = domains.get(host, 0) + n
                if len(domains) > DOMAIN_LIMIT:
                    domains = dict(sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))[:DOMAIN_KEEP])
                    pruned = True
            keep = [c for c in (*SAMPLE_COLUMNS, *tok) if c in df.columns] + ["_hash"]
            picks.add(df.select(*keep, "text", pl.col("_chars").alias("num_chars")), "source")
    per_source = counts["source"].to_json()
    return {
        "num_docs": sum(r["num_docs"] for r in per_source.values()),
        "num_tokens": sum(r["num_tokens"] for r in per_source.values()) if has_tokens else None,
        "num_chars": sum(r["num_chars"] for r in per_source.values()),
        "sources": per_source,
        "lengths": {u: h.to_json() for u, h in lengths.items() if h.counts},
        "scores": {c: h.to_json() for c, h in score_hists.items()},
        "languages": counts["lang"].to_json(),
        "years": counts["year"].to_json(),
        "skills": counts["skill"].to_json(),
        "mix_groups": counts["mix_group"].to_json(),
        "domains": sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))[:25],
        "num_domains": len(domains),
        "domains_pruned": pruned,
        "samples": picks.to_json(),
    }


def rejected_paths(root: Path) -> list[Path]:
    """``rejected/part-*.parquet`` of a build (CONTRACTS.md "Build output directory"), in name order."""
    return sorted((root / "rejected").glob("part-*.parquet"))


def collect_rejected(root: Path, samples: int = SAMPLES) -> dict[str, Any]:
    """Samples per ``step/reason`` and duplicate cluster sizes per dedup step, from ``rejected/``."""
    paths = rejected_paths(root)
    picks = Samples(samples)
    cols = ["id", "source", "step", "reason", "duplicate_of", "input_file", "input_row", "text", "url"]
    for path in paths:
        for batch in _batches(path, cols):
            df = pl.from_arrow(batch).with_columns(
                pl.Series("_hash", hash_strings(batch.column("id"), SAMPLE_SEED)),
                (pl.col("step") + "/" + pl.col("reason")).alias("_key"))
            picks.add(df, "_key")
    clusters: dict[str, dict[int, int]] = {}
    if paths:
        sizes = (pl.scan_parquet([str(p) for p in paths]).filter(pl.col("duplicate_of").is_not_null())
                 .group_by("step", "duplicate_of").len()
                 .group_by("step", (pl.col("len") + 1).alias("size")).len()
                 .sort("step", "size").collect(engine="streaming"))
        for step, size, n in sizes.iter_rows():
            clusters.setdefault(step, {})[int(size)] = int(n)
    out = {key: [{k: v for k, v in r.items() if k != "_key"} for r in rows]
           for key, rows in picks.to_json().items()}
    return {"samples": out, "cluster_sizes": clusters}


def load_stats(root: Path) -> dict[str, Any] | None:
    """``stats.json`` of a build, or None (a materialised mix has none)."""
    path = root / "stats.json"
    if not path.is_file():
        return None
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise CurateError(f"{path}: not valid JSON ({exc}); rebuild with `curate build --overwrite`") from None
