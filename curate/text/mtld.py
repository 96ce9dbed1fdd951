"""MTLD lexical diversity (McCarthy & Jarvis 2010), bidirectional, one compiled pass per batch
(``curate/kernels/mtld.py``).

MTLD is the mean length of the word runs that keep a type-token ratio (TTR) above a threshold
(0.72, the paper's choice). Forward pass: add words one by one to the current run; when the run's
TTR = types / tokens falls to ``threshold`` or below, count one factor and start a new run. The last,
unfinished run adds the partial factor ``(1 - TTR) / (1 - threshold)``; a text whose words never
repeat (no factor, partial 0) counts one factor. MTLD = words / factors. The score is the mean of the
forward pass and the same pass over the reversed words. This is ``lexicalrichness``' ``mtld``
(0.5.1) exactly, on the same word list; a text without words gets NaN.

Words: the text lower-cased and split on runs of characters that are not letters, marks, digits or
``_`` (Unicode classes, so any script), empty pieces dropped (lexicalrichness also deletes digits;
here numbers are words). A script without spaces (Chinese, Japanese) is one word per run. Per batch
the words are dictionary-encoded once (pyarrow), so the kernel only compares integer ids: O(words) time and one int64 per distinct word of the batch.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import kernels
from curate.text.words import NON_WORD_RE

#: The paper's factor threshold (McCarthy & Jarvis 2010 recommend 0.660-0.750).
MTLD_THRESHOLD = 0.72


def word_ids(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(word ids, offsets): the lower-cased words of every text as dense ids, row i's words at
    ``ids[offsets[i]:offsets[i + 1]]``; a null text has no words."""
    lists = pc.split_pattern_regex(pc.utf8_lower(pc.fill_null(texts.cast(pa.large_string()), "")),
                                   NON_WORD_RE)
    flat = pc.list_flatten(lists)
    keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
    parent = pc.list_parent_indices(lists).to_numpy()[keep]
    ids = pc.dictionary_encode(flat.filter(pa.array(keep))).indices.to_numpy(zero_copy_only=False)
    counts = np.bincount(parent, minlength=len(texts))
    return ids.astype(np.int64), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def mtld(texts: pa.Array, threshold: float = MTLD_THRESHOLD) -> np.ndarray:
    """Bidirectional MTLD of every text (float64; NaN for a null text or one without words)."""
    ids, offsets = word_ids(texts)
    vocab = int(ids.max()) + 1 if len(ids) else 1
    out = np.empty(len(offsets) - 1, np.float64)
    kernels.load("mtld").mtld_scores(ids, offsets, vocab, float(threshold), out)
    return out
