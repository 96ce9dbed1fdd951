"""Word/phrase-list scores (toxicity lexicons and the like): matches per word, per document.

A lexicon file (UTF-8, one word or phrase per line, ``#`` comments and blank lines ignored) is
normalised like the text: lower-cased, every run of characters that are not Unicode letters or
digits becomes one space, then split into words. A document's score is

    rate = (number of lexicon phrase occurrences) / (number of words)

where occurrences of different phrases may overlap (``"a b"`` and ``"b c"`` both count in
``"a b c"``); an empty document scores 0. Vectorised: every word is hashed (64-bit, seeded,
``curate/text/hashing.py``), n-word windows combine their hashes, and ``np.isin`` tests them
against the lexicon's hashes; no per-row Python. A false match needs a 64-bit collision (~1e-19
per window and lexicon entry).

The column can be filtered (``score_filter`` with ``max_score``: toxicity filter; ``min_score``:
the Guide's inverse filter), thresholded into control tokens by the tokens stage, or kept.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.schema import TEXT
from curate.steps.step import with_columns
from curate.text.hashing import hash_strings

_MIX = np.uint64(0x9E3779B185EBCA87)


def normalize_words(text: pa.Array) -> pa.Array:
    """Lower-case and split into words of Unicode letters/digits: a list<string> array."""
    lower = pc.utf8_lower(text)
    spaced = pc.utf8_trim(pc.replace_substring_regex(lower, r"[^\pL\pN]+", " "), " ")
    return pc.utf8_split_whitespace(spaced)


def window_hashes(word_hashes: np.ndarray, num_words: int) -> np.ndarray:
    """Hash of every window of ``num_words`` consecutive words (positions 0..len-num_words)."""
    n = len(word_hashes) - num_words + 1
    if n <= 0:
        return np.zeros(0, np.uint64)
    out = word_hashes[:n].copy()
    with np.errstate(over="ignore"):
        for j in range(1, num_words):
            out = out * _MIX + word_hashes[j : j + n]
    return out


@lru_cache(maxsize=16)
def load_lexicon(path: Path) -> dict[int, np.ndarray]:
    """Lexicon file -> {phrase length in words: sorted unique window hashes}."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    terms = [ln for ln in lines if ln and not ln.startswith("#")]
    by_len: dict[int, list[int]] = {}
    for words in normalize_words(pa.array(terms, pa.string())).to_pylist():
        if words:
            h = hash_strings(pa.array(words, pa.string()))
            by_len.setdefault(len(words), []).append(int(window_hashes(h, len(words))[0]))
    return {n: np.unique(np.array(v, np.uint64)) for n, v in by_len.items()}


def lexicon_rate(text: pa.Array, lexicon: dict[int, np.ndarray]) -> np.ndarray:
    """Lexicon occurrences per word for each document (float32; 0 for documents without words)."""
    words = normalize_words(text)
    num_words = pc.list_value_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(words)
    doc_of = np.repeat(np.arange(len(num_words)), num_words)
    hashes = hash_strings(flat)
    matches = np.zeros(len(num_words), np.int64)
    for n, wanted in lexicon.items():
        windows = window_hashes(hashes, n)
        inside = doc_of[: len(windows)] == doc_of[n - 1 :] if len(windows) else np.zeros(0, bool)
        hit = inside & np.isin(windows, wanted)
        matches += np.bincount(doc_of[: len(windows)][hit], minlength=len(num_words))
    return (matches / np.maximum(num_words, 1)).astype(np.float32)


@dataclasses.dataclass(frozen=True, kw_only=True)
class WordListScore:
    """Add a column with lexicon (e.g. toxic word/phrase list) matches per word for each document."""

    name: ClassVar[str] = "word_list_score"
    words_path: Path = param(doc="UTF-8 file, one word or phrase per line (# comments allowed)")
    column: str = param("toxicity", doc="name of the rate column to write")

    def __post_init__(self) -> None:
        if not self.words_path.is_file():
            raise ValueError(f"words_path={str(self.words_path)!r}: file not found")
        if not load_lexicon(self.words_path):
            raise ValueError(f"words_path={str(self.words_path)!r}: no words in the file")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        rate = lexicon_rate(batch.column(TEXT), load_lexicon(self.words_path))
        return with_columns(batch, {self.column: pa.array(rate, pa.float32())})
