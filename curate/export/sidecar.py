"""What every export writes next to its data: ``export.json`` and ``lineage.parquet``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate.config import to_table
from curate.export.sequences import ShardSequences
from curate.manifest import Manifest

EXPORT_FILE = "export.json"
LINEAGE_FILE = "lineage.parquet"


class Lineage:
    """Collects one lineage row per exported document, in export order."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.num_docs = 0
        self.num_tokens = 0

    def add(self, seqs: ShardSequences, offsets: np.ndarray, file: str | None = None) -> None:
        """``offsets``: where each document starts in the export (token index or sample index);
        ``file``: the export file holding them, for formats with several (a ``file`` column)."""
        n = len(seqs.lengths)
        table = pa.table({
            "id": seqs.ids.cast(pa.string()),
            "source": pa.array([seqs.source] * n, pa.string()),
            "shard": pa.array(np.full(n, seqs.shard, np.int32)),
            "row": pa.array(seqs.row_index().astype(np.int32)),
            "offset": pa.array(np.asarray(offsets, np.int64)),
            "num_tokens": pa.array(seqs.lengths.astype(np.int64)),
            "num_prefix_tokens": pa.array(seqs.num_prefix.astype(np.int32)),
            "num_control_tokens": pa.array(seqs.num_control.astype(np.int32)),
        })
        if file is not None:
            table = table.append_column("file", pa.array([file] * n, pa.string()))
        self.tables.append(table)
        self.num_docs += n
        self.num_tokens += int(seqs.lengths.sum())

    def write(self, out_dir: Path, manifest: Manifest, fmt: str, with_prefix: bool,
              files: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write lineage.parquet and export.json; returns the export.json content."""
        table = pa.concat_tables(self.tables) if self.tables else None
        if table is not None and "file" in table.column_names:
            table = table.sort_by([("file", "ascending"), ("offset", "ascending")])
        if table is not None:
            pq.write_table(table, out_dir / LINEAGE_FILE, compression="zstd")
        info = {
            "format": fmt,
            "with_prefix": with_prefix,
            "prefix_note": ("each sequence is prefix_tokens + tokens with line control tokens inserted; "
                            "lineage num_prefix_tokens/num_control_tokens say how many to mask from the loss")
            if with_prefix else "document tokens only (no conditioning prefix or control tokens)",
            "source_build": str(manifest.root.resolve()),
            "recipe_fingerprint": manifest.fingerprint,
            "tokenizer": to_table(manifest.tokenizer),
            "num_docs": self.num_docs,
            "num_tokens": self.num_tokens,
            "files": files,
            "lineage": LINEAGE_FILE,
            **(extra or {}),
        }
        (out_dir / EXPORT_FILE).write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
        return info
