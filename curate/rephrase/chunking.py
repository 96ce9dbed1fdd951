"""Split a document into chunks of about ``target_tokens`` tokens at sentence boundaries (WRAP
chunks of ~300 tokens; longer inputs lost information in the paper).

Sentences end after ``.``, ``!``, ``?`` (optionally followed by closing quotes or brackets) before
whitespace, or at a blank line; they are packed greedily in order: a chunk closes when the next
sentence would take it past ``target_tokens``. A single sentence longer than the target is a chunk
of its own (never cut mid-sentence). Token counts come from a caller-given ``count`` function
(the rephrase step uses the generator's own tokenizer).
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*\n")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, whitespace kept with the sentence it ends (``"".join`` gives the text)."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        out.append(text[start:m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return [s for s in out if s.strip()]


def pack(lengths: Sequence[int], target: int) -> list[tuple[int, int]]:
    """Greedy (start, end) runs of items whose summed length stays <= target (an item longer than
    the target forms its own run)."""
    runs, start, total = [], 0, 0
    for i, n in enumerate(lengths):
        if i > start and total + n > target:
            runs.append((start, i))
            start, total = i, 0
        total += n
    if start < len(lengths):
        runs.append((start, len(lengths)))
    return runs


def chunk_text(text: str, count: Callable[[list[str]], list[int]], target_tokens: int = 300) -> list[str]:
    """``text`` as chunks of about ``target_tokens`` tokens; ``count`` gives each sentence's tokens."""
    sentences = split_sentences(text)
    if not sentences:
        return []
    return ["".join(sentences[s:e]).strip() for s, e in pack(count(sentences), target_tokens)]
