"""``manifest.json``: the one contract between curate, mixers and train (CONTRACTS.md "manifest.json").

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
 "tokenizer": null | {"path", "sha256", "vocab_size", "bos_id", "eos_id", "add_bos", "add_eos",
                      "dtype", "special_tokens", "origin"},
 "repeat_column": "repeat",          # only when domain_balance up-samples
 "mix": {...}}                       # only in a `curate mix` output
```

``num_tokens`` is null unless the shards have a ``num_tokens`` column (a tokenize step ran). The
manifest is frozen dataclasses; :func:`make_manifest` is the one constructor (the build, ``curate
mix`` and the tests use it: it derives ``sources`` and ``columns`` from the shards), and
:meth:`Manifest.load` / :meth:`Manifest.save` the one reader and writer of the JSON.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

import orjson

from curate import __version__
from curate.config import from_table, to_table
from curate.errors import CurateError
from curate.storage import location, write_atomic

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToolInfo:
    name: str = "curate"
    version: str = __version__


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecipeRef:
    name: str
    fingerprint: str
    path: str
    seed: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    type: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class InputEntry:
    path: str  # relative to the recipe file
    source: str
    num_bytes: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShardEntry:
    path: str  # relative to the manifest's dir
    source: str
    num_docs: int
    num_bytes: int
    num_tokens: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SourceEntry:
    num_docs: int
    num_shards: int
    num_tokens: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TokenizerInfo:
    path: str  # relative to the manifest's dir: always "tokenizer.json"
    sha256: str
    vocab_size: int
    dtype: str  # "uint16" | "uint32": the element type of the token columns
    special_tokens: dict[str, int] = dataclasses.field(default_factory=dict)
    bos_id: int | None = None
    eos_id: int | None = None
    add_bos: bool = False
    add_eos: bool = True
    origin: str | None = None  # the file the build read the tokenizer from


@dataclasses.dataclass(frozen=True, kw_only=True)
class Manifest:
    root: Path
    recipe: RecipeRef
    shards: tuple[ShardEntry, ...]
    sources: dict[str, SourceEntry]
    columns: tuple[Column, ...] = ()
    inputs: tuple[InputEntry, ...] = ()
    tokenizer: TokenizerInfo | None = None
    repeat_column: str | None = None
    mix: dict[str, Any] | None = None
    tool: ToolInfo = dataclasses.field(default_factory=ToolInfo)
    format_version: int = FORMAT_VERSION

    @property
    def fingerprint(self) -> str:
        return self.recipe.fingerprint

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
        return {name: info.num_docs for name, info in self.sources.items()}

    def to_json(self) -> dict[str, Any]:
        """The on-disk form (``repeat_column`` and ``mix`` only when set)."""
        data = {f.name: to_table(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "root"}
        for key in ("repeat_column", "mix"):
            if data[key] is None:
                del data[key]
        return data

    def save(self) -> None:
        """Write ``root/manifest.json`` atomically (on object storage: one upload, see curate/storage)."""
        data = orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        write_atomic(self.root / MANIFEST_NAME, data)

    @classmethod
    def load(cls, root: str | Path) -> "Manifest":
        """Read ``root/manifest.json`` (a path or an s3:// URI); a missing, truncated or odd-shaped
        file is one error line."""
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
        try:
            return from_table(cls, {**data, "root": root}, "manifest")
        except CurateError as exc:
            raise CurateError(f"{path}: {exc}") from None


def shard_entries(infos: Sequence[Any], source: str, subdir: str = "shards") -> list[ShardEntry]:
    """Manifest entries of shards a :class:`curate.writers.ShardWriter` wrote under ``subdir``."""
    return [ShardEntry(path=f"{subdir}/{s.path}", source=source, num_docs=s.num_docs, num_bytes=s.num_bytes,
                       num_tokens=s.num_tokens) for s in infos]


def make_manifest(root: Path, *, recipe: RecipeRef, shards: Sequence[ShardEntry],
                  source_names: Sequence[str] | None = None, inputs: Sequence[InputEntry] = (),
                  tokenizer: TokenizerInfo | None = None, repeat_column: str | None = None,
                  mix: dict[str, Any] | None = None) -> Manifest:
    """The manifest of shards already written under ``root``: per-source totals in ``source_names``
    order (default: order of first appearance; a source without shards has 0 docs and null tokens)
    and the columns of the first shard. Call ``.save()`` to write it."""
    import pyarrow.parquet as pq

    shards = tuple(shards)
    names = list(source_names) if source_names is not None else list(dict.fromkeys(s.source for s in shards))
    sources = {}
    for name in names:
        mine = [s for s in shards if s.source == name]
        tokens = [s.num_tokens for s in mine]
        sources[name] = SourceEntry(num_docs=sum(s.num_docs for s in mine), num_shards=len(mine),
                                    num_tokens=None if (not mine or None in tokens) else sum(tokens))
    columns = ()
    if shards:
        columns = tuple(Column(name=f.name, type=str(f.type)) for f in pq.read_schema(root / shards[0].path))
    return Manifest(root=root, recipe=recipe, shards=shards, sources=sources, columns=columns,
                    inputs=tuple(inputs), tokenizer=tokenizer, repeat_column=repeat_column, mix=mix)
