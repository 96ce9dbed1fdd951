"""The recipe: a TOML file parsed into frozen dataclasses, checked on load.

```toml
[recipe]
name = "quickstart"
seed = 0

[[sources]]
name = "web"
paths = ["../tests/data/web_sample.jsonl.zst"]   # globs, relative to this file
# format = "jsonl"                               # jsonl | parquet | warc; else from the extension
[sources.fields]                                 # which input field is which column
text = "text"
id = "id"
url = "url"
timestamp = "timestamp"
# meta = ["lang"]                                # pass-through fields; default: all other fields

[[steps]]
use = "length"          # any step from `curate steps`, then its parameters
min_chars = 200

[output]
dir = "../out/quickstart"
```

Every path resolves relative to the recipe file. Unknown keys, wrong types and out-of-range values
raise :class:`RecipeError` naming the key, the value and what is allowed.

The four build sections are parsed here. Optional sections read by later stages (``[[phases]]`` of
mixers, ``[train]`` of train, ``[classifier]``) are :class:`Section` values owned by those packages
and passed in explicitly by the caller (``load_recipe(path, sections=[...])``; the CLI passes all of
them, see ``curate/commands/sections.py``), so curate never imports mixers or train. A section the
caller did not pass is an unknown section. ``overrides`` (``--set KEY=VALUE``) edit the TOML
document before it is parsed (``curate/overrides.py``).
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import tomllib
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import orjson

from curate.config import BASE_DIR, check_range, check_seed, from_table, param, to_table
from curate.errors import RecipeError
from curate.memory import MIN_MEMORY_MB
from curate.overrides import apply_overrides
from curate.storage import glob_files, is_uri

FORMATS = ("jsonl", "parquet", "warc")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecipeInfo:
    name: str = param(doc="recipe name, recorded in the manifest")
    seed: int = param(0, doc="seed for every random choice of the run")
    description: str = param("", doc="free text")

    def __post_init__(self) -> None:
        check_seed("seed", self.seed)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FieldMap:
    """Which input field becomes which schema column (JSONL keys or Parquet columns)."""

    text: str = param("text", doc="field holding the document text (required in every record)")
    id: str | None = param("id", doc="field holding the document id; missing ids become source/file/row")
    url: str | None = param("url", doc="field holding the URL (optional)")
    timestamp: str | None = param("timestamp", doc="field holding the date/time (optional)")
    meta: tuple[str, ...] | None = param(
        None, doc="fields passed through into the JSON `meta` column; default: all other fields"
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SourceSpec:
    name: str = param(doc="source name: the `source` column and the unit of mixing")
    paths: tuple[str, ...] = param(
        doc="glob patterns, relative to the recipe file, or URIs (s3://bucket/prefix/*.jsonl.zst)")
    format: Literal["jsonl", "parquet", "warc", "chat"] | None = param(
        None, doc="input format; default: from the extension (.jsonl[.gz|.zst], .parquet, .warc[.gz]); "
        "chat: JSONL conversations (messages, Alpaca or ShareGPT shape; curate/readers/chat.py)"
    )
    fields: FieldMap = param(default_factory=FieldMap, doc="field mapping")
    fragment_rows: int = param(
        1_000_000, doc="Parquet files are split at row-group boundaries into fragments of about this "
        "many rows, so --workers parallelises within a file"
    )
    fragment_bytes: int = param(
        64 * 2**20, doc="plain (uncompressed, local) JSONL files are split at line starts into fragments "
        "of about this many bytes, so --workers parallelises within a file (.gz/.zst JSONL, remote "
        "and WARC files are one fragment: their streams cannot seek)"
    )
    extractor: Literal["trafilatura", "resiliparse"] = param(
        "trafilatura", doc="WARC files: HTML main-text extractor (resiliparse: DCLM's, ~10x faster)"
    )

    def __post_init__(self) -> None:
        check_range("fragment_rows", self.fragment_rows, 1)
        check_range("fragment_bytes", self.fragment_bytes, 1)
        if not self.name or "/" in self.name:
            raise ValueError(f"name={self.name!r} is not allowed; use a non-empty name without '/'")
        if not self.paths:
            raise ValueError("paths=[] is empty; give at least one glob pattern")


@dataclasses.dataclass(frozen=True, kw_only=True)
class OutputSpec:
    dir: Path = param(doc="output directory, relative to the recipe file, or a URI (s3://bucket/prefix)")
    max_shard_rows: int = param(100_000, doc="a shard is closed after this many documents")
    max_shard_bytes: int = param(
        256 * 2**20, doc="a shard is closed after this many bytes of (uncompressed) Arrow data"
    )
    row_group_rows: int = param(8192, doc="rows per Parquet row group")
    compression: Literal["zstd", "snappy", "gzip", "lz4", "none"] = param(
        "zstd", doc="Parquet compression codec"
    )
    compression_level: int | None = param(
        None, doc="codec level (zstd: 1-22); default: the codec's (zstd: 1, see benchmarks/README.md)"
    )
    rejected: Literal["ids", "full", "none"] = param(
        "ids", doc="dropped documents in rejected/: id+step+reason, also text+url+timestamp+meta, or nothing"
    )
    batch_rows: int = param(2048, doc="documents per record batch read from the inputs")
    memory_mb: int = param(2048, doc="peak RSS budget per worker (MiB): batches are cut by text bytes to fit "
                                    "(curate/memory.py); a larger document is processed alone")

    def __post_init__(self) -> None:
        check_range("max_shard_rows", self.max_shard_rows, 1)
        check_range("max_shard_bytes", self.max_shard_bytes, 1024)
        check_range("row_group_rows", self.row_group_rows, 1)
        check_range("batch_rows", self.batch_rows, 1, 1_000_000)
        check_range("memory_mb", self.memory_mb, MIN_MEMORY_MB)
        if self.compression_level is not None:
            check_range("compression_level", self.compression_level, -7, 22)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recipe:
    recipe: RecipeInfo
    sources: tuple[SourceSpec, ...]
    steps: tuple[Any, ...]
    output: OutputSpec
    path: Path
    sections: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The optional sections the file has, parsed by the :class:`Section` types given to the loader."""

    def section(self, name: str) -> Any:
        """An optional section's parsed value, or None when the recipe lacks it."""
        return self.sections.get(name)

    @property
    def name(self) -> str:
        return self.recipe.name

    @property
    def seed(self) -> int:
        return self.recipe.seed

    def to_table(self) -> dict[str, Any]:
        """The normalised recipe (defaults filled in, paths absolute) as plain data."""
        return {
            "recipe": to_table(self.recipe),
            "sources": [to_table(s) for s in self.sources],
            "steps": [{"use": s.name, **to_table(s)} for s in self.steps],
            "output": to_table(self.output),
        }

    def fingerprint(self) -> str:
        """sha256 of the normalised build sections (recipe, sources, steps, output) and of the
        content of every file a step names (``curate/step_files.py``: eval sets, word lists,
        models, tokenizers): equal fingerprints mean the same build. Sections read after the build
        (phases, train) are not part of it, so editing them never invalidates shards."""
        from curate.step_files import step_file_digests

        table = {**self.to_table(), "step_files": step_file_digests(self.steps)}
        blob = orjson.dumps(table, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(blob).hexdigest()


SECTIONS = ("recipe", "sources", "steps", "output")


@dataclasses.dataclass(frozen=True)
class Section:
    """An optional recipe section, declared by the package that reads it (e.g. mixers' ``phases``).

    ``cls`` is a frozen config dataclass parsed with ``config.from_table`` (``array``: a ``[[name]]``
    array of tables). ``check(sections)`` runs after every section is parsed, with the parsed
    optional sections by name, and raises :class:`RecipeError` for cross-section mistakes (e.g. a
    ``[train.phases.X]`` with no ``[[phases]]`` entry X)."""

    name: str
    cls: type
    array: bool = False
    check: Callable[[dict[str, Any]], None] | None = None


def parse_recipe(data: dict[str, Any], path: Path, sections: Sequence[Section] = ()) -> Recipe:
    """Build a :class:`Recipe` from a parsed TOML document; ``path`` is the recipe file."""
    from curate.steps.registry import make_step, producers
    from curate.steps.step import check_artefacts

    known = {s.name: s for s in sections}
    allowed = SECTIONS + tuple(known)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise RecipeError(f"unknown section '{unknown[0]}'; allowed: {', '.join(allowed)}")
    for key in ("recipe", "sources", "output"):
        if key not in data:
            raise RecipeError(f"missing section '[{key}]'")
    if not isinstance(data["sources"], list) or not data["sources"]:
        raise RecipeError("sources: expected at least one [[sources]] table")
    steps_raw = data.get("steps", [])
    if not isinstance(steps_raw, list):
        raise RecipeError("steps: expected [[steps]] tables")
    token = BASE_DIR.set(path.parent.resolve())
    try:
        info = from_table(RecipeInfo, _table(data["recipe"], "recipe"), "recipe")
        sources = tuple(
            from_table(SourceSpec, _table(s, f"sources[{i}]"), f"sources[{i}]")
            for i, s in enumerate(data["sources"])
        )
        steps = tuple(make_step(_table(s, f"steps[{i}]"), f"steps[{i}]") for i, s in enumerate(steps_raw))
        output = from_table(OutputSpec, _table(data["output"], "output"), "output")
        parsed = {name: _parse_section(sec, data[name]) for name, sec in known.items() if name in data}
    finally:
        BASE_DIR.reset(token)
    try:
        check_artefacts(steps, producers)
    except ValueError as exc:
        raise RecipeError(str(exc)) from None
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RecipeError(f"sources: name '{dupes[0]}' is used twice; source names must be unique")
    for sec in sections:
        if sec.check is not None and sec.name in parsed:
            sec.check(parsed)
    return Recipe(recipe=info, sources=sources, steps=steps, output=output, path=path.resolve(),
                  sections=parsed)


def _parse_section(section: Section, value: Any) -> Any:
    name = section.name
    if section.array:
        if not isinstance(value, list):
            raise RecipeError(f"{name}: expected [[{name}]] tables")
        return tuple(from_table(section.cls, _table(v, f"{name}[{i}]"), f"{name}[{i}]")
                     for i, v in enumerate(value))
    return from_table(section.cls, _table(value, name), name)


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecipeError(f"{where}: expected a table, got {value!r}")
    return value


def load_recipe(path: str | Path, sections: Sequence[Section] = (), overrides: Sequence[str] = ()) -> Recipe:
    """Read and check a recipe file: the build sections plus the optional ``sections`` given, after
    applying ``overrides`` (``KEY=VALUE`` strings, see ``curate/overrides.py``)."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"recipe file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{path}: invalid TOML: {exc}") from None
    return parse_recipe(apply_overrides(data, overrides), path, sections)


def source_files(recipe: Recipe) -> list[tuple[SourceSpec, Path]]:
    """Expand every source's globs (sorted, deduplicated) in recipe order; each pattern must match."""
    base = recipe.path.parent
    out: list[tuple[SourceSpec, Path]] = []
    for i, source in enumerate(recipe.sources):
        seen: set[Path] = set()
        for j, pattern in enumerate(source.paths):
            files = glob_files(pattern, base)
            if not files:
                if not is_uri(pattern):
                    matches = glob.glob(str(base / pattern), recursive=True)
                    if matches and all(Path(m).is_dir() for m in matches):
                        raise RecipeError(f"sources[{i}].paths[{j}]: {pattern!r} is a directory (relative to {base}); "
                                          f"give a glob of its files, e.g. '{pattern.rstrip('/')}/*.jsonl'")
                where = "" if is_uri(pattern) else f" (relative to {base})"
                raise RecipeError(f"sources[{i}].paths[{j}]: no file matches {pattern!r}{where}")
            for f in files:
                if f not in seen:
                    seen.add(f)
                    out.append((source, f))
    return out
