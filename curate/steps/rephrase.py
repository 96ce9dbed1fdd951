"""WRAP rephrasing (Maini et al., 2024; METHODS.md 8): synthetic rewrites of each document's
chunks in named styles, by a local model or an OpenAI-compatible server.

Per document: the text is cut into chunks of about ``chunk_tokens`` tokens (default 300) at
sentence boundaries (``curate/rephrase/chunking.py``); tokens are counted with ``tokenizer``, by
default the local model's own ``tokenizer.json`` (with ``backend = "http"`` and no tokenizer:
4/3 tokens per whitespace word). Each chunk is rewritten once per style in ``styles``: the paper's
``easy``, ``medium`` (Wikipedia), ``hard`` and ``qa`` prompts (``curate/rephrase/prompts.py``,
preceded by the Vicuna system line) or a user-defined one from ``custom_styles`` (name ->
instruction). Outputs are cleaned of leading boilerplate ("Sure! Here is a paraphrase:").

Every rewrite is a new row after its source row: ``id = "<source id>/wrap:<style>:<chunk>"``,
``text`` the cleaned rewrite, ``derived_from`` the source id, ``style``, ``generator`` (the
model), the source's other columns copied. Source rows get ``style = "original"`` (so
``group_by = "style"`` phases can mix real and synthetic 1:1) and are kept unless
``keep_originals = false`` (then dropped with reason ``rephrased``).

Sampling is seeded per chunk (``seed``, id, style, chunk index), so outputs do not depend on
batching or ``--workers``; ``temperature = 0`` (default) is greedy. The response cache
(``cache_dir``, keyed by sha256(model, prompt, params)) is the done marker: a resumed or re-run
build does not regenerate a cached chunk. A chunk whose generation fails (after the HTTP
backend's retries) or whose cleaned text is shorter than ``min_chars`` is dropped with reason
``rephrase_<error>`` (``rephrase_timeout``, ``rephrase_http_503``, ``rephrase_empty``, ...) and the
chunk as its text, so ``[output] rejected = "full"`` keeps what was not rewritten; failures are
never cached, so the next run retries them. Counts: ``chunks``, ``cached``, ``generated_chunks``.

Cost: generation dominates everything else by orders of magnitude (the paper: ~3M tokens/hour
per A100 with Mistral-7B); benchmarks/README.md "Rephrase throughput" has this machine's figures.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.rephrase.cache import ResponseCache, cache_key
from curate.rephrase.chunking import chunk_text
from curate.rephrase.params import GenParams
from curate.rephrase.prompts import STYLES, clean, completion_prompt, user_message
from curate.schema import ID, TEXT
from curate.steps.step import interleave, with_columns

DERIVED_FROM, STYLE, GENERATOR = "derived_from", "style", "generator"
ORIGINAL = "original"
ERROR = "_rephrase_error"


def chunk_seed(seed: int, doc_id: str, style: str, chunk: int) -> int:
    """A 63-bit seed for one chunk's sampling, independent of its batch."""
    digest = hashlib.sha256(f"{seed}\x00{doc_id}\x00{style}\x00{chunk}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rephrase:
    """WRAP: add synthetic rewrites of each document's ~300-token chunks in the chosen styles."""

    name: ClassVar[str] = "rephrase"
    backend: Literal["local", "http"] = param("local", doc="local: a transformers folder; http: an "
                                              "OpenAI-compatible server (vLLM, llama.cpp, curate serve)")
    model: Path | None = param(None, doc="local: the causal-LM folder (save_pretrained + tokenizer.json)")
    url: str | None = param(None, doc="http: base URL, e.g. http://127.0.0.1:8000")
    model_name: str | None = param(None, doc="http: the model id sent to the server")
    api: Literal["completions", "chat"] = param("completions", doc="http: /v1/completions or /v1/chat/completions")
    styles: tuple[str, ...] = param(("medium",),
                                    doc="styles to generate: easy, medium, hard, qa, or custom_styles keys")
    custom_styles: dict[str, str] = param(default_factory=dict,
                                          doc="user-defined styles: name -> instruction ({chunk} places the chunk)")
    chunk_tokens: int = param(300, doc="target chunk size in tokens (whole sentences)")
    tokenizer: Path | None = param(None, doc="tokenizer for chunk sizes; default the local model's")
    max_new_tokens: int = param(384, doc="generation limit per chunk")
    temperature: float = param(0.0, doc="0 = greedy; WRAP reproductions used 0.8")
    top_p: float = param(1.0, doc="nucleus sampling mass; WRAP reproductions used 0.95")
    seed: int = param(0, doc="sampling seed (mixed with id, style and chunk index)")
    keep_originals: bool = param(True, doc="keep source rows (style 'original'); false drops them as 'rephrased'")
    min_chars: int = param(1, doc="a cleaned rewrite shorter than this is a failure (rephrase_empty)")
    cache_dir: Path | None = param(None, doc="response cache and done markers; none = no cache (no resume)")
    batch_size: int = param(8, doc="local: prompts decoded together")
    num_threads: int | None = param(None, doc="local: torch threads; default torch's")
    concurrency: int = param(4, doc="http: requests in flight")
    timeout_s: float = param(60.0, doc="http: per-request timeout")
    max_retries: int = param(3, doc="http: retries after a timeout, connection error, 429 or 5xx")
    backoff_s: float = param(1.0, doc="http: first retry delay, doubled each retry (max 30 s)")
    api_key_env: str | None = param(None, doc="http: environment variable holding the API key")

    def __post_init__(self) -> None:
        check_range("chunk_tokens", self.chunk_tokens, 8, 100_000)
        check_range("max_new_tokens", self.max_new_tokens, 1, 100_000)
        check_range("temperature", self.temperature, 0.0, 10.0)
        check_range("top_p", self.top_p, 0.0, 1.0)
        check_range("batch_size", self.batch_size, 1, 4096)
        check_range("concurrency", self.concurrency, 1, 1024)
        check_range("timeout_s", self.timeout_s, 0.001)
        check_range("max_retries", self.max_retries, 0, 100)
        check_range("backoff_s", self.backoff_s, 0.0, 60.0)
        check_range("min_chars", self.min_chars, 0)
        if not self.styles:
            raise ValueError("styles=[] is empty; allowed: one or more of " + ", ".join(self.all_styles))
        for s in self.styles:
            if s not in self.all_styles:
                raise ValueError(f"styles: {s!r} is not a style; allowed: {', '.join(self.all_styles)} "
                                 "(add it to custom_styles)")
            if s == ORIGINAL:
                raise ValueError(f"styles: {ORIGINAL!r} is reserved for source rows; rename the style")
        if self.backend == "local" and self.model is None:
            raise ValueError("model=None: backend 'local' needs model = PATH (a causal-LM folder)")
        if self.backend == "http" and (not self.url or not self.model_name):
            raise ValueError("backend 'http' needs url = 'http://HOST:PORT' and model_name = the server's model id")

    @property
    def all_styles(self) -> list[str]:
        return list(STYLES) + [k for k in self.custom_styles if k not in STYLES]

    def instruction(self, style: str) -> str:
        return self.custom_styles.get(style) or STYLES[style]

    def make_backend(self) -> Any:
        if self.backend == "local":
            from curate.rephrase.local import LocalBackend

            return LocalBackend(self.model, self.batch_size, self.num_threads)
        from curate.rephrase.http import HttpBackend

        return HttpBackend(self.url, self.model_name, self.api, self.concurrency, self.timeout_s,
                           self.max_retries, self.backoff_s, self.api_key_env)

    def warm_up(self) -> None:
        if self.backend == "local":
            from curate.rephrase.local import load

            load(self.model)

    def count_tokens(self, backend: Any, texts: list[str]) -> list[int]:
        if self.tokenizer is not None:
            from curate.tokens.tokenizer import load_tokenizer

            tok = load_tokenizer(self.tokenizer)
            return [len(e.ids) for e in tok.encode_batch_fast(texts, add_special_tokens=False)]
        if self.backend == "local":
            return backend.count_tokens(texts)
        return [max(1, round(len(t.split()) * 4 / 3)) for t in texts]

    @property
    def params(self) -> GenParams:
        return GenParams(self.max_new_tokens, self.temperature, self.top_p)

    def expand(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        backend = self.make_backend()
        ids = batch.column(ID).to_pylist()
        texts = pc.fill_null(batch.column(TEXT), "").to_pylist()
        src, chunk_texts, styles, seeds, prompts = [], [], [], [], []
        chat = getattr(backend, "api", "completions") == "chat"
        for i, text in enumerate(texts):
            for k, chunk in enumerate(chunk_text(text, lambda s: self.count_tokens(backend, s), self.chunk_tokens)):
                for style in self.styles:
                    src.append(i)
                    chunk_texts.append((k, chunk))
                    styles.append(style)
                    seeds.append(chunk_seed(self.seed, ids[i], style, k))
                    fmt = user_message if chat else completion_prompt
                    prompts.append(fmt(self.instruction(style), chunk))
        outputs, errors, cached = self.generate_cached(backend, prompts, seeds)
        new_ids = [f"{ids[i]}/wrap:{s}:{k}" for i, s, (k, _) in zip(src, styles, chunk_texts)]
        new_text = [o if e is None else c for o, e, (_, c) in zip(outputs, errors, chunk_texts)]
        out = interleave(batch, np.asarray(src, np.int64), {
            ID: (None, pa.array(new_ids, pa.string())),
            TEXT: (None, pa.array(new_text, pa.large_string())),
            DERIVED_FROM: (pa.nulls(batch.num_rows, pa.string()), pa.array([ids[i] for i in src], pa.string())),
            STYLE: (pa.array([ORIGINAL] * batch.num_rows, pa.string()), pa.array(styles, pa.string())),
            GENERATOR: (pa.nulls(batch.num_rows, pa.string()), pa.array([backend.name] * len(src), pa.string())),
            ERROR: (pa.nulls(batch.num_rows, pa.string()), pa.array(errors, pa.string())),
        })
        n_new = len(src)
        num_chunks = np.zeros(out.num_rows, np.int64)
        num_chunks[: min(1, out.num_rows)] = n_new
        num_cached = np.zeros(out.num_rows, np.int64)
        num_cached[: min(1, out.num_rows)] = cached
        return with_columns(out, {"_count:chunks": pa.array(num_chunks), "_count:cached": pa.array(num_cached),
                                  "_count:generated_chunks": pa.array(num_chunks - num_cached)})

    def generate_cached(self, backend: Any, prompts: list[str], seeds: list[int]
                        ) -> tuple[list[str | None], list[str | None], int]:
        cache = ResponseCache(self.cache_dir)
        params = {**self.params.as_dict(), "api": getattr(backend, "api", "completions")}
        keys = [cache_key(backend.name, p, {**params, "seed": s}) for p, s in zip(prompts, seeds)]
        outputs: list[str | None] = [cache.get(k) for k in keys]
        cached = sum(o is not None for o in outputs)
        errors: list[str | None] = [None] * len(prompts)
        todo = [j for j, o in enumerate(outputs) if o is None]
        if todo:
            gens = backend.generate([prompts[j] for j in todo], [seeds[j] for j in todo], self.params)
            for j, g in zip(todo, gens):
                if g.text is None:
                    errors[j] = g.error.split(":")[0]
                    continue
                outputs[j] = g.text
                cache.put(keys[j], g.text)
        for j, o in enumerate(outputs):
            if errors[j] is None:
                outputs[j] = clean(o)
                if len(outputs[j]) < self.min_chars:
                    errors[j] = "empty"
        return outputs, errors, cached

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        errors = batch.column(ERROR)
        reasons = pc.binary_join_element_wise("rephrase_", errors, "")
        if not self.keep_originals:
            reasons = pc.if_else(pc.equal(batch.column(STYLE), ORIGINAL), "rephrased", reasons)
        return reasons
