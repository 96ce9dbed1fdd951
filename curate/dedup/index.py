"""The MinHash index of a build, saved so later builds can dedup against it without re-hashing.

An index is a directory: ``index.json`` (format, version, the parameters that shape band keys,
document count) and ``docs.parquet`` with one row per kept document: ``id`` (string) and ``bands``
(fixed-size list of ``num_bands`` uint64 keys). 8 * num_bands bytes per document plus the id
(before compression). A later build names it in ``against``; its documents are numbered before the
build's own, so a new document in a cluster with an old one is removed with ``duplicate_of`` = the
old id. Indexes compose: build 2 saves only its own kept documents; build 3 names both.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError

FORMAT = "curate-minhash-index"
VERSION = 1
META_FILE = "index.json"
DOCS_FILE = "docs.parquet"


def bands_array(keys: np.ndarray) -> pa.FixedSizeListArray:
    """A ``[n, num_bands]`` uint64 matrix as an Arrow fixed-size list column."""
    return pa.FixedSizeListArray.from_arrays(pa.array(keys.reshape(-1), pa.uint64()), keys.shape[1])


def bands_matrix(column: pa.Array | pa.ChunkedArray,
                 num_bands: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 ``[n, num_bands]`` keys, validity) of a fixed-size list column; null rows are 0."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    valid = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if column.null_count:
        column = column.fill_null(pa.scalar([0] * num_bands, column.type))
    flat = column.flatten().to_numpy()
    return flat.reshape(len(column), num_bands), valid


TMP_MARKER = ".curate-index-tmp"


def _is_index(path: Path) -> bool:
    """True when ``path`` is a directory curate wrote as a MinHash index (its ``index.json``
    names the format)."""
    try:
        return orjson.loads((path / META_FILE).read_bytes()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _is_ours(tmp: Path) -> bool:
    """True when ``tmp`` is a temp dir curate created: it holds the marker, or is a finished
    index whose rename was interrupted."""
    return (tmp / TMP_MARKER).is_file() or _is_index(tmp)


class IndexWriter:
    """Write an index atomically: into ``<path>.tmp`` (created with a marker file), renamed to
    ``path`` on ``close``. Curate deletes only what it created: an existing ``path`` must be a
    curate MinHash index and an existing ``<path>.tmp`` must carry the marker (or be an index),
    else the step stops with one line and deletes nothing."""

    def __init__(self, path: Path, params: dict[str, Any]):
        self.path, self.params = path, params
        self.tmp = path.with_name(path.name + ".tmp")
        self.check(path)
        if self.tmp.exists() or self.tmp.is_symlink():
            if self.tmp.is_symlink() or not self.tmp.is_dir() or not _is_ours(self.tmp):
                raise CurateError(f"save_index: {self.tmp} exists and was not made by curate; "
                                  "refusing to delete it; move it away or choose another save_index")
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        (self.tmp / TMP_MARKER).write_bytes(b"curate MinHash index being written\n")
        self._writer: pq.ParquetWriter | None = None
        self.num_docs = 0

    @staticmethod
    def check(path: Path) -> None:
        """Refuse to replace anything at ``path`` but a curate MinHash index (checked before the
        build clusters, and again when writing)."""
        if (path.exists() or path.is_symlink()) and (path.is_symlink() or not _is_index(path)):
            raise CurateError(f"save_index={path} exists and is not a curate MinHash index; "
                              "refusing to overwrite it; choose another path")

    def write(self, ids: pa.Array, keys: np.ndarray) -> None:
        table = pa.table({"id": pa.array(ids, pa.string()), "bands": bands_array(keys)})
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.tmp / DOCS_FILE, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.num_docs += table.num_rows

    def close(self) -> None:
        if self._writer is None:
            num_bands = self.params["num_bands"]
            empty = pa.table({"id": pa.array([], pa.string()),
                              "bands": pa.array([], pa.list_(pa.uint64(), num_bands))})
            pq.write_table(empty, self.tmp / DOCS_FILE)
        else:
            self._writer.close()
        meta = {"format": FORMAT, "version": VERSION, "params": self.params,
                "num_docs": self.num_docs}
        (self.tmp / META_FILE).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
        (self.tmp / TMP_MARKER).unlink()
        self.check(self.path)  # the target may have appeared while resolving
        if self.path.exists():
            shutil.rmtree(self.path)
        self.tmp.rename(self.path)


@dataclass(frozen=True)
class MinHashIndex:
    path: Path
    num_docs: int
    num_bands: int

    @classmethod
    def open(cls, path: Path, params: dict[str, Any]) -> "MinHashIndex":
        """Open the index at ``path``, checking it was made with the same band-key parameters."""
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise CurateError(f"against: {path} is not a MinHash index (no {META_FILE}); "
                              "make one with save_index in an earlier build")
        meta = orjson.loads(meta_path.read_bytes())
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise CurateError(f"against: {path}: unsupported index format {meta.get('format')!r} "
                              f"version {meta.get('version')!r}; expected {FORMAT!r} "
                              f"version {VERSION}")
        for key, value in params.items():
            if meta["params"].get(key) != value:
                raise CurateError(f"against: {path} was built with "
                                  f"{key}={meta['params'].get(key)!r}, this step has "
                                  f"{key}={value!r}; band keys would never match")
        return cls(path, int(meta["num_docs"]), int(params["num_bands"]))

    def iter_keys(self) -> Iterator[np.ndarray]:
        """The band keys ``[n, num_bands]``, batch by batch, in document order."""
        for batch in pq.ParquetFile(self.path / DOCS_FILE).iter_batches(columns=["bands"]):
            yield bands_matrix(batch.column(0), self.num_bands)[0]

    def iter_ids(self) -> Iterator[pa.Array]:
        """The document ids, batch by batch, in document order."""
        for batch in pq.ParquetFile(self.path / DOCS_FILE).iter_batches(columns=["id"]):
            yield batch.column(0)
