"""Parquet writers: rolling shards and one-file part writers, both committed whole (a tmp file and a
rename on disk; on object storage the upload itself, see ``curate/storage/commit.py``).

``ShardWriter`` buffers rows into row groups of ``row_group_rows`` and rolls to a new shard so that
each holds at most ``max_shard_rows`` rows and at most ``max_shard_bytes`` of Arrow data (in-memory
``nbytes``, not the compressed file size; a single row larger than that is a shard by itself). A
batch is split wherever a limit falls inside it. Shards are named ``{prefix}-{i:04d}.parquet`` and
appear under their final name only when complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.storage import publish, staging_path


MAX_ROW_GROUP_BYTES = 64 * 2**20  # a row group is also flushed at this much Arrow data (bounded memory)


@dataclasses.dataclass(frozen=True)
class ShardInfo:
    path: str
    num_docs: int
    num_bytes: int
    num_tokens: int | None


def rows_that_fit(batch: pa.RecordBatch, offset: int, max_rows: int, max_bytes: int) -> int:
    """The largest ``k <= max_rows`` with ``batch.slice(offset, k).nbytes <= max_bytes`` (bisection;
    a slice's ``nbytes`` grows with its length)."""
    if max_rows <= 0 or max_bytes <= 0:
        return 0
    if batch.slice(offset, max_rows).nbytes <= max_bytes:
        return max_rows
    lo, hi = 0, max_rows  # fits(lo), not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if batch.slice(offset, mid).nbytes <= max_bytes:
            lo = mid
        else:
            hi = mid
    return lo


def _codec(compression: str) -> str | None:
    return None if compression == "none" else compression


def _abandon(writer: pq.ParquetWriter | None, tmp: Path) -> None:
    """Drop a half-written file (a writer's ``abort()`` after an error, e.g. a full disk): close
    what can be closed, never retry (pyarrow's ``__del__`` would close again and print the same
    error as a traceback), remove the temporary. The error reaches the caller once."""
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()
        writer.is_open = False
    tmp.unlink(missing_ok=True)


class ShardWriter:
    def __init__(self, out_dir: Path, prefix: str, *, max_shard_rows: int, max_shard_bytes: int,
                 row_group_rows: int, compression: str = "zstd", compression_level: int | None = None,
                 use_dictionary: bool | list[str] = True):
        self.out_dir = out_dir
        self.prefix = prefix
        self.max_shard_rows = max_shard_rows
        self.max_shard_bytes = max_shard_bytes
        self.row_group_rows = row_group_rows
        self.compression = _codec(compression)
        self.compression_level = compression_level
        self.use_dictionary = use_dictionary  # pyarrow's: True (every column) or the columns to encode
        self.shards: list[ShardInfo] = []
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._rows = 0
        self._bytes = 0
        self._tokens = 0
        self._has_tokens = False

    def _final_path(self) -> Path:
        return self.out_dir / f"{self.prefix}-{len(self.shards):04d}.parquet"

    def write(self, batch: pa.RecordBatch) -> None:
        offset = 0
        while offset < batch.num_rows:
            shard_rows = self._rows + self._pending_rows
            wanted = min(self.max_shard_rows - shard_rows, batch.num_rows - offset)
            take = rows_that_fit(batch, offset, wanted, self.max_shard_bytes - self._bytes)
            if take == 0 and shard_rows:
                self._close_shard()
                continue
            piece = batch.slice(offset, max(take, 1))
            offset += piece.num_rows
            self._pending.append(piece)
            self._pending_rows += piece.num_rows
            self._pending_bytes += piece.nbytes
            self._bytes += piece.nbytes
            if "num_tokens" in piece.schema.names:
                self._has_tokens = True
                self._tokens += int(pa.compute.sum(piece.column("num_tokens")).as_py() or 0)
            if self._pending_rows >= self.row_group_rows or self._pending_bytes >= MAX_ROW_GROUP_BYTES:
                self._flush_row_group()
            full = self._rows + self._pending_rows >= self.max_shard_rows or self._bytes >= self.max_shard_bytes
            if full or piece.num_rows < wanted:  # the next row would pass a limit
                self._close_shard()

    def _flush_row_group(self) -> None:
        if not self._pending_rows:
            return
        table = pa.Table.from_batches(self._pending)
        if self._writer is None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(
                staging_path(self._final_path()), table.schema, compression=self.compression,
                compression_level=self.compression_level, use_dictionary=self.use_dictionary,
            )
        self._writer.write_table(table, row_group_size=self.row_group_rows)
        self._rows += self._pending_rows
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def _close_shard(self) -> None:
        self._flush_row_group()
        if self._writer is None:
            return
        self._writer.close()
        final = self._final_path()
        publish(staging_path(final), final)
        self.shards.append(ShardInfo(final.name, self._rows, final.stat().st_size,
                                     self._tokens if self._has_tokens else None))
        self._writer = None
        self._rows = self._bytes = self._tokens = 0

    def close(self) -> list[ShardInfo]:
        self._close_shard()
        return self.shards

    def abort(self) -> None:
        """Abandon the shard being written (after an error); complete shards stay."""
        _abandon(self._writer, staging_path(self._final_path()))
        self._writer = None
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0


def write_parquet_atomic(table: pa.Table, path: Path, compression: str = "zstd") -> None:
    """Write ``table`` to ``path`` through a temporary file, so ``path`` is complete or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_path(path)
    writer = None
    try:
        writer = pq.ParquetWriter(tmp, table.schema, compression=_codec(compression))
        writer.write_table(table)
        writer.close()
    except BaseException:
        _abandon(writer, tmp)
        raise
    publish(tmp, path)


class PartWriter:
    """One Parquet file written batch by batch, opened on the first write, and moved to its final
    name only by ``close()`` (so a killed run never leaves a complete-looking file)."""

    def __init__(self, path: Path, compression: str = "zstd"):
        self.path = path
        self.compression = _codec(compression)
        self._writer: pq.ParquetWriter | None = None

    @property
    def tmp_path(self) -> Path:
        return staging_path(self.path)

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.tmp_path, data.schema, compression=self.compression)
        if data.schema != self._writer.schema:
            data = data.cast(self._writer.schema)
        if isinstance(data, pa.Table):
            self._writer.write_table(data)
        else:
            self._writer.write_batch(data)

    def abort(self) -> None:
        """Abandon the file (after an error): no final file, no temporary."""
        _abandon(self._writer, self.tmp_path)
        self._writer = None

    def close(self) -> bool:
        """Finish the file; False when nothing was ever written (no file)."""
        if self._writer is None:
            return False
        self._writer.close()
        publish(self.tmp_path, self.path)
        self._writer = None
        return True
