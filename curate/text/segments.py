"""Documents as lists of segments (lines or paragraphs), their dedup keys, and text without some.

One lossless rule, vectorised with Arrow kernels (no per-row Python):

- **Split.** A line is a piece of ``text.split("\\n")``; a paragraph a piece of
  ``text.split("\\n\\n")`` (a blank line separates paragraphs; a line of spaces does not). Joining
  the pieces with the separator gives the text back byte for byte.
- **Key.** A segment's key is the 64-bit hash (``curate/text/hashing.py``, seeded) of its text
  stripped of surrounding whitespace, or of ``normalize_text`` of it (lower case, no punctuation,
  digits as 0) with ``normalize``. A segment shorter than ``min_chars`` characters after
  stripping (always: an empty one; with ``normalize``, one that normalises to nothing) is no
  candidate for removal and gets key 0; real keys are never 0 (a hash of 0 becomes 1).
- **Drop.** :func:`drop_segments` joins the pieces that are kept with the separator: removing
  line 2 of ``"a\\nb\\nc"`` gives ``"a\\nc"``, removing the last gives ``"a\\nb"``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.text.hashing import hash_strings
from curate.text.normalize import normalize_text

SEPARATORS = {"line": "\n", "paragraph": "\n\n"}
KEY_SEED = 0x5E6D  # segment keys differ from document hashes of the same text


def split_segments(text: pa.Array | pa.ChunkedArray, unit: str) -> tuple[pa.Array, np.ndarray]:
    """(flat pieces as large_string, int64 offsets of length n + 1: row i has pieces
    ``offsets[i]:offsets[i+1]``) of each document."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    lists = pc.split_pattern(text.cast(pa.large_string()), SEPARATORS[unit])
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(text) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pc.list_flatten(lists), offsets


def segment_keys(pieces: pa.Array, *, min_chars: int, normalize: bool) -> np.ndarray:
    """uint64 key of each piece by the module's rule (0: not a candidate)."""
    stripped = pc.utf8_trim_whitespace(pieces)
    candidate = pc.greater_equal(pc.utf8_length(stripped), max(min_chars, 1)).to_numpy(zero_copy_only=False)
    key_text = normalize_text(stripped) if normalize else stripped
    if normalize:  # a piece of punctuation only normalises to "": never a candidate
        candidate &= pc.greater(pc.utf8_length(key_text), 0).to_numpy(zero_copy_only=False)
    keys = hash_strings(key_text, seed=KEY_SEED)
    keys[keys == 0] = 1
    keys[~candidate] = 0
    return keys


def drop_segments(pieces: pa.Array, offsets: np.ndarray, removed: np.ndarray, unit: str) -> pa.Array:
    """The documents rebuilt from their pieces without the ``removed`` ones (bool per piece)."""
    keep = ~np.asarray(removed, bool)
    row = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    counts = np.bincount(row[keep], minlength=len(offsets) - 1)
    new_offsets = np.zeros(len(offsets), np.int64)
    np.cumsum(counts, out=new_offsets[1:])
    kept = pieces.filter(pa.array(keep))
    lists = pa.LargeListArray.from_arrays(pa.array(new_offsets), kept)
    return pc.binary_join(lists, pa.scalar(SEPARATORS[unit], pa.large_string()))
