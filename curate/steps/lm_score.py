"""Score documents by the loss of a small trained causal LM (perplexity filter; SALT-style selection).

Each document's score is its **mean next-token loss in nats/token** under a local causal LM (e.g. a
model trained by ``curate train``, saved with ``save_pretrained`` in ``RUN/final/``): for the first
``n = min(len(ids), max_tokens)`` ids (default 512), the mean of ``-log p(ids[t] | ids[:t])`` over
``t = 1..n-1``, exactly what ``model(input_ids=ids[:n], labels=ids[:n]).loss`` gives. Documents with
fewer than 2 ids get a null score. ``ppl_column`` optionally adds ``exp(loss)``.

Ids come from the build's ``tokens`` column when present (``ids = "auto"``: the ids the model was
trained on, BOS/EOS included) or from the text, encoded with the model folder's ``tokenizer.json``
(or ``tokenizer``) as the ``tokenize`` step does (the ``text`` column, or ``text_column``, e.g. the
``response`` of ``instruction_pair`` for Instruction Mining's response perplexity): special-token strings in the text stay plain text,
EOS appended (``add_eos``), no BOS (``add_bos``). The whole text is encoded, so truncation is exact.

Batching: the documents of an Arrow batch are sorted by length and cut into forward passes of at
most ``batch_tokens`` padded tokens (right padding, attention mask, pad positions excluded from the
loss); right padding leaves the positions of real tokens unchanged, so a document's score does not
depend on its batch-mates beyond float32 rounding (~1e-6). Everything runs in
``torch.inference_mode`` in float32 on CPU; the model is loaded lazily, once per worker process
(``AutoModelForCausalLM.from_pretrained`` on a local folder: never the hub, never remote code).

Cost (shared 2-core machine, 1 torch thread, the 4 x 128 Llama of recipes/meco_standard.toml,
vocab 4096): ~13k scored tokens/s per process, the same as a per-document HF forward loop for
512-token documents and ~1.6x it for 64-token ones, where batching pays (benchmarks/README.md,
"Small-model scoring"). Memory: ``batch_tokens x vocab x 8`` bytes of logits and losses per pass.
Batching is kept small on purpose: on CPU a 512-token forward already saturates the matmuls and
larger passes only add memory traffic.

SALT (METHODS.md 11, [MEM], thresholds unknown): keep "challenging yet learnable" documents by
dropping the easiest (lowest loss: boilerplate, repeats) and the noisiest (highest loss: garbage)
with ``score_band`` on this column.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.errors import CurateError
from curate.schema import TEXT
from curate.steps.step import with_columns
from curate.tokens.encode import add_bos_eos, flatten_ids
from curate.tokens.tokenizer import find_token_id, load_tokenizer, resolve_path

TOKENS = "tokens"


def length_batches(lengths: np.ndarray, batch_tokens: int) -> list[np.ndarray]:
    """Row indices grouped into forward passes: rows sorted by length (stable), each group's
    ``rows x longest`` at most ``batch_tokens`` (a longer single row gets a group of its own)."""
    order = np.argsort(lengths, kind="stable")
    groups, start = [], 0
    for end in range(1, len(order) + 1):
        if end == len(order) or (end - start + 1) * lengths[order[end]] > batch_tokens:
            groups.append(order[start:end])
            start = end
    return groups


#: Largest logits + losses buffer one forward pass may need (bytes): 16 GiB.
MAX_PASS_BYTES = 2**34


def check_fits(max_tokens: int, batch_tokens: int, vocab: int, max_positions: int | None) -> None:
    """Refuse settings the model cannot run: ``max_tokens`` beyond its positions, or a pass whose
    logits (``max(batch_tokens, max_tokens) x vocab x 8`` bytes) exceed ``MAX_PASS_BYTES``."""
    if max_positions is not None and max_tokens > max_positions:
        raise CurateError(f"lm_score: max_tokens={max_tokens} exceeds the model's "
                          f"max_position_embeddings={max_positions}; set max_tokens <= {max_positions}")
    need = max(batch_tokens, max_tokens) * vocab * 8
    if need > MAX_PASS_BYTES:
        raise CurateError(f"lm_score: a forward pass of max(batch_tokens, max_tokens)="
                          f"{max(batch_tokens, max_tokens)} tokens x vocab {vocab} needs {need / 2**30:.0f} "
                          f"GiB of logits (> {MAX_PASS_BYTES // 2**30} GiB); lower batch_tokens or max_tokens")


def padded(flat: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, mask) of shape (rows, max length): each row's ids from ``flat``, right-padded with 0."""
    width = int(lengths.max())
    pos = starts[:, None] + np.arange(width)[None, :]
    mask = np.arange(width)[None, :] < lengths[:, None]
    ids = np.where(mask, flat[np.minimum(pos, max(len(flat) - 1, 0))] if len(flat) else 0, 0)
    return ids.astype(np.int64), mask


