"""The HTTP backend: an OpenAI-compatible server (vLLM, llama.cpp's ``llama-server``, ``curate
serve``), ``/v1/completions`` (``api = "completions"``: the Vicuna-format prompt) or
``/v1/chat/completions`` (``api = "chat"``: system + user messages).

``concurrency`` requests are in flight at once (a thread pool). A request that times out
(``timeout_s``), cannot connect, or gets HTTP 429/5xx is retried up to ``max_retries`` times, after
``backoff_s * 2**attempt`` seconds (capped at 30 s); other HTTP errors fail at once. A prompt that
still fails returns a :class:`Generation` with the error kind, never raises. Each request carries
the prompt's ``seed`` (honoured by vLLM, llama.cpp and curate serve). An API key, when needed, is
read from the environment variable named by ``api_key_env``; it is never part of a recipe.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import orjson

from curate.rephrase.params import GenParams, Generation
from curate.rephrase.prompts import SYSTEM

MAX_BACKOFF_S = 30.0


class HttpBackend:
    def __init__(self, base_url: str, model: str, api: str = "completions", concurrency: int = 4,
                 timeout_s: float = 60.0, max_retries: int = 3, backoff_s: float = 1.0,
                 api_key_env: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api = api
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.api_key = os.environ.get(api_key_env) if api_key_env else None

    @property
    def name(self) -> str:
        return self.model

    def body(self, prompt: str, seed: int, params: GenParams) -> dict:
        common = {"model": self.model, "max_tokens": params.max_new_tokens, "seed": seed,
                  "temperature": params.temperature, "top_p": params.top_p}
        if self.api == "chat":
            return {**common, "messages": [{"role": "system", "content": SYSTEM},
                                           {"role": "user", "content": prompt}]}
        return {**common, "prompt": prompt}

    def _post(self, body: dict) -> str:
        path = "/v1/chat/completions" if self.api == "chat" else "/v1/completions"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.base_url + path, data=orjson.dumps(body), headers=headers)
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            choice = orjson.loads(resp.read())["choices"][0]
        return choice["message"]["content"] if self.api == "chat" else choice["text"]

    def one(self, prompt: str, seed: int, params: GenParams) -> Generation:
        body = self.body(prompt, seed, params)
        error = "connection"
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(self.backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S))
            try:
                return Generation(self._post(body))
            except urllib.error.HTTPError as exc:
                error = f"http_{exc.code}"
                if exc.code != 429 and exc.code < 500:
                    return Generation(None, error)
            except (TimeoutError, socket.timeout):
                error = "timeout"
            except urllib.error.URLError as exc:
                error = "timeout" if isinstance(exc.reason, (TimeoutError, socket.timeout)) else "connection"
            except (KeyError, IndexError, TypeError, ValueError):
                return Generation(None, "bad_response")
        return Generation(None, error)

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: GenParams) -> list[Generation]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda a: self.one(a[0], a[1], params), zip(prompts, seeds)))
