"""Pack documents into fixed ``seq_len`` rows that keep document boundaries.

Every row carries, per position: ``input_ids``, ``labels`` (the token itself, or -100 = no loss),
``segment`` (a per-row document index), ``position`` (restarting at 0 for each segment) and
``bidir`` (True on a prefix-LM input: UL2's corrupted input, :mod:`train.ul2`). Position ``i``
predicts ``labels[i+1]``, so a segment's first token is never a target: nothing is predicted across
a document boundary. The model gets a block-diagonal mask from ``segment`` and ``bidir``
(:func:`train.model.document_mask`): causal within a document, bidirectional among its ``bidir``
positions, so **no attention crosses documents** (MeCo's setting, METHODS 1). Non-target tokens of
a document (prefix, control tokens, chat turns other than the assistant's) have label -100.

How a document that does not fit is placed (``[train] packing``, per phase too):

- ``"split"`` (the :class:`Packer` default; recipes ask for it): documents end to end; one that
  does not fit the rest of the row is split and its rest opens the next row (as a new segment).
  No padding.
- ``"whole"`` (the ``[train]`` default): a document is never split across rows when it fits in one: if it does not fit the
  rest of the current row, the row is padded (label -100, its own segment) and the document opens
  the next row. A document longer than ``seq_len`` is cut into ``seq_len`` pieces, each opening a
  row (the only split, and the position restarts at 0 on each piece).
- ``"truncate"``: as ``"whole"``, but a document longer than ``seq_len`` keeps its first
  ``seq_len`` tokens; the cut tokens are counted in ``truncated_tokens`` (checkpointed, logged at
  phase end), never silently lost.

State for exact resume is the unplaced rest of a document (or of its UL2 chunks) and the
truncation count. Rows are
filled in stream order (no row shuffle buffer), so a document longer than ``seq_len`` fills
consecutive rows of a batch: with small batches, prefer documents not much longer than a batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Literal

import numpy as np

IGNORE = -100
PAD_ID = 0
PACKINGS = ("split", "whole", "truncate")
Packing = Literal["split", "whole", "truncate"]

#: (token ids, target mask) or (token ids, target mask, bidirectional-input mask)
Example = tuple[np.ndarray, ...]


@dataclasses.dataclass
class Row:
    input_ids: np.ndarray
    labels: np.ndarray
    segment: np.ndarray
    position: np.ndarray
    bidir: np.ndarray


def _full(ex: Example) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tokens, targets = ex[0], ex[1]
    bidir = ex[2] if len(ex) > 2 else np.zeros(len(tokens), bool)
    return tokens, targets, bidir


def _pad(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, PAD_ID, np.int64), np.zeros(n, bool), np.zeros(n, bool)


class Packer:
    def __init__(self, seq_len: int, packing: Packing = "split") -> None:
        if packing not in PACKINGS:
            raise ValueError(f"packing={packing!r} is not allowed; allowed: {', '.join(PACKINGS)}")
        self.seq_len = seq_len
        self.packing = packing
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # placed before drawing more
        self.truncated_tokens = 0

    def _next(self, next_example: Callable[[], Example | list[Example] | None]):
        if not self.pending:
            ex = next_example()
            if ex is None:
                return None
            self.pending = [_full(e) for e in ex] if isinstance(ex, list) else [_full(ex)]
        return self.pending.pop(0)

    def row(self, next_example: Callable[[], Example | list[Example] | None], pad: bool = False) -> Row | None:
        """The next full row; at the end of the examples, None (or the padded last row with
        ``pad=True``; padding has label -100 and its own segment). ``next_example`` may return a
        list of examples (one document's UL2 chunks): they are placed in order, each a segment."""
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        used = 0
        while used < self.seq_len:
            ex = self._next(next_example)
            if ex is None:
                if not parts or not pad:
                    return None
                parts.append(_pad(self.seq_len - used))
                break
            tokens, targets, bidir = ex
            if len(tokens) == 0:
                continue
            room = self.seq_len - used
            if self.packing != "split" and len(tokens) > room:
                if used:  # does not fit the rest of this row: pad it, the document opens the next
                    self.pending.insert(0, ex)
                    parts.append(_pad(room))
                    break
                if self.packing == "truncate":
                    self.truncated_tokens += len(tokens) - room
                    tokens, targets, bidir = tokens[:room], targets[:room], bidir[:room]
            take = min(len(tokens), room)
            parts.append((tokens[:take], targets[:take], bidir[:take]))
            if take < len(tokens):
                self.pending.insert(0, (tokens[take:], targets[take:], bidir[take:]))
            used += take
        return assemble(parts)

    def state_dict(self) -> dict:
        return {"seq_len": self.seq_len, "packing": self.packing, "truncated_tokens": self.truncated_tokens,
                "pending": [{"tokens": t.tolist(), "targets": m.tolist(), "bidir": b.tolist()}
                            for t, m, b in self.pending]}

    def load_state_dict(self, state: dict) -> None:
        self.seq_len = state["seq_len"]
        self.packing = state["packing"]
        self.truncated_tokens = state["truncated_tokens"]
        self.pending = [(np.asarray(p["tokens"], np.int64), np.asarray(p["targets"], bool),
                         np.asarray(p["bidir"], bool)) for p in state["pending"]]


def assemble(parts: list[Example]) -> Row:
    """One row from its segments (lengths summing to seq_len)."""
    parts = [_full(p) for p in parts]
    lengths = np.array([len(t) for t, _, _ in parts])
    input_ids = np.concatenate([t for t, _, _ in parts]).astype(np.int64)
    targets = np.concatenate([m for _, m, _ in parts])
    bidir = np.concatenate([b for _, _, b in parts]).astype(bool)
    segment = np.repeat(np.arange(len(parts)), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(input_ids)) - np.repeat(starts, lengths)
    targets = targets.copy()
    targets[starts] = False
    labels = np.where(targets, input_ids, IGNORE)
    return Row(input_ids=input_ids, labels=labels, segment=segment, position=position, bidir=bidir)


def pack_all(examples: Iterable[Example], seq_len: int, packing: Packing = "split") -> list[Row]:
    """Every example packed, the last row padded (for evaluation)."""
    it = iter(examples)
    packer = Packer(seq_len, packing)
    rows = []
    while (row := packer.row(lambda: next(it, None), pad=True)) is not None:
        rows.append(row)
    return rows
