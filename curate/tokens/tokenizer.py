"""Loading a tokenizer offline and describing it for the manifest.

A tokenizer is a HF ``tokenizers`` JSON file: ``tokenizer.json``, or an HF tokenizer folder with a
``tokenizer.json`` inside (only that file is read; ``tokenizer_config.json`` is read as JSON for the
BOS/EOS names). Never the hub, never remote code. With no path, the tokenizer trained earlier in the
same build (``train_tokenizer``) is used: ``<output dir>/tokenizer.json``.

Loaded tokenizers are cached per process by (path, file size, mtime). Document text is encoded with
``encode_special_tokens = True``, so a literal ``<|endoftext|>`` or ``<|aligned|>`` inside a web page
is tokenized as ordinary text and can never inject a special token; prefixes (which carry control
tokens on purpose) are encoded with special tokens recognised.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import orjson
from tokenizers import Tokenizer

from curate.errors import CurateError
from curate.step_files import file_sha256  # noqa: F401  (re-exported for the steps)
from curate.storage import location

TOKENIZER_FILE = "tokenizer.json"
#: EOS names tried, in order, when neither the recipe nor tokenizer_config.json names one.
EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "<|eos|>")
BOS_CANDIDATES = ("<|begin_of_text|>", "<s>", "<bos>", "<|bos|>", "<|endoftext|>")


def resolve_path(path: Path) -> Path:
    """``path`` itself when a file, else ``path/tokenizer.json`` (an HF tokenizer folder)."""
    if path.is_dir():
        path = path / TOKENIZER_FILE
    if not path.is_file():
        raise CurateError(f"tokenizer file not found: {path} (give a tokenizer.json or a folder holding one)")
    return path


@functools.lru_cache(maxsize=8)
def _read(path: str, size: int, mtime_ns: int) -> str:
    """The tokenizer file's text, read once per process (a path or an s3:// URI)."""
    from curate.engines.base import record_load

    record_load(f"tokenizer {path}")
    return location(path).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=8)
def _load(path: str, size: int, mtime_ns: int, plain_specials: bool) -> Tokenizer:
    try:
        tok = Tokenizer.from_str(_read(path, size, mtime_ns))
    except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
        raise CurateError(f"{path}: not a HF tokenizers file: {exc}") from None
    tok.encode_special_tokens = plain_specials
    return tok


def load_tokenizer(path: Path, *, plain_specials: bool = True) -> Tokenizer:
    """The tokenizer at ``path`` (cached). ``plain_specials``: special-token strings in the input
    are encoded as plain text (for document text); False recognises them (for prefixes)."""
    path = resolve_path(path)
    st = path.stat()
    return _load(str(path), st.st_size, st.st_mtime_ns, plain_specials)


def special_tokens(tok: Tokenizer) -> dict[str, int]:
    """Every added token marked special: content -> id."""
    return {t.content: i for i, t in sorted(tok.get_added_tokens_decoder().items()) if t.special}


def _config_token(path: Path, key: str) -> str | None:
    """``key`` (bos_token/eos_token) from an HF folder's tokenizer_config.json, read as data."""
    config = path.parent / "tokenizer_config.json"
    if not config.is_file():
        return None
    value = orjson.loads(config.read_bytes()).get(key)
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def find_token_id(tok: Tokenizer, path: Path, name: str | None, kind: str) -> int:
    """Id of the BOS/EOS token: ``name`` when given, else tokenizer_config.json's, else the first
    of the usual names in the vocabulary."""
    candidates = [name] if name else [c for c in [_config_token(resolve_path(path), f"{kind}_token")] if c]
    candidates += [] if name else list(EOS_CANDIDATES if kind == "eos" else BOS_CANDIDATES)
    for c in candidates:
        tid = tok.token_to_id(c)
        if tid is not None:
            return tid
    raise CurateError(f"tokenizer {path}: no {kind} token among {candidates}; set {kind}_token in the step")


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id fits (vocab_size <= 65536), else uint32 (CONTRACTS.md "Token columns")."""
    return np.dtype(np.uint16) if vocab_size <= 65536 else np.dtype(np.uint32)


def require_special(tok: Tokenizer, names: list[str], where: str) -> list[int]:
    """Ids of ``names``, each of which must be a special token of ``tok``."""
    specials = special_tokens(tok)
    missing = [n for n in names if n not in specials]
    if missing:
        raise CurateError(f"{where}: {missing[0]!r} is not a special token of the tokenizer; "
                          f"special tokens: {sorted(specials)}; add it to train_tokenizer.special_tokens")
    return [specials[n] for n in names]
