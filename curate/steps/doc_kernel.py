"""Glue between Arrow string columns and the per-document numba kernels of the quality filters.

A kernel walks every document of a batch in compiled code and writes one int32 reason code per row
(-1 keeps the row); :func:`codes_to_reasons` turns codes into the dictionary-encoded reason array the
runner expects. :func:`text_buffers` hands a kernel the UTF-8 bytes and offsets of the text column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curate.text.hashing import string_buffers


def text_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray, int]:
    """(UTF-8 bytes, int64 offsets, longest document in bytes) of a string column."""
    data, offsets = string_buffers(text)
    longest = int(np.max(np.diff(offsets))) if len(offsets) > 1 else 0
    return data, offsets, longest


def codes_to_reasons(codes: np.ndarray, names: list[str]) -> pa.Array:
    """int32 codes (index into ``names``, -1 = keep) -> dictionary array of reasons (null = keep)."""
    codes = np.asarray(codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(names, pa.string()))


def threshold(value: float | None, disabled: float) -> float:
    """A rule's bound for a kernel: ``None`` (rule off) becomes a bound no document crosses."""
    return disabled if value is None else float(value)
