"""The text of a few dropped documents, read back from the build's inputs by their lineage.

``rejected/`` holds ids and lineage only (unless ``[output] rejected = "full"``). For the card's
samples, each input file named by a sampled row is streamed with the build's own reader
(``curate.readers.read_file``, so ``input_row`` means the same record) until its last wanted row,
and the wanted rows' text is kept. Files are read while their total size stays within
``max_bytes``; the rest of the samples keep their lineage only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from curate.readers import read_file

BATCH_ROWS = 4096


def read_back(samples: dict[str, list[dict[str, Any]]], recipe_dir: Path, sources: dict[str, Any],
              max_bytes: int, excerpt_chars: int) -> int:
    """Fill ``text`` into sampled rejected rows (in place) from their input files; returns the
    number of rows filled. ``sources``: recipe source name -> SourceSpec."""
    wanted: dict[tuple[str, str], dict[int, list[dict]]] = {}
    for docs in samples.values():
        for d in docs:
            if not d.get("text") and d.get("input_file") and d.get("source") in sources:
                wanted.setdefault((d["source"], d["input_file"]), {}).setdefault(int(d["input_row"]), []).append(d)
    filled, budget = 0, max_bytes
    for (source, rel), rows in sorted(wanted.items()):
        path = recipe_dir / rel
        if not path.is_file() or path.stat().st_size > budget:
            continue
        budget -= path.stat().st_size
        last = max(rows)
        for chunk in read_file(sources[source], path, rel, BATCH_ROWS):
            batch = chunk.batch
            if batch.num_rows == 0:
                continue
            row_col = batch.column("input_row")
            mask = pc.is_in(row_col, value_set=pa.array(sorted(rows), type=row_col.type))
            hits = batch.filter(mask)
            for r, text in zip(hits.column("input_row").to_pylist(), hits.column("text").to_pylist()):
                for d in rows.get(r, []):
                    d["text"] = text[:excerpt_chars]
                    filled += 1
            if pc.max(row_col).as_py() >= last:
                break
    return filled
