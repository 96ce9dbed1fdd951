"""Documents of a build as token arrays: the only place the trainer reads shards.

A :class:`TokenStore` loads a shard's token columns once (``tokens``, and when present
``prefix_tokens``, ``control_positions``, ``control_ids``; CONTRACTS.md "Token columns") into flat numpy arrays with
offsets, so fetching a document is two slices. :meth:`TokenStore.example` returns the token ids of one
document and a boolean ``target`` array (False = no loss on this token):

- conditioned: ``prefix_tokens + tokens`` with the control ids inserted before their positions;
  prefix and control tokens are not targets (MeCo masks the metadata, Korbak the control tokens);
- unconditioned: ``tokens`` only, every token a target;
- chat documents (a ``loss_mask`` column, ``tokenize`` with ``chat_template``): ``tokens``, the
  targets where ``loss_mask`` is 1 (assistant turns), with or without conditioning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError

OPTIONAL_COLUMNS = ("prefix_tokens", "control_positions", "control_ids", "loss_mask")


class _ListColumn:
    """A list<int> column as flat values + offsets (nulls become empty lists)."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        arr = column.combine_chunks()
        lengths = pc.list_value_length(arr).fill_null(0).to_numpy(zero_copy_only=False)
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        self.values = pc.list_flatten(arr).to_numpy(zero_copy_only=False).astype(np.int64)

    def get(self, row: int) -> np.ndarray:
        return self.values[self.offsets[row]:self.offsets[row + 1]]


class TokenStore:
    """Lazy per-shard cache of the token columns of a build (``manifest`` is a curate Manifest)."""

    def __init__(self, manifest) -> None:
        self.manifest = manifest
        self.paths: list[Path] = manifest.shard_paths()
        self._shards: dict[int, dict[str, _ListColumn]] = {}

    def _shard(self, shard: int) -> dict[str, _ListColumn]:
        cols = self._shards.get(shard)
        if cols is None:
            path = self.paths[shard]
            names = set(pq.read_schema(path).names)
            if "tokens" not in names:
                raise CurateError(f"{path}: no 'tokens' column; add a tokenize step to the recipe")
            wanted = ["tokens"] + [c for c in OPTIONAL_COLUMNS if c in names]
            table = pq.read_table(path, columns=wanted)
            cols = {c: _ListColumn(table.column(c)) for c in wanted}
            self._shards[shard] = cols
        return cols

    def example(self, shard: int, row: int, conditioning: bool) -> tuple[np.ndarray, np.ndarray]:
        """(token ids int64, target bool) of one document."""
        cols = self._shard(shard)
        tokens = cols["tokens"].get(row)
        if "loss_mask" in cols:  # chat documents: targets are the assistant turns only
            return tokens, cols["loss_mask"].get(row) != 0
        if not conditioning:
            return tokens, np.ones(len(tokens), dtype=bool)
        prefix = cols["prefix_tokens"].get(row) if "prefix_tokens" in cols else tokens[:0]
        if "control_ids" in cols and len(cols["control_ids"].get(row)):
            ids, targets = insert_controls(tokens, cols["control_positions"].get(row),
                                           cols["control_ids"].get(row))
        else:
            ids, targets = tokens, np.ones(len(tokens), dtype=bool)
        return (np.concatenate([prefix, ids]),
                np.concatenate([np.zeros(len(prefix), dtype=bool), targets]))


def insert_controls(tokens: np.ndarray, positions: np.ndarray, ids: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Insert ``ids[k]`` before ``tokens[positions[k]]``; inserted tokens are not targets."""
    positions = np.asarray(positions, dtype=np.int64)
    if np.any(np.diff(positions) < 0) or (len(positions) and (positions[0] < 0 or positions[-1] > len(tokens))):
        raise CurateError(f"control_positions {positions.tolist()} are not sorted within 0..{len(tokens)}")
    out = np.insert(tokens, positions, ids)
    where = positions + np.arange(len(positions))
    targets = np.ones(len(out), dtype=bool)
    targets[where] = False
    return out, targets
