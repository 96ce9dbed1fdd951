"""Megatron-LM / megatron-core ``IndexedDataset``: ``data.bin`` + ``data.idx`` (``--data-path <dir>/data``).

Layout (megatron/core/datasets/indexed_dataset.py, ``_IndexWriter``): ``.bin`` is the tokens of
every document back to back; ``.idx`` is the header ``b"MMIDIDX\\x00\\x00"``, version ``<Q`` 1,
dtype code ``<B`` (8 = uint16, 4 = int32), sequence count ``<Q``, document count ``<Q`` (sequences
+ 1), then ``int32`` sequence lengths, ``int64`` byte pointers into ``.bin`` and ``int64`` document
indices (``0..n``: one sequence per document). Megatron has no uint32 code, so vocabularies over
65536 ids are written as int32 (what megatron's own preprocessing does).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from curate.export.sequences import shard_sequences
from curate.export.sidecar import Lineage
from curate.manifest import Manifest

INDEX_HEADER = b"MMIDIDX\x00\x00"
DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
PREFIX = "data"


def write_index(path: Path, lengths: np.ndarray, dtype: np.dtype) -> None:
    pointers = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1] * dtype.itemsize, out=pointers[1:])
    with path.open("wb") as f:
        f.write(INDEX_HEADER)
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", DTYPE_CODES[dtype]))
        f.write(struct.pack("<Q", len(lengths)))
        f.write(struct.pack("<Q", len(lengths) + 1))
        f.write(np.asarray(lengths, np.int32).tobytes(order="C"))
        f.write(pointers.tobytes(order="C"))
        f.write(np.arange(len(lengths) + 1, dtype=np.int64).tobytes(order="C"))


def export(manifest: Manifest, out_dir: Path, with_prefix: bool) -> dict:
    dtype = np.dtype(np.uint16) if manifest.tokenizer.dtype == "uint16" else np.dtype(np.int32)
    lineage, lengths, offset = Lineage(), [], 0
    with (out_dir / f"{PREFIX}.bin").open("wb") as f:
        for seqs in shard_sequences(manifest, with_prefix):
            f.write(seqs.flat.astype(dtype, copy=False).tobytes())
            lineage.add(seqs, offset + seqs.offsets[:-1])
            offset += int(seqs.lengths.sum())
            lengths.append(seqs.lengths)
    write_index(out_dir / f"{PREFIX}.idx", np.concatenate(lengths) if lengths else np.zeros(0, np.int64), dtype)
    return lineage.write(out_dir, manifest, "megatron", with_prefix, [f"{PREFIX}.bin", f"{PREFIX}.idx"],
                         {"data_prefix": PREFIX, "dtype": dtype.name})
