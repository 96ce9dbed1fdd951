"""MosaicML Streaming MDS: ``index.json`` + ``shard.NNNNN.mds``, read by ``streaming.StreamingDataset``.

One sample per document with columns ``id`` (``str``), ``tokens`` (``ndarray:uint16|uint32``) and
``num_prefix_tokens`` (``int32``). The bytes are those of ``streaming``'s ``MDSWriter`` (v0.13,
``streaming/base/format/mds/writer.py``, uncompressed, no hashes, 64 MiB shards): a shard is
``uint32 num_samples``, ``uint32 offsets[num_samples+1]``, the JSON config, then the samples; a
sample is the ``uint32`` sizes of its variable-size columns followed by the column bytes in sorted
column order. We write them ourselves because ``streaming`` imports ``torchvision`` at import time
(not installable next to our CPU torch). ``tests/test_export.py`` reads them with an independent
reader and with streaming 0.13's own ``StreamingDataset`` (installed ``--no-deps``, torchvision
stubbed by ``tests/stubs``), and checks that ``MDSWriter`` writes byte-identical ``index.json`` and
shards for the same samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from curate.errors import CurateError
from curate.export import ExportOptions
from curate.export.sequences import shard_sequences
from curate.export.sidecar import Lineage
from curate.manifest import Manifest

SIZE_LIMIT = 1 << 26
NDARRAY_DTYPES = {"uint16", "uint32"}


class ShardWriter:
    """Rolls ``shard.NNNNN.mds`` files with streaming's MDSWriter size policy."""

    def __init__(self, out_dir: Path, columns: dict[str, str]):
        self.out_dir = out_dir
        self.names = sorted(columns)
        self.encodings = [columns[n] for n in self.names]
        self.sizes = [4 if e == "int32" else None for e in self.encodings]
        config = {"version": 2, "format": "mds", "compression": None, "hashes": [], "size_limit": SIZE_LIMIT,
                  "column_names": self.names, "column_encodings": self.encodings, "column_sizes": self.sizes}
        self.config = config
        self.config_data = json.dumps(config, sort_keys=True).encode("utf-8")
        self.shards: list[dict] = []
        self.samples: list[bytes] = []
        self.size = 8 + len(self.config_data)

    def write(self, sample: bytes) -> None:
        if self.samples and SIZE_LIMIT < self.size + len(sample) + 4:
            self.flush()
        self.samples.append(sample)
        self.size += len(sample) + 4

    def flush(self) -> None:
        if not self.samples:
            return
        offsets = np.array([0] + [len(s) for s in self.samples]).cumsum().astype(np.uint32)
        offsets += 4 + offsets.nbytes + len(self.config_data)
        data = np.uint32(len(self.samples)).tobytes() + offsets.tobytes() + self.config_data + b"".join(self.samples)
        basename = f"shard.{len(self.shards):05}.mds"
        (self.out_dir / basename).write_bytes(data)
        self.shards.append({"samples": len(self.samples), "raw_data": {"basename": basename, "bytes": len(data),
                            "hashes": {}}, "zip_data": None, **self.config})
        self.samples, self.size = [], 8 + len(self.config_data)

    def close(self) -> list[str]:
        self.flush()
        with (self.out_dir / "index.json").open("w") as f:
            json.dump({"version": 2, "shards": self.shards}, f, sort_keys=True)
        return ["index.json"] + [s["raw_data"]["basename"] for s in self.shards]


def encode_sample(doc_id: str, tokens: np.ndarray, num_prefix: int) -> bytes:
    """Columns in sorted order: id (str), num_prefix_tokens (int32), tokens (ndarray, 1-D)."""
    if len(tokens) == 0:
        raise CurateError(f"document {doc_id} has no tokens; MDS ndarrays cannot be empty (build with add_eos)")
    id_bytes = doc_id.encode("utf-8")
    shape_code = next(c for c, bits in enumerate((8, 16, 32, 64)) if len(tokens) < (1 << bits))
    shape_dtype = (np.uint8, np.uint16, np.uint32, np.uint64)[shape_code]
    array = bytes([(1 << 2) | shape_code]) + np.array([len(tokens)], shape_dtype).tobytes() + tokens.tobytes()
    head = np.array([len(id_bytes), len(array)], np.uint32).tobytes()
    return head + id_bytes + np.int32(num_prefix).tobytes() + array


def export(manifest: Manifest, out_dir: Path, options: ExportOptions) -> dict:
    with_prefix = options.with_prefix
    dtype = np.dtype(manifest.tokenizer.dtype)
    writer = ShardWriter(out_dir, {"id": "str", "tokens": f"ndarray:{dtype.name}", "num_prefix_tokens": "int32"})
    lineage, sample = Lineage(), 0
    for seqs in shard_sequences(manifest, with_prefix):
        offsets, flat = seqs.offsets, seqs.flat.astype(dtype, copy=False)
        for i, doc_id in enumerate(seqs.ids.to_pylist()):
            writer.write(encode_sample(doc_id, flat[offsets[i]:offsets[i + 1]], int(seqs.num_prefix[i])))
        lineage.add(seqs, sample + np.arange(len(seqs.lengths)))
        sample += len(seqs.lengths)
    files = writer.close()
    return lineage.write(out_dir, manifest, "mds", with_prefix, files, {"columns": dict(zip(writer.names,
                                                                                         writer.encodings))})
