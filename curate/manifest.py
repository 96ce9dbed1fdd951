"""``manifest.json``: the one contract between curate, mixers and train.

Written last by ``curate build`` (so its presence means the build is complete). Downstream code never
globs directories: it reads the shard list, per-source counts and tokenizer from here.

```
{"format_version": 1,
 "tool": {"name": "curate", "version": "0.1.0"},
 "recipe": {"name", "fingerprint", "path", "seed"},
 "columns": [{"name", "type"}],
 "inputs": [{"path", "source", "num_bytes"}],
 "shards": [{"path": "shards/part-00000-0000.parquet", "source", "num_docs", "num_bytes", "num_tokens"}],
 "sources": {"web": {"num_docs", "num_tokens", "num_shards"}},
 "tokenizer": null | {"path", "sha256", "vocab_size", ...}}
```

``num_tokens`` is null unless the shards have a ``num_tokens`` column (a tokenize step ran).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson

from curate.errors import CurateError
from curate.storage import location, write_atomic

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShardEntry:
    path: str
    source: str
    num_docs: int
    num_bytes: int
    num_tokens: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Manifest:
    root: Path
    data: dict[str, Any]

    @property
    def shards(self) -> list[ShardEntry]:
        return [ShardEntry(**s) for s in self.data["shards"]]

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        return self.data["sources"]

    @property
    def tokenizer(self) -> dict[str, Any] | None:
        return self.data.get("tokenizer")

    @property
    def fingerprint(self) -> str:
        return self.data["recipe"]["fingerprint"]

    def shard_paths(self, source: str | None = None) -> list[Path]:
        """Absolute shard paths in build order, optionally of one source."""
        return [self.root / s.path for s in self.shards if source is None or s.source == source]

    def tokens_by_source(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.shards:
            if s.num_tokens is None:
                raise CurateError(f"{self.root}: shards have no token counts; add a tokenize step")
            out[s.source] = out.get(s.source, 0) + s.num_tokens
        return out

    def docs_by_source(self) -> dict[str, int]:
        return {name: info["num_docs"] for name, info in self.sources.items()}

    def save(self) -> None:
        data = orjson.dumps(self.data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        write_atomic(self.root / MANIFEST_NAME, data)

    @classmethod
    def load(cls, root: str | Path) -> "Manifest":
        root = location(root)
        path = root / MANIFEST_NAME
        if not path.is_file():
            raise CurateError(f"{root}: no {MANIFEST_NAME}; is this the output dir of a finished `curate build`?")
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise CurateError(f"{path}: not valid JSON ({exc}); rebuild with `curate build --overwrite`") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            version = data.get("format_version") if isinstance(data, dict) else None
            raise CurateError(f"{path}: format_version {version} is not supported (this curate reads {FORMAT_VERSION})")
        problem = _shape_problem(data)
        if problem:
            raise CurateError(f"{path}: {problem}; rebuild with `curate build --overwrite`")
        return cls(root=root, data=data)


SHARD_TYPES = {"path": str, "source": str, "num_docs": int, "num_bytes": int, "num_tokens": (int, type(None))}


def _shape_problem(data: dict[str, Any]) -> str | None:
    """The first field that readers of the manifest rely on and that has the wrong shape, or None."""
    recipe = data.get("recipe")
    if not isinstance(recipe, dict) or not isinstance(recipe.get("fingerprint"), str):
        return "recipe.fingerprint is missing or not a string"
    if not isinstance(data.get("sources"), dict):
        return "sources is missing or not an object"
    if not (data.get("tokenizer") is None or isinstance(data["tokenizer"], dict)):
        return "tokenizer is neither null nor an object"
    shards = data.get("shards")
    if not isinstance(shards, list):
        return "shards is missing or not a list"
    for i, entry in enumerate(shards):
        keys = set(entry) if isinstance(entry, dict) else set()
        if not keys or keys - set(SHARD_TYPES) or set(SHARD_TYPES) - {"num_tokens"} - keys:
            return f"shards[{i}] does not have exactly the keys {sorted(SHARD_TYPES)}"
        for key, kind in SHARD_TYPES.items():
            if isinstance(entry.get(key), bool) or not isinstance(entry.get(key), kind):
                return f"shards[{i}].{key} = {entry.get(key)!r} has the wrong type"
    return None
