"""File shuffles: how map tasks hand rows to reduce tasks without the driver seeing them.

A map task writes its rows into ``<dir>/p{partition:05d}/{name}.arrow`` (Arrow IPC, lz4), one file
per destination partition it has rows for (however many batches it writes: ``PartitionWriter``),
committed like every output file (``curate/storage``: tmp file + rename on disk; on object storage
an upload that appears whole on close), so ``<dir>`` may be a local path or a ``RemotePath`` under
the output URI and every node of a cluster sees the same files. A reduce task reads every
file of its partition in name order; map tasks name their files by their own index (zero-padded),
so a partition's rows arrive in map-task order whatever order the tasks ran in. That, with stable
sorts in the reducers, is what makes a shuffle deterministic.

Partitions of documents are *ranges* of global document numbers (:class:`DocRanges`), so the reduce
side of a document-keyed shuffle only reads the few partitions that overlap one fragment's rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from curate.storage import open_input_file, open_output_file, publish, staging_path

#: Documents per range partition (a CC round or a decision join holds about one range in RAM).
RANGE_DOCS = 2**20
_OPTIONS = ipc.IpcWriteOptions(compression="lz4")


def write_partitions(out_dir: Path, name: str, table: pa.Table, partition: np.ndarray,
                     num_partitions: int) -> int:
    """Write the rows of ``table`` to their ``partition`` (row order kept within each); returns the
    number of bytes written."""
    if table.num_rows == 0:
        return 0
    order = np.argsort(partition, kind="stable")
    bounds = np.searchsorted(partition[order], np.arange(num_partitions + 1))
    written = 0
    for p in np.flatnonzero(np.diff(bounds)):
        rows = table.take(pa.array(order[bounds[p]:bounds[p + 1]]))
        written += write_file(out_dir / f"p{p:05d}" / f"{name}.arrow", rows)
    return written


class PartitionWriter:
    """A map task's output over many batches: one file per destination partition (opened when it
    first gets rows, up to ``num_partitions`` open at once), committed on ``close``."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema, num_partitions: int):
        self.out_dir, self.name, self.schema, self.num_partitions = out_dir, name, schema, num_partitions
        self._writers: dict[int, tuple[Path, Any, ipc.RecordBatchFileWriter]] = {}

    def write(self, table: pa.Table, partition: np.ndarray) -> None:
        if table.num_rows == 0:
            return
        order = np.argsort(partition, kind="stable")
        bounds = np.searchsorted(partition[order], np.arange(self.num_partitions + 1))
        for p in np.flatnonzero(np.diff(bounds)):
            if p not in self._writers:
                path = self.out_dir / f"p{p:05d}" / f"{self.name}.arrow"
                path.parent.mkdir(parents=True, exist_ok=True)
                sink = open_output_file(staging_path(path))
                self._writers[p] = (path, sink, ipc.new_file(sink, self.schema, options=_OPTIONS))
            self._writers[p][2].write_table(table.take(pa.array(order[bounds[p]:bounds[p + 1]])))

    def close(self) -> int:
        """Publish every file; returns the bytes written."""
        written = 0
        for path, sink, writer in self._writers.values():
            writer.close()
            written += sink.tell()
            sink.close()
            publish(staging_path(path), path)
        self._writers.clear()
        return written


def write_file(path: Path, table: pa.Table) -> int:
    """Write ``table`` to one committed Arrow IPC file; returns its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sink = open_output_file(staging_path(path))
    with ipc.new_file(sink, table.schema, options=_OPTIONS) as writer:
        writer.write_table(table)
    written = sink.tell()
    sink.close()
    publish(staging_path(path), path)
    return written


def read_file(path: Path) -> pa.Table:
    with open_input_file(path) as source, ipc.open_file(source) as reader:
        return reader.read_all()


def read_partition(out_dir: Path, partition: int, schema: pa.Schema) -> pa.Table:
    """Every file of ``partition``, concatenated in name order (empty table when none)."""
    files = sorted((out_dir / f"p{partition:05d}").glob("*.arrow"))  # none when the folder is absent
    if not files:
        return schema.empty_table()
    return pa.concat_tables([read_file(f) for f in files]).combine_chunks()


@dataclasses.dataclass(frozen=True)
class DocRanges:
    """``num_ranges`` contiguous ranges of the document numbers ``0..num_docs-1``."""

    num_docs: int
    num_ranges: int

    @classmethod
    def of(cls, num_docs: int, range_docs: int | None = None) -> "DocRanges":
        """Ranges of about ``range_docs`` documents (default: the module's ``RANGE_DOCS``)."""
        range_docs = range_docs or RANGE_DOCS
        return cls(num_docs, max(1, -(-num_docs // range_docs)))

    def which(self, docs: np.ndarray) -> np.ndarray:
        """The range of each document number."""
        return (docs.astype(np.int64) * self.num_ranges) // max(self.num_docs, 1)

    def bounds(self, r: int) -> tuple[int, int]:
        """[lo, hi) document numbers of range ``r``."""
        n, k = self.num_docs, self.num_ranges
        return -(-r * n // k), -(-(r + 1) * n // k)

    def overlapping(self, lo: int, hi: int) -> range:
        """The ranges holding any of the documents ``lo..hi-1``."""
        if hi <= lo:
            return range(0)
        first, last = self.which(np.array([lo, hi - 1]))
        return range(int(first), int(last) + 1)