def mean_losses(model: Any, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean next-token loss (nats) of each row over its unpadded positions; rows need >= 2 ids."""
    import torch
    import torch.nn.functional as F

    targets = np.full_like(ids, -100)
    targets[:, :-1] = np.where(mask[:, 1:], ids[:, 1:], -100)  # position t predicts ids[t + 1]
    # Right padding under a causal mask: no real position ever attends to a pad, so no padding mask
    # is needed (and SDPA keeps its fast causal path); pad positions' outputs are simply ignored.
    logits = model(input_ids=torch.from_numpy(ids)).logits
    losses = F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), torch.from_numpy(targets).view(-1),
                             reduction="none").view(ids.shape)
    return (losses.sum(1, dtype=torch.float64) / torch.from_numpy(mask[:, 1:].sum(1))).numpy()


def load_model(folder: Path) -> Any:
    """The model saved in ``folder`` (``curate/models/causal_lm.py``: offline, cached per process)."""
    from curate.models.causal_lm import load_causal_lm

    return load_causal_lm(folder, "lm_score")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LmScore:
    """Add ``lm_loss`` (float32, nats/token) from a small local causal LM; optionally ``lm_ppl``."""

    name: ClassVar[str] = "lm_score"
    model: Path = param(doc="save_pretrained folder of a causal LM (e.g. RUN/final from `curate train`)")
    tokenizer: Path | None = param(None, doc="tokenizer.json or folder; default: the model folder's")
    ids: Literal["auto", "tokens", "text"] = param(
        "auto", doc="score the build's `tokens` column (auto: when present and text_column is text) or the encoded text")
    max_tokens: int = param(512, doc="score each document's first max_tokens ids")
    batch_tokens: int = param(512, doc="padded tokens per forward pass (memory ~ batch_tokens x vocab x 8 B)")
    text_column: str = param(TEXT, doc="text ids: the column to score, e.g. `response` (Instruction Mining)")
    column: str = param("lm_loss", doc="float32 column: mean next-token loss in nats/token")
    ppl_column: str | None = param(None, doc="also write exp(loss) to this column, e.g. 'lm_ppl'")
    add_bos: bool = param(False, doc="text ids: prepend BOS (match how the model's data was tokenized)")
    add_eos: bool = param(True, doc="text ids: append EOS (the tokenize step's default)")
    num_threads: int | None = param(None, doc="torch intra-op threads per worker; default: torch's")

    def __post_init__(self) -> None:
        check_range("max_tokens", self.max_tokens, 2, 2**20)
        check_range("batch_tokens", self.batch_tokens, 2, 2**24)
        if self.num_threads is not None:
            check_range("num_threads", self.num_threads, 1)

    def _text_ids(self, texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        path = resolve_path(self.tokenizer or self.model)
        tok = load_tokenizer(path)
        bos = find_token_id(tok, path, None, "bos") if self.add_bos else None
        eos = find_token_id(tok, path, None, "eos") if self.add_eos else None
        encodings = tok.encode_batch_fast(pc.fill_null(texts, "").to_pylist(), add_special_tokens=False)
        flat, lengths = flatten_ids([e.ids for e in encodings], np.dtype(np.int64))
        return add_bos_eos(flat, lengths, bos, eos)

    def _flat_ids(self, batch: pa.RecordBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(flat ids, start, length) per row, lengths capped at max_tokens."""
        use_tokens = self.ids == "tokens" or (self.ids == "auto" and TOKENS in batch.schema.names
                                              and self.text_column == TEXT)
        if use_tokens:
            if TOKENS not in batch.schema.names:
                raise CurateError("lm_score: ids = 'tokens' but the batch has no `tokens` column; "
                                  "put a tokenize step first or set ids = 'text'")
            tokens = batch.column(TOKENS)
            offsets = tokens.offsets.to_numpy().astype(np.int64)
            flat = tokens.values.to_numpy(zero_copy_only=False).astype(np.int64)
            lengths = np.where(tokens.is_valid().to_numpy(zero_copy_only=False), np.diff(offsets), 0)
            starts = offsets[:-1]
        else:
            if self.text_column not in batch.schema.names:
                raise CurateError(f"lm_score: text_column {self.text_column!r} is missing; add the step "
                                  "that writes it first (instruction_pair) or set text_column")
            flat, lengths = self._text_ids(batch.column(self.text_column))
            starts = np.cumsum(lengths) - lengths
        return flat, starts, np.minimum(lengths, self.max_tokens)

    def scores(self, batch: pa.RecordBatch) -> np.ndarray:
        """Mean loss per row (float64, NaN where fewer than 2 ids)."""
        import torch

        model = load_model(self.model)
        flat, starts, lengths = self._flat_ids(batch)
        out = np.full(batch.num_rows, np.nan)
        rows = np.flatnonzero(lengths >= 2)
        if not len(rows):
            return out
        vocab = model.config.get_text_config().vocab_size
        check_fits(self.max_tokens, self.batch_tokens, vocab,
                   getattr(model.config.get_text_config(), "max_position_embeddings", None))
        if len(flat) and int(flat.max()) >= vocab:
            raise CurateError(f"lm_score: token id {int(flat.max())} >= the model's vocab_size {vocab}; "
                              "the tokens were made with another tokenizer than the model's")
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        with torch.inference_mode():
            for group in length_batches(lengths[rows], self.batch_tokens):
                idx = rows[group]
                ids, mask = padded(flat, starts[idx], lengths[idx])
                out[idx] = mean_losses(model, ids, mask)
        return out

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        loss = self.scores(batch)
        valid = ~np.isnan(loss)
        cols = {self.column: pa.array(loss.astype(np.float32), mask=~valid)}
        if self.ppl_column:
            cols[self.ppl_column] = pa.array(np.exp(loss).astype(np.float32), mask=~valid)
        return with_columns(batch, cols)
