"""Hugging Face ``datasets``: Parquet files that ``datasets.load_dataset("parquet", data_files=...)``
loads as a ``train`` split with columns ``id`` (string), ``input_ids`` (list of uint16|uint32),
``num_prefix_tokens`` (int32) and ``source``; one file per build shard, in build order
(``data/train-NNNNN.parquet``). The build's own shards load the same way (they are plain Parquet);
this export holds just the training columns, optionally with the prefix joined in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.export.sequences import shard_sequences
from curate.export.sidecar import Lineage
from curate.manifest import Manifest
from curate.tokens.encode import list_array


def export(manifest: Manifest, out_dir: Path, with_prefix: bool) -> dict:
    dtype = np.dtype(manifest.tokenizer.dtype)
    (out_dir / "data").mkdir(exist_ok=True)
    lineage, files = Lineage(), []
    for seqs in shard_sequences(manifest, with_prefix):
        table = pa.table({
            "id": seqs.ids.cast(pa.string()),
            "input_ids": list_array(seqs.flat.astype(dtype, copy=False), seqs.lengths),
            "num_prefix_tokens": pa.array(seqs.num_prefix.astype(np.int32)),
            "source": pa.array([seqs.source] * len(seqs.lengths), pa.string()),
        })
        name = f"data/train-{seqs.shard:05d}.parquet"
        pq.write_table(table, out_dir / name, compression="zstd")
        files.append(name)
        lineage.add(seqs, np.arange(len(seqs.lengths)))
    return lineage.write(out_dir, manifest, "hf", with_prefix, files,
                         {"load": 'datasets.load_dataset("parquet", data_files=f"{dir}/data/*.parquet", split="train")'})
