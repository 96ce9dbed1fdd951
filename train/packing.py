"""Pack documents into fixed ``seq_len`` rows that keep document boundaries.

Documents are laid end to end; a document that does not fit is split and its rest opens the next
row (as a new segment). Every row carries, per position: ``input_ids``, ``labels`` (the token itself,
or -100 = no loss), ``segment`` (a per-row document index) and ``position`` (restarting at 0 for each
segment). Position ``i`` predicts ``labels[i+1]``, so a segment's first token is never a target:
nothing is predicted across a document boundary. The model gets a block-diagonal causal mask from
``segment`` (:func:`train.model.document_mask`), so **no attention crosses documents** (MeCo's
setting, METHODS 1). Non-target tokens of a document (prefix, control tokens) have label -100.

State for exact resume is only the unplaced rest of a split document. Rows are filled in stream
order (no row shuffle buffer), so a document longer than ``seq_len`` fills consecutive rows of a
batch: with small batches, prefer documents not much longer than a batch (or a length cap).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np

IGNORE = -100
PAD_ID = 0

Example = tuple[np.ndarray, np.ndarray]   # (token ids, target mask)


@dataclasses.dataclass
class Row:
    input_ids: np.ndarray
    labels: np.ndarray
    segment: np.ndarray
    position: np.ndarray


class Packer:
    def __init__(self, seq_len: int) -> None:
        self.seq_len = seq_len
        self.carry: Example | None = None

    def row(self, next_example: Callable[[], Example | None], pad: bool = False) -> Row | None:
        """The next full row; at the end of the examples, None (or the padded last row with
        ``pad=True``; padding has label -100 and its own segment)."""
        parts: list[Example] = []
        used = 0
        while used < self.seq_len:
            ex = self.carry if self.carry is not None else next_example()
            self.carry = None
            if ex is None:
                if not parts or not pad:
                    return None
                n = self.seq_len - used
                parts.append((np.full(n, PAD_ID, np.int64), np.zeros(n, bool)))
                break
            tokens, targets = ex
            if len(tokens) == 0:
                continue
            take = min(len(tokens), self.seq_len - used)
            parts.append((tokens[:take], targets[:take]))
            if take < len(tokens):
                self.carry = (tokens[take:], targets[take:])
            used += take
        return assemble(parts)

    def state_dict(self) -> dict:
        if self.carry is None:
            return {"tokens": [], "targets": [], "has_carry": False}
        return {"tokens": self.carry[0].tolist(), "targets": self.carry[1].tolist(), "has_carry": True}

    def load_state_dict(self, state: dict) -> None:
        self.carry = None
        if state["has_carry"]:
            self.carry = (np.asarray(state["tokens"], np.int64), np.asarray(state["targets"], bool))


def assemble(parts: list[Example]) -> Row:
    """One row from its segments (lengths summing to seq_len)."""
    lengths = np.array([len(t) for t, _ in parts])
    input_ids = np.concatenate([t for t, _ in parts]).astype(np.int64)
    targets = np.concatenate([m for _, m in parts])
    segment = np.repeat(np.arange(len(parts)), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(input_ids)) - np.repeat(starts, lengths)
    targets = targets.copy()
    targets[starts] = False
    labels = np.where(targets, input_ids, IGNORE)
    return Row(input_ids=input_ids, labels=labels, segment=segment, position=position)


def pack_all(examples: Iterable[Example], seq_len: int) -> list[Row]:
    """Every example packed, the last row padded (for evaluation)."""
    it = iter(examples)
    packer = Packer(seq_len)
    rows = []
    while (row := packer.row(lambda: next(it, None), pad=True)) is not None:
        rows.append(row)
    return rows
