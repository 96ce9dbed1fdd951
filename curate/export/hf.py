"""Hugging Face ``datasets``: Parquet files plus a ``README.md`` whose YAML front matter declares
the ``configs`` (``data_files`` per split), so ``datasets.load_dataset(DIR)`` loads the export with
no other argument: a ``train`` split, and a ``validation`` split with ``--val-frac`` (documents
chosen by ``holdout_mask(id, seed, val_frac)``, the hash mixers and ``curate train`` hold out).
Columns ``id`` (string), ``input_ids`` (list of uint16|uint32), ``num_prefix_tokens`` (int32) and
``source``; one file per build shard and split, in build order (``data/train-NNNNN.parquet``,
``data/validation-NNNNN.parquet``). The build's own shards load the same way (``curate card``
writes the build's card); this export holds just the training columns, optionally with the prefix
joined in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate.export import ExportOptions
from curate.export.sequences import shard_sequences
from curate.export.sidecar import Lineage
from curate.manifest import Manifest
from curate.text.hashing import holdout_mask
from curate.tokens.encode import list_array

SPLITS = ("train", "validation")
CARD_FILE = "README.md"


def card_text(title: str, data_files: dict[str, str], body: str = "") -> str:
    """A minimal dataset card: YAML front matter with one ``default`` config whose ``data_files``
    map each split to a glob (what ``load_dataset(DIR)`` reads), then ``# title`` and ``body``."""
    q = lambda s: orjson.dumps(s).decode()  # noqa: E731  (a JSON string is a YAML string)
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split, glob in data_files.items():
        lines += [f"  - split: {q(split)}", f"    path: {q(glob)}"]
    return "\n".join(lines + ["---", "", f"# {title}", "", body, ""])


def _table(part, dtype) -> pa.Table:
    return pa.table({
        "id": part.ids.cast(pa.string()),
        "input_ids": list_array(part.flat.astype(dtype, copy=False), part.lengths),
        "num_prefix_tokens": pa.array(part.num_prefix.astype(np.int32)),
        "source": pa.array([part.source] * len(part.lengths), pa.string()),
    })


def export(manifest: Manifest, out_dir: Path, options: ExportOptions) -> dict:
    dtype = np.dtype(manifest.tokenizer.dtype)
    (out_dir / "data").mkdir(exist_ok=True)
    lineage, files, docs = Lineage(), [], dict.fromkeys(SPLITS, 0)
    for seqs in shard_sequences(manifest, options.with_prefix):
        val = holdout_mask(seqs.ids, options.seed, options.val_frac)
        for split, part in (("train", seqs.take(~val)), ("validation", seqs.take(val))):
            if not len(part.lengths):
                continue  # a split file only where it has rows
            name = f"data/{split}-{seqs.shard:05d}.parquet"
            pq.write_table(_table(part, dtype), out_dir / name, compression="zstd")
            files.append(name)
            docs[split] += len(part.lengths)
            lineage.add(part, np.arange(len(part.lengths)), file=name)
    if not docs["train"]:  # an empty build, or every document held out: the train split still exists
        name = "data/train-00000.parquet"
        pq.write_table(_table_of_nothing(dtype), out_dir / name, compression="zstd")
        files.append(name)
    data_files = {split: f"data/{split}-*.parquet" for split in SPLITS if split == "train" or docs[split]}
    body = (f"Token export of the curate build `{manifest.recipe.name}` (recipe fingerprint "
            f"`{manifest.fingerprint[:12]}`): {', '.join(f'{n:,} {s} documents' for s, n in docs.items())}. "
            "`datasets.load_dataset(DIR)` loads it; `export.json` and `lineage.parquet` trace every row to its shard.")
    (out_dir / CARD_FILE).write_text(card_text(f"{manifest.recipe.name} (curate export, hf)", data_files, body))
    return lineage.write(out_dir, manifest, "hf", options.with_prefix, sorted(files) + [CARD_FILE],
                         {"load": "datasets.load_dataset(dir)", "splits": docs,
                          "val_frac": options.val_frac, "split_seed": options.seed})


def _table_of_nothing(dtype) -> pa.Table:
    return pa.table({"id": pa.array([], pa.string()),
                     "input_ids": list_array(np.zeros(0, dtype), np.zeros(0, np.int64)),
                     "num_prefix_tokens": pa.array([], pa.int32()), "source": pa.array([], pa.string())})
