"""nanoGPT-style flat token file: ``train.bin`` = every document's tokens back to back, EOS
between documents, as ``np.memmap(path, dtype=uint16|uint32)`` reads it (nanoGPT's
``data/openwebtext/prepare.py`` layout; uint32 when the vocabulary needs it).

The documents already end with EOS when the build appended it (``tokenizer.add_eos``); otherwise
one EOS is written after each. ``lineage.parquet`` has each document's ``offset`` and
``num_tokens`` in the file (the separator EOS not counted).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.export.sequences import shard_sequences
from curate.export.sidecar import Lineage
from curate.manifest import Manifest

DATA_FILE = "train.bin"


def export(manifest: Manifest, out_dir: Path, with_prefix: bool) -> dict:
    info = manifest.tokenizer
    dtype = np.dtype(info.dtype)
    separate = not info.add_eos
    lineage, offset = Lineage(), 0
    with (out_dir / DATA_FILE).open("wb") as f:
        for seqs in shard_sequences(manifest, with_prefix):
            flat, starts = seqs.flat, seqs.offsets
            if separate:
                flat = np.insert(flat, starts[1:], np.asarray(info.eos_id, flat.dtype))
                starts = starts + np.arange(len(starts))
            f.write(flat.astype(dtype, copy=False).tobytes())
            lineage.add(seqs, offset + starts[:-1])
            offset += len(flat)
    return lineage.write(out_dir, manifest, "nanogpt", with_prefix, [DATA_FILE],
                         {"dtype": dtype.name, "eos_id": info.eos_id, "eos_added_by_export": separate})
