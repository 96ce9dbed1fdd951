"""Megatron-LM / megatron-core ``IndexedDataset``: ``data.bin`` + ``data.idx`` (``--data-path <dir>/data``).

Layout (megatron/core/datasets/indexed_dataset.py, ``_IndexWriter``): ``.bin`` is the tokens of
every document back to back; ``.idx`` is the header ``b"MMIDIDX\\x00\\x00"``, version ``<Q`` 1,
dtype code ``<B`` (8 = uint16, 4 = int32), sequence count ``<Q``, document count ``<Q`` (sequences
+ 1), then ``int32`` sequence lengths, ``int64`` byte pointers into ``.bin`` and ``int64`` document
indices (``0..n``: one sequence per document). Megatron has no uint32 code, so vocabularies over
65536 ids are written as int32 (what megatron's own preprocessing does).

``--data-path PREFIX`` is the path without ``.bin``/``.idx``: ``GPTDataset`` and ``BlendedDataset``
open ``PREFIX.bin`` and ``PREFIX.idx``. Without blends the export is one prefix, ``data``. With
blends (``curate export --phase P`` or ``--blend-by COLUMN``) it is one prefix per group of each
blend's column (``source-web``, ``skill-technical``; a document is in one prefix per column), and
``export.json`` ``blends`` holds, per phase, the ``--data-path`` string ``W1 PREFIX1 W2 PREFIX2 ...``
whose weights are the phase's planned token shares (``curate mix plan``): GPTDataset samples
fixed-length sequences, so Megatron's sample weights are token weights, and a group drawn past its
tokens is repeated (the plan's epochs).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.export import Blend, ExportOptions
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


def _group_values(manifest: Manifest, seqs, group_by: str) -> np.ndarray:
    """The ``group_by`` value of each sequence of a shard (``source`` is the shard's; nulls: "null")."""
    if group_by == "source":
        return np.full(len(seqs.lengths), seqs.source, dtype=object)
    path = manifest.root / manifest.shards[seqs.shard].path
    names = pq.read_schema(path).names
    if group_by not in names:
        raise CurateError(f"{path}: no {group_by!r} column to blend by; blend by a column of the shards "
                          f"({', '.join(n for n in names if n not in ('text', 'tokens'))})")
    col = pq.read_table(path, columns=[group_by]).column(group_by).cast(pa.string()).fill_null("null")
    return np.asarray(col.to_pylist(), dtype=object)[seqs.row_index()]


def group_prefix(group_by: str, value: str) -> str:
    """The data prefix of one group: ``<group_by>-<value>`` with characters other than
    ``A-Za-z0-9._-`` replaced by ``_`` (``source-web`` -> ``source-web.bin`` / ``.idx``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{group_by}-{value}")


class _Prefix:
    def __init__(self, out_dir: Path, prefix: str, dtype: np.dtype):
        self.prefix, self.dtype = prefix, dtype
        self.bin = (out_dir / f"{prefix}.bin").open("wb")
        self.lengths: list[np.ndarray] = []
        self.offset = 0

    def write(self, seqs, lineage: Lineage) -> None:
        self.bin.write(seqs.flat.astype(self.dtype, copy=False).tobytes())
        lineage.add(seqs, self.offset + seqs.offsets[:-1], file=f"{self.prefix}.bin")
        self.offset += int(seqs.lengths.sum())
        self.lengths.append(seqs.lengths)

    def close(self, out_dir: Path) -> None:
        self.bin.close()
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int64)
        write_index(out_dir / f"{self.prefix}.idx", lengths, self.dtype)


def data_path(blend: Blend, out_dir: Path, tokens: dict[str, int]) -> str:
    """``W1 PREFIX1 W2 PREFIX2 ...`` for Megatron's ``--data-path``: the blend's weights, or the
    groups' token counts (the natural mix); groups with no weight or no tokens left out; weights
    normalised to sum to 1 (Megatron normalises them too), printed with 6 significant digits."""
    weights = blend.weights if blend.weights is not None else {g: float(n) for g, n in tokens.items()}
    weights = {g: w for g, w in sorted(weights.items()) if w > 0 and tokens.get(g, 0) > 0}
    total = sum(weights.values())
    return " ".join(f"{w / total:.6g} {(out_dir / group_prefix(blend.group_by, g)).resolve()}"
                    for g, w in weights.items())


def export(manifest: Manifest, out_dir: Path, options: ExportOptions) -> dict:
    dtype = np.dtype(np.uint16) if manifest.tokenizer.dtype == "uint16" else np.dtype(np.int32)
    lineage = Lineage()
    if not options.blends:
        lengths, offset = [], 0
        with (out_dir / f"{PREFIX}.bin").open("wb") as f:
            for seqs in shard_sequences(manifest, options.with_prefix):
                f.write(seqs.flat.astype(dtype, copy=False).tobytes())
                lineage.add(seqs, offset + seqs.offsets[:-1])
                offset += int(seqs.lengths.sum())
                lengths.append(seqs.lengths)
        write_index(out_dir / f"{PREFIX}.idx", np.concatenate(lengths) if lengths else np.zeros(0, np.int64), dtype)
        return lineage.write(out_dir, manifest, "megatron", options.with_prefix, [f"{PREFIX}.bin", f"{PREFIX}.idx"],
                             {"data_prefix": PREFIX, "dtype": dtype.name})
    groupings = list(dict.fromkeys(b.group_by for b in options.blends))
    prefixes: dict[tuple[str, str], _Prefix] = {}
    tokens: dict[str, dict[str, int]] = {g: {} for g in groupings}
    try:
        for seqs in shard_sequences(manifest, options.with_prefix):
            for group_by in groupings:
                values = _group_values(manifest, seqs, group_by)
                for value in sorted(set(values.tolist())):
                    part = seqs.take(values == value)
                    key = (group_by, value)
                    if key not in prefixes:
                        prefixes[key] = _Prefix(out_dir, group_prefix(group_by, value), dtype)
                    prefixes[key].write(part, lineage)
                    tokens[group_by][value] = tokens[group_by].get(value, 0) + int(part.lengths.sum())
    finally:
        for p in prefixes.values():
            p.bin.close()
    for p in prefixes.values():
        p.close(out_dir)
    blends = {b.name: {"group_by": b.group_by, "num_tokens": b.num_tokens,
                       "data_path": data_path(b, out_dir, tokens[b.group_by])} for b in options.blends}
    files = sorted(f"{p.prefix}{ext}" for p in prefixes.values() for ext in (".bin", ".idx"))
    info = lineage.write(out_dir, manifest, "megatron", options.with_prefix, files,
                         {"data_prefixes": sorted(p.prefix for p in prefixes.values()), "dtype": dtype.name,
                          "group_tokens": tokens, "blends": blends})
    return info
