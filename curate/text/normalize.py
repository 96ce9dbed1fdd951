"""Text normalisation for deduplication keys (vectorised with pyarrow.compute).

``normalize_text``: NFKC, lower case, punctuation and symbols removed, digits replaced by ``0``,
whitespace runs collapsed to one space, ends trimmed. Two documents that differ only in case,
punctuation, spacing or numbers get the same key (datatrove's ``simplify_text`` does the same).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def normalize_text(text: pa.Array, *, lowercase: bool = True, strip_punctuation: bool = True,
                   normalize_digits: bool = True) -> pa.Array:
    out = pc.utf8_normalize(text, "NFKC")
    if lowercase:
        out = pc.utf8_lower(out)
    if strip_punctuation:
        out = pc.replace_substring_regex(out, r"[\pP\pS]+", " ")
    if normalize_digits:
        out = pc.replace_substring_regex(out, r"\d", "0")
    out = pc.replace_substring_regex(out, r"\s+", " ")
    return pc.utf8_trim_whitespace(out)
