"""Replace checksum-valid candidates (credit cards: Luhn; IBANs: mod-97) in one vectorised pass.

RE2 finds candidates but cannot compute a checksum (nor test a card network's prefix and length,
``patterns.NETWORKS``), so: ``replace_substring_regex`` wraps every candidate in two private-use
sentinels (U+E000 ... U+E001), then one pass over the batch's UTF-8 buffer (a kernel compiled ahead
of time, ``curate/kernels/pii.py``) replaces each wrapped candidate whose checksum holds by the
placeholder, puts the others back as they were, removes the sentinels and counts replacements per
row. A document that already contains a sentinel codepoint is left out of this pass (its
candidates are not replaced).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import kernels
from curate.pii.patterns import NETWORKS
from curate.text.hashing import string_buffers

OPEN, CLOSE = "\ue000", "\ue001"  # UTF-8: EE 80 80 / EE 80 81
LUHN, MOD97 = 0, 1


NETWORK_TABLE = np.array([(lo, hi, len(str(lo)), min(ls), max(ls), sum(1 << n for n in ls))
                          for lo, hi, ls in NETWORKS], np.int64)


def replace_checked(text: pa.Array, pattern: str, check: int, placeholder: str) -> tuple[pa.Array, np.ndarray]:
    """``text`` with each match of ``pattern`` that passes ``check`` (LUHN or MOD97) replaced by
    ``placeholder``; returns (new large_string array, replacements per row)."""
    clean = pc.invert(pc.or_(pc.match_substring(text, OPEN), pc.match_substring(text, CLOSE)))
    wrapped = pc.replace_substring_regex(text, f"({pattern})", OPEN + r"\1" + CLOSE)
    wrapped = pc.if_else(clean, wrapped, text)
    data, offsets = string_buffers(wrapped)
    num = len(offsets) - 1
    place = np.frombuffer(placeholder.encode(), np.uint8)
    candidates = int(pc.sum(pc.count_substring(wrapped, OPEN)).as_py() or 0)
    out = np.empty(len(data) + len(place) * candidates + 1, np.uint8)
    out_offsets = np.empty(num + 1, np.int64)
    counts = np.zeros(num, np.int64)
    kernels.load("pii").resolve(data, offsets, check, place, out, out_offsets, counts, NETWORK_TABLE)
    new = pa.LargeStringArray.from_buffers(num, pa.py_buffer(out_offsets), pa.py_buffer(out[: out_offsets[-1]]))
    return new, counts
