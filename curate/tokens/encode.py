"""Text -> Arrow token lists, with as little Python per token as possible.

``tokenizers.Tokenizer.encode_batch_fast`` (Rust, parallel over the batch, no offsets) does the
work; the ids are flattened once with ``np.fromiter`` and BOS/EOS are inserted with one vectorised
``np.insert``. The result is a ``list<uint16|uint32>`` array with int32 offsets (CONTRACTS.md
"Token columns").
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
from tokenizers import Tokenizer

from curate.memory import slice_bounds


def flatten_ids(id_lists: list[list[int]], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(flat ids, lengths) of a list of id lists."""
    lengths = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(id_lists))
    flat = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=dtype, count=int(lengths.sum()))
    return flat, lengths


def add_bos_eos(flat: np.ndarray, lengths: np.ndarray, bos_id: int | None,
                eos_id: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Insert ``bos_id`` before and ``eos_id`` after every document of the flat array."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    doc = np.arange(len(lengths))
    marks = [(starts, 0, bos_id), (ends, 1, eos_id)]
    marks = [(pos, kind, tid) for pos, kind, tid in marks if tid is not None]
    if not marks:
        return flat, lengths
    pos = np.concatenate([m[0] for m in marks])
    kinds = np.concatenate([np.full(len(doc), m[1]) for m in marks])
    docs = np.concatenate([doc for _ in marks])
    values = np.concatenate([np.full(len(doc), m[2], flat.dtype) for m in marks])
    order = np.lexsort((kinds, docs, pos))  # at one index: doc order, BOS before EOS
    flat = np.insert(flat, pos[order], values[order])
    return flat, lengths + len(marks)


def list_array(flat: np.ndarray, lengths: np.ndarray, mask: np.ndarray | None = None) -> pa.ListArray:
    """A ``list<dtype>`` array from flat values and per-row lengths (rows with ``mask`` null)."""
    offsets = np.zeros(len(lengths) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = pa.array(flat)
    if mask is None:
        return pa.ListArray.from_arrays(pa.array(offsets), values)
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(mask))


def ids_array(id_lists: list[list[int]], dtype: np.dtype, *, bos_id: int | None = None,
              eos_id: int | None = None) -> pa.ListArray:
    """``list<dtype>`` of optional BOS + ids + optional EOS per row."""
    flat, lengths = flatten_ids(id_lists, dtype)
    flat, lengths = add_bos_eos(flat, lengths, bos_id, eos_id)
    return list_array(flat, lengths)


#: Characters encoded per ``encode_batch_fast`` call. HF's ``Encoding`` objects and the Python id lists
#: cost ~35 bytes per text byte while they live (ids, type ids, token strings, offsets and masks per
#: token), so a 100 MiB batch encoded at once raised a worker's peak by ~1.2 GB (benchmarks/large.py);
#: per chunk of 2M characters (<= 8 MB of UTF-8) the peak is bounded by ~0.3 GB and the ids go
#: straight into one flat numpy array. A chunk is cut between documents (a longer document is a
#: chunk of its own), so the tokens never depend on the chunking.
ENCODE_CHUNK_CHARS = 2_000_000


def encode_texts(tok: Tokenizer, texts: list[str], dtype: np.dtype, *, bos_id: int | None = None,
                 eos_id: int | None = None) -> pa.ListArray:
    """Token lists of ``texts``: optional BOS + encode(text) + optional EOS, encoded a chunk of
    ``ENCODE_CHUNK_CHARS`` at a time."""
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    flats, lengths = [], []
    for start, end in slice_bounds(chars, ENCODE_CHUNK_CHARS):
        encodings = tok.encode_batch_fast(texts[start:end], add_special_tokens=False)
        flat, length = flatten_ids([e.ids for e in encodings], dtype)
        del encodings
        flats.append(flat)
        lengths.append(length)
    flat = np.concatenate(flats) if flats else np.zeros(0, dtype)
    length = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    flat, length = add_bos_eos(flat, length, bos_id, eos_id)
    return list_array(flat, length)


def encode_unique(tok: Tokenizer, values: pa.Array, dtype: np.dtype) -> pa.ListArray:
    """Token lists of a string array with many repeats (prefixes): each distinct value is encoded
    once; nulls stay null."""
    encoded = pa.array(values).dictionary_encode()
    uniques = encoded.dictionary.to_pylist()
    table = encode_texts(tok, uniques, dtype) if uniques else list_array(np.zeros(0, dtype), np.zeros(0, np.int64))
    return table.take(encoded.indices)
