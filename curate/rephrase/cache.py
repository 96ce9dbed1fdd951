"""The on-disk response cache: one small JSON file per generated response, keyed by
``sha256(orjson({"model", "prompt", "params"}))`` (sorted keys), at ``DIR/ab/abcdef....json``.

It is also the rephrase step's done marker: a build killed mid-fragment re-runs the fragment, and
every chunk whose response is cached is not generated again. Writes are atomic (temporary file,
then rename), so a killed writer leaves no partial entry; only successful responses are stored.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson


def cache_key(model: str, prompt: str, params: dict[str, Any]) -> str:
    blob = orjson.dumps({"model": model, "prompt": prompt, "params": params}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


class ResponseCache:
    def __init__(self, root: Path | None):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        if self.root is None:
            return None
        try:
            return orjson.loads(self._path(key).read_bytes())["text"]
        except FileNotFoundError:
            return None

    def put(self, key: str, text: str) -> None:
        if self.root is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps({"text": text}))
        tmp.replace(path)
