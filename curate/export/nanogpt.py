"""nanoGPT: ``train.bin`` and ``val.bin`` (every document's tokens back to back, EOS between
documents, as nanoGPT's ``train.py`` reads them with ``np.memmap(path, dtype=np.uint16)``) and
``meta.pkl`` (``{"vocab_size": V}``, which ``train.py`` reads for the model's vocabulary), in
nanoGPT's ``data/<dataset>/`` layout: put the export dir at ``nanoGPT/data/<name>`` and run
``python train.py --dataset=<name>``.

A document goes to ``val.bin`` when ``holdout_mask(id, seed, val_frac)`` holds (the seeded hash of
its id that mixers and ``curate train`` use for their held-out documents), else to ``train.bin``;
the split depends only on the id, seed and fraction. nanoGPT's ``train.py`` hard-codes ``uint16``:
a vocabulary over 65536 ids is written as ``uint32`` and needs ``dtype=np.uint32`` there
(``export.json`` says so). ``meta.pkl`` is ``pickle.dumps`` of a plain dict of ints and strings;
curate never loads pickles. The tokenizer is copied beside it (``tokenizer.json``).

The documents already end with EOS when the build appended it (``tokenizer.add_eos``); otherwise
one EOS is written after each. ``lineage.parquet`` has each document's ``file``, ``offset`` and
``num_tokens`` in it (the separator EOS not counted).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from curate.export import ExportOptions
from curate.export.sequences import ShardSequences, shard_sequences
from curate.export.sidecar import Lineage
from curate.manifest import Manifest
from curate.storage import copy_file
from curate.text.hashing import holdout_mask

TRAIN_FILE = "train.bin"
VAL_FILE = "val.bin"
META_FILE = "meta.pkl"
#: nanoGPT's default block_size: get_batch needs more tokens than this in each file.
NANOGPT_BLOCK_SIZE = 1024


def meta_bytes(vocab_size: int, dtype: str) -> bytes:
    """The bytes of ``meta.pkl``: a plain dict (protocol 4), never anything with code."""
    return pickle.dumps({"vocab_size": int(vocab_size), "dtype": dtype, "tokenizer": "tokenizer.json"}, protocol=4)


class _TokenFile:
    def __init__(self, path: Path, dtype: np.dtype):
        self.f = path.open("wb")
        self.dtype = dtype
        self.offset = 0

    def write(self, seqs: ShardSequences, eos_id: int | None, lineage: Lineage, name: str) -> None:
        flat, starts = seqs.flat, seqs.offsets
        if eos_id is not None:
            flat = np.insert(flat, starts[1:], np.asarray(eos_id, flat.dtype))
            starts = starts + np.arange(len(starts))
        self.f.write(flat.astype(self.dtype, copy=False).tobytes())
        lineage.add(seqs, self.offset + starts[:-1], file=name)
        self.offset += len(flat)


def export(manifest: Manifest, out_dir: Path, options: ExportOptions) -> dict:
    info = manifest.tokenizer
    dtype = np.dtype(info.dtype)
    eos = None if info.add_eos else info.eos_id
    lineage = Lineage()
    files = {TRAIN_FILE: _TokenFile(out_dir / TRAIN_FILE, dtype), VAL_FILE: _TokenFile(out_dir / VAL_FILE, dtype)}
    try:
        for seqs in shard_sequences(manifest, options.with_prefix):
            val = holdout_mask(seqs.ids, options.seed, options.val_frac)
            files[TRAIN_FILE].write(seqs.take(~val), eos, lineage, TRAIN_FILE)
            files[VAL_FILE].write(seqs.take(val), eos, lineage, VAL_FILE)
    finally:
        for f in files.values():
            f.f.close()
    (out_dir / META_FILE).write_bytes(meta_bytes(info.vocab_size, dtype.name))
    copy_file(manifest.root / info.path, out_dir / "tokenizer.json")
    tokens = {name: f.offset for name, f in files.items()}
    notes = [f"{name} has {n:,} tokens, fewer than nanoGPT's default block_size + 1 ({NANOGPT_BLOCK_SIZE + 1}): "
             f"lower --block_size or raise --val-frac" for name, n in tokens.items() if n <= NANOGPT_BLOCK_SIZE]
    if dtype != np.uint16:
        notes.append("vocab_size > 65536: the .bin files are uint32; set dtype=np.uint32 in nanoGPT's get_batch")
    return lineage.write(out_dir, manifest, "nanogpt", options.with_prefix,
                         [TRAIN_FILE, VAL_FILE, META_FILE, "tokenizer.json"],
                         {"dtype": dtype.name, "eos_id": info.eos_id, "eos_added_by_export": eos is not None,
                          "val_frac": options.val_frac, "split_seed": options.seed, "file_tokens": tokens,
                          "notes": notes})
