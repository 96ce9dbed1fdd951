"""Train a byte-level BPE tokenizer on a deterministic sample of the curated corpus.

A global step: it sees the documents that survived every step before it, so the tokenizer is
trained on curated text, not on the raw crawl. Prepare (parallel): a 64-bit hash of each document
id (``_tok_key``). Resolve (once): mix the hashes with the recipe seed, take the ``sample_docs``
documents with the smallest keys (a uniform sample that does not depend on the worker count or
file order), read their text (truncated to ``max_doc_chars``) in input order and train
(``curate/tokens/bpe.py``). The result is an artefact (``curate/steps/step.py``): written to the
scratch dir and named in the result, the runner publishes it as ``<output dir>/tokenizer.json`` and
binds it into a later ``tokenize`` step with no ``tokenizer`` path. No document is dropped. Resolve
runs as one engine task (``resolve_in_one_task``) in a process of its own, never in the driver: 8
bytes per document there (the sort keys), the sampled texts streamed into the trainer, and the
trainer's own tables, which dominate: HF's BPE trainer took 1.9-2.2 GB for the default 20,000
documents of real multilingual text (benchmarks/large.py). That is a fixed sample, not a share of
the corpus, and outside the batch slicing of ``[output] memory_mb``: lower ``sample_docs`` or
``max_doc_chars`` to fit a smaller machine.

Defaults: vocab 32768 (a small-model size; the recipe's quickstart uses 4096), 20000 sampled
documents, special tokens ``<|endoftext|>`` (EOS) and the Korbak control tokens ``<|aligned|>``,
``<|misaligned|>`` (METHODS.md section 3), min pair frequency 2. Bounds: vocab_size <= 2^24,
sample_docs and max_doc_chars <= 10^8.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.config import check_range, param
from curate.schema import ID, TEXT
from curate.steps.step import ARTEFACTS_KEY, ResolveContext, resolve_in_one_task, with_columns
from curate.text.hashing import hash_strings, splitmix64, splitmix64_array
from curate.tokens.bpe import train_bpe
from curate.storage import write_atomic
from curate.tokens.tokenizer import TOKENIZER_FILE, file_sha256

KEY_COLUMN = "_tok_key"
#: Largest vocabulary accepted: ids stay uint32 and the trainer's tables ~100 MB (a vocab of 2e9
#: passed once and then aborted allocating 141 GB); the largest vocabularies in use are ~256k.
MAX_VOCAB = 2**24


def seeded_keys(keys: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of ``keys`` xor splitmix64 of the seed: uniform uint64 sort keys per seed."""
    return splitmix64_array(keys ^ np.uint64(splitmix64(seed)))


def sample_rows(keys: np.ndarray, num_docs: int) -> np.ndarray:
    """Global row indices of the ``num_docs`` smallest keys, ascending (input order)."""
    if len(keys) <= num_docs:
        return np.arange(len(keys))
    chosen = np.argpartition(keys, num_docs - 1)[:num_docs]
    return np.sort(chosen)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainTokenizer:
    """Train a byte-level BPE on a seeded sample of the curated documents -> tokenizer.json."""

    name: ClassVar[str] = "train_tokenizer"
    artefacts: ClassVar[tuple[str, ...]] = (TOKENIZER_FILE,)
    vocab_size: int = param(32768, doc="vocabulary size, special tokens included")
    sample_docs: int = param(20000, doc="documents sampled (seeded, uniform) to train on")
    max_doc_chars: int = param(100_000, doc="each sampled document is cut to this many characters")
    special_tokens: tuple[str, ...] = param(("<|endoftext|>", "<|aligned|>", "<|misaligned|>"),
                                            doc="special tokens, ids 0.. in this order (EOS, control tokens)")
    min_frequency: int = param(2, doc="a pair is merged only when it occurs at least this often")

    def __post_init__(self) -> None:
        check_range("vocab_size", self.vocab_size, 256 + len(self.special_tokens), MAX_VOCAB)
        check_range("sample_docs", self.sample_docs, 1, 10**8)
        check_range("max_doc_chars", self.max_doc_chars, 1, 10**8)
        check_range("min_frequency", self.min_frequency, 1)
        if len(set(self.special_tokens)) != len(self.special_tokens) or "" in self.special_tokens:
            raise ValueError(f"special_tokens={list(self.special_tokens)!r}: must be distinct and non-empty")

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return with_columns(batch, {KEY_COLUMN: pa.array(hash_strings(batch.column(ID)), pa.uint64())})

    def _sample(self, ctx: ResolveContext) -> tuple[int, Iterator[str], list[int]]:
        """(number of sampled documents, their truncated texts in input order, read lazily: the
        trainer consumes them as they come, so the sample is never held as one list, rows per part)."""
        keys = [pq.read_table(p, columns=[KEY_COLUMN]).column(KEY_COLUMN).to_numpy() for p in ctx.part_paths]
        sizes = [len(k) for k in keys]
        all_keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
        rows = sample_rows(seeded_keys(all_keys, ctx.seed), self.sample_docs)
        starts = np.cumsum([0] + sizes)

        def texts() -> Iterator[str]:
            for i, path in enumerate(ctx.part_paths):
                mine = rows[(rows >= starts[i]) & (rows < starts[i + 1])] - starts[i]
                if len(mine):
                    yield from self._read_rows(path, mine)

        return len(rows), texts(), sizes

    def _read_rows(self, path, rows: np.ndarray) -> Iterator[str]:
        """The (truncated) text of ``rows`` (ascending) of one part, a record batch at a time."""
        offset = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=8192, columns=[TEXT]):
            here = rows[(rows >= offset) & (rows < offset + batch.num_rows)] - offset
            if len(here):
                column = pc.utf8_slice_codeunits(batch.column(0).take(pa.array(here)), 0, self.max_doc_chars)
                yield from column.to_pylist()
            offset += batch.num_rows

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]:
        return resolve_in_one_task(self, ctx)

    def select(self, ctx: ResolveContext) -> dict[str, Any]:
        num_texts, texts, sizes = self._sample(ctx)
        sample_chars = [0]

        def counted() -> Iterator[str]:
            for text in texts:
                sample_chars[0] += len(text)
                yield text

        tok = train_bpe(counted(), vocab_size=self.vocab_size, special_tokens=list(self.special_tokens),
                        min_frequency=self.min_frequency, num_texts=num_texts)
        path = ctx.scratch_dir / TOKENIZER_FILE  # under the output dir, local or object storage
        write_atomic(path, tok.to_str(pretty=True).encode())  # the bytes of tok.save(path)
        for size, out in zip(sizes, ctx.decision_paths):
            pq.write_table(pa.table({"reason": pa.nulls(size, pa.string())}), out)
        return {ARTEFACTS_KEY: [TOKENIZER_FILE], "sample_docs": num_texts, "sample_chars": sample_chars[0],
                "vocab_size": tok.get_vocab_size(), "sha256": file_sha256(path)}
