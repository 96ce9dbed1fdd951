"""The memory budget of a build worker: ``[output] memory_mb`` (default 2048 MiB).

A worker holds one batch at a time. Its peak RSS is about

    BASELINE_MB (interpreter, pyarrow, numba, models: measured 250-350 MiB)
    + READER_MB (a reader chunk holds at most 64 MiB of text, ~5 bytes of Python objects per byte)
    + the steps' working set (Arrow copies and kernel scratch: at most ``SCRATCH_PER_BYTE`` bytes
      per text byte of the batch; kernels size their scratch by the batch or its longest
      document, never by the corpus)

so the runner cuts every batch into slices of at most :func:`batch_bytes` of text,
``(memory_mb - BASELINE_MB - READER_MB) / (SCRATCH_PER_BYTE + 1)`` (the +1 is the slice itself):
103 MiB at the default 2048, 25 MiB at the minimum 1024. The bound holds for every document up to
that size. A longer document is a slice of its own and costs ~``SCRATCH_PER_BYTE`` x its size
while it is processed (measured 4-12x per step: a 50 MB document ~600 MB), and nothing after.
Slicing is zero-copy, by document, and depends only on the data and the budget, so outputs are
identical for any ``--workers``. Steps are batch-invariant (``tests/test_step_batching.py``), so
another budget keeps the same rows in the same order and the same stats; only the shards'
row-group boundaries, which follow batches, can move.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa

from curate.schema import TEXT

#: Resident memory of a worker before it reads anything (measured: 250-350 MiB with numba and lid.176).
BASELINE_MB = 384
#: A reader chunk: at most 64 MiB of text (``readers/jsonl.py``) as Python objects and Arrow arrays.
READER_MB = 320
#: The most a step's working set takes per text byte of a batch. Upper bounds, from the ru_maxrss
#: growth of a process running one 10 MB document of real text: gopher_repetition 11.6,
#: gopher_quality 6.7, c4 4.7, fineweb_quality 3.9.
SCRATCH_PER_BYTE = 12
#: The smallest budget: the baseline, a reader chunk and a useful slice.
MIN_MEMORY_MB = 1024


def batch_bytes(memory_mb: int) -> int:
    """The largest slice of text (bytes) a worker processes at once under ``memory_mb``."""
    return max(1, (memory_mb - BASELINE_MB - READER_MB) * 2**20 // (SCRATCH_PER_BYTE + 1))


def slice_bounds(text_bytes: np.ndarray, max_bytes: int) -> list[tuple[int, int]]:
    """[start, end) row ranges covering ``text_bytes`` (per document) in order, each summing to at
    most ``max_bytes`` unless it is one document; greedy (each range takes as many documents as
    fit), so the cut points depend only on the data. One ``searchsorted`` per range."""
    ends = np.concatenate([[0], np.cumsum(text_bytes, dtype=np.int64)])
    bounds, start, n = [], 0, len(text_bytes)
    while start < n:
        end = int(np.searchsorted(ends, ends[start] + max_bytes, side="right")) - 1
        end = min(max(end, start + 1), n)
        bounds.append((start, end))
        start = end
    return bounds or [(0, 0)]


def split_batch(batch: pa.RecordBatch, max_bytes: int) -> Iterator[pa.RecordBatch]:
    """``batch`` as zero-copy slices of at most ``max_bytes`` of text (see :func:`slice_bounds`)."""
    if batch.num_rows <= 1 or TEXT not in batch.schema.names:
        yield batch
        return
    offsets = np.frombuffer(batch.column(TEXT).cast(pa.large_string()).buffers()[1], np.int64)
    offsets = offsets[batch.column(TEXT).offset: batch.column(TEXT).offset + batch.num_rows + 1]
    if offsets[-1] - offsets[0] <= max_bytes:
        yield batch
        return
    for start, end in slice_bounds(np.diff(offsets), max_bytes):
        yield batch.slice(start, end - start)
