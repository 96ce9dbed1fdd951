"""The exported token sequence of each document, in manifest order, vectorised per shard.

Without the prefix a document's sequence is its ``tokens``. With it (``--with-prefix``, the
conditioned form, CONTRACTS.md "Token columns") it is ``prefix_tokens + tokens`` with each line control token
(``control_ids``) inserted before ``tokens[control_positions]``: what a trainer sees in a
conditioned phase. ``export.json`` states which one an export holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.manifest import Manifest


@dataclasses.dataclass(frozen=True)
class ShardSequences:
    """The sequences of one shard: ``flat[offsets[i]:offsets[i+1]]`` is document i's."""

    shard: int
    ids: pa.Array
    source: str
    flat: np.ndarray
    lengths: np.ndarray
    num_prefix: np.ndarray
    num_control: np.ndarray
    rows: np.ndarray | None = None  # each sequence's row in its shard; None: 0..n-1

    @property
    def offsets(self) -> np.ndarray:
        out = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(self.lengths, out=out[1:])
        return out

    def row_index(self) -> np.ndarray:
        return self.rows if self.rows is not None else np.arange(len(self.lengths), dtype=np.int64)

    def take(self, mask: np.ndarray) -> "ShardSequences":
        """The sequences where ``mask`` is True, in order; each keeps its shard row."""
        mask = np.asarray(mask, bool)
        idx = np.flatnonzero(mask)
        return dataclasses.replace(self, ids=self.ids.take(pa.array(idx, pa.int64())),
                                   flat=self.flat[np.repeat(mask, self.lengths)], lengths=self.lengths[idx],
                                   num_prefix=self.num_prefix[idx], num_control=self.num_control[idx],
                                   rows=self.row_index()[idx])


def _list_parts(arr: pa.ChunkedArray, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(flat values, per-row lengths, nulls as 0) of a list column."""
    arr = arr.combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy().astype(np.int64)
    flat = arr.flatten().to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return flat, lengths


def join_prefix(tokens: tuple[np.ndarray, np.ndarray], prefix: tuple[np.ndarray, np.ndarray],
                controls: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """prefix + tokens per document, with control ids inserted at their token positions."""
    (t_flat, t_len), (p_flat, p_len) = tokens, prefix
    c_pos, c_ids, c_len = controls
    out_len = t_len + p_len
    out_start = np.cumsum(out_len) - out_len
    t_start, p_start = np.cumsum(t_len) - t_len, np.cumsum(p_len) - p_len
    out = np.empty(int(out_len.sum()), t_flat.dtype)
    out[np.repeat(out_start - p_start, p_len) + np.arange(len(p_flat))] = p_flat
    out[np.repeat(out_start + p_len - t_start, t_len) + np.arange(len(t_flat))] = t_flat
    if len(c_pos):
        where = np.repeat(out_start + p_len, c_len) + c_pos
        out = np.insert(out, where, c_ids.astype(out.dtype))
    return out, out_len + c_len


def read_shard(path, with_prefix: bool) -> pa.Table:
    """The id and token columns of one shard; a missing, truncated or corrupt shard is one error line."""
    try:
        names = pq.read_schema(path).names
        cols = ["id", "tokens"] + [c for c in ("prefix_tokens", "control_positions", "control_ids")
                                   if with_prefix and c in names]
        if "id" not in names or "tokens" not in names:
            raise CurateError(f"{path}: this shard has no id or tokens column; "
                              "rebuild with `curate build --overwrite`")
        if "loss_mask" in names:
            raise CurateError(f"{path}: chat documents with a loss_mask (tokenize chat_template); the "
                              "export formats carry no per-token loss mask, so the assistant-only loss "
                              "would be lost: train them with `curate train`")
        return pq.read_table(path, columns=cols)
    except (OSError, pa.ArrowException) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise CurateError(f"{path}: cannot read this shard ({why}); the build is incomplete or damaged: "
                          "rebuild with `curate build --overwrite`") from None


def shard_sequences(manifest: Manifest, with_prefix: bool) -> Iterator[ShardSequences]:
    """The sequences of every shard of the build, in manifest order."""
    info = manifest.tokenizer
    if not info:
        raise CurateError(f"{manifest.root}: the build has no tokens; add a tokenize step to the recipe")
    dtype = np.dtype(info.dtype)
    for i, entry in enumerate(manifest.shards):
        path = manifest.root / entry.path
        t = read_shard(path, with_prefix)
        cols = t.column_names
        tokens = _list_parts(t.column("tokens"), dtype)
        n = t.num_rows
        zero = np.zeros(n, np.int64)
        if not with_prefix:
            flat, lengths, n_prefix, n_control = tokens[0], tokens[1], zero, zero
        else:
            prefix = _list_parts(t.column("prefix_tokens"), dtype) if "prefix_tokens" in cols else (
                np.zeros(0, dtype), zero)
            if "control_positions" in cols:
                c_pos, c_len = _list_parts(t.column("control_positions"), np.int64)
                c_ids, _ = _list_parts(t.column("control_ids"), np.int64)
            else:
                c_pos, c_ids, c_len = np.zeros(0, np.int64), np.zeros(0, np.int64), zero
            flat, lengths = join_prefix(tokens, prefix, (c_pos, c_ids, c_len))
            n_prefix, n_control = prefix[1], c_len
        yield ShardSequences(i, t.column("id").combine_chunks(), entry.source, flat, lengths, n_prefix, n_control)
