"""``curate serve``: a small OpenAI-compatible server for a local causal-LM folder (for users
without vLLM, and for the HTTP backend's tests).

Endpoints: ``GET /v1/models``; ``POST /v1/completions`` (``prompt``: a string or a list of
strings); ``POST /v1/chat/completions`` (``messages``, rendered in the Vicuna format the WRAP
prompts use: ``"{system} USER: {user} ASSISTANT:"``, so a chat request and the equivalent
completion request give the same text). Honoured fields: ``max_tokens`` (default 16),
``temperature`` (default 1.0; 0 = greedy), ``top_p``, ``seed``. Generation is the local
backend's (``curate/rephrase/local.py``), so greedy outputs equal the local backend's.

``http.server.ThreadingHTTPServer``: requests are parsed concurrently; the model runs one request
at a time (a lock). Test hooks: ``fail_first = N`` answers the first N generation requests with
HTTP 503; ``delay_s`` sleeps before each generation (timeouts).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from curate.rephrase.local import LocalBackend
from curate.rephrase.params import GenParams


def chat_prompt(messages: list[dict[str, Any]]) -> str:
    parts = []
    for m in messages:
        role, content = m["role"], m["content"]
        parts.append(content if role == "system" else f"{'USER' if role == 'user' else 'ASSISTANT'}: {content}")
    return " ".join(parts) + " ASSISTANT:"


class ModelServer:
    def __init__(self, folder: Path, model_name: str | None = None, fail_first: int = 0, delay_s: float = 0.0):
        self.backend = LocalBackend(folder, batch_size=8)
        self.model_name = model_name or Path(folder).name
        self.fail_left = fail_first
        self.delay_s = delay_s
        self.requests = 0
        self.lock = threading.Lock()

    def should_fail(self) -> bool:
        with self.lock:
            self.requests += 1
            if self.fail_left > 0:
                self.fail_left -= 1
                return True
        return False

    def complete(self, prompts: list[str], body: dict[str, Any]) -> list[str]:
        params = GenParams(max_new_tokens=int(body.get("max_tokens") or 16),
                           temperature=float(body.get("temperature", 1.0)), top_p=float(body.get("top_p", 1.0)))
        seed = int(body.get("seed") or 0)
        if self.delay_s:
            time.sleep(self.delay_s)
        with self.lock:
            gens = self.backend.generate(prompts, [seed] * len(prompts), params)
        if any(g.text is None for g in gens):
            raise RuntimeError(next(g.error for g in gens if g.text is None))
        return [g.text for g in gens]


def make_handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: one line per request would flood the terminal
            pass

        def reply(self, code: int, payload: dict[str, Any]) -> None:
            data = orjson.dumps(payload)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self.reply(200, {"object": "list", "data": [{"id": server.model_name, "object": "model",
                                                             "owned_by": "curate"}]})
            else:
                self.reply(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            body = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            route = self.path.rstrip("/")
            if route not in ("/v1/completions", "/v1/chat/completions"):
                return self.reply(404, {"error": {"message": f"no route {self.path}"}})
            if server.should_fail():
                return self.reply(503, {"error": {"message": "injected failure (fail_first)"}})
            chat = route == "/v1/chat/completions"
            try:
                prompts = [chat_prompt(body["messages"])] if chat else (
                    body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]])
                texts = server.complete(prompts, body)
            except (KeyError, TypeError, ValueError) as exc:
                return self.reply(400, {"error": {"message": f"bad request: {exc}"}})
            except RuntimeError as exc:
                return self.reply(500, {"error": {"message": str(exc)}})
            created = int(time.time())
            if chat:
                choices = [{"index": 0, "message": {"role": "assistant", "content": texts[0]},
                            "finish_reason": "stop"}]
            else:
                choices = [{"index": i, "text": t, "finish_reason": "stop"} for i, t in enumerate(texts)]
            self.reply(200, {"object": "chat.completion" if chat else "text_completion", "created": created,
                             "model": server.model_name, "choices": choices})

    return Handler


def serve(folder: Path, host: str, port: int, **kwargs) -> ThreadingHTTPServer:
    """A bound (not yet serving) server; ``.serve_forever()`` runs it, ``.server_address`` has the port."""
    model = ModelServer(folder, **kwargs)
    from curate.rephrase.local import load

    load(model.backend.folder)  # fail before binding when the folder is not a model
    httpd = ThreadingHTTPServer((host, port), make_handler(model))
    httpd.daemon_threads = True
    httpd.model_server = model  # the test hooks (fail_left, delay_s) stay reachable
    return httpd
