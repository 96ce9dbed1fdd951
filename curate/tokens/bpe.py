"""Training a byte-level BPE tokenizer with HF ``tokenizers`` (GPT-2 style), offline.

Model: BPE over the 256 byte symbols (``ByteLevel.alphabet()``, so every string encodes, no UNK),
GPT-2 pre-tokenisation regex, no prefix space, ByteLevel decoder; special tokens get the first ids
(0, 1, ...) in the order given. Training is deterministic for a given sample in a given order
(checked by ``tests/test_tokens.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers


def train_bpe(texts: Iterable[str], *, vocab_size: int, special_tokens: list[str], min_frequency: int = 2,
              num_texts: int | None = None) -> Tokenizer:
    """A byte-level BPE tokenizer trained on ``texts`` (vocab_size includes special tokens)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=num_texts)
    return tok
