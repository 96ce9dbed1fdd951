"""Fixed evaluation sets, declared apart from the data under test: ``[[eval]]`` tables in an evals
TOML file (``curate eval MODEL_DIR --evals evals.toml``, ``curate ablate ... --evals evals.toml``).

```toml
[[eval]]
name = "wiki"                     # a language-modelling set: bits per byte and loss per token
paths = ["held_out/wiki.jsonl"]   # JSONL (optionally .zst) or Parquet documents
text_field = "text"
max_items = 200                   # the first 200 documents, in file order

[[eval]]
name = "arith"                    # a multiple-choice task (lm-evaluation-harness conventions)
kind = "mc"
paths = ["tasks/arith.jsonl"]     # rows: {"context": ..., "choices": [...], "gold": 0}
```

Relative paths resolve against the evals file. The items of a set are the rows of its files in
order (the first ``max_items``), so every model scored with the same file is scored on exactly the
same items; ``items_sha256`` (over the scored texts) in eval.json proves it. The scoring itself is
in :mod:`train.likelihood` (lm_eval's conventions, checked against lm_eval by the tests).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tomllib
from pathlib import Path
from typing import Literal

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import zstandard

from curate.config import BASE_DIR, check_range, from_table, param
from curate.errors import CurateError, RecipeError


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvalSetSpec:
    """One ``[[eval]]`` table."""

    name: str = param(doc="set name, used in eval.json and the report")
    paths: tuple[Path, ...] = param(doc="JSONL (.jsonl, .jsonl.zst) or Parquet files of the set's rows")
    kind: Literal["lm", "mc"] = param("lm", doc="lm: documents scored by bits per byte; mc: multiple "
                                      "choice scored by acc and acc_norm")
    text_field: str = param("text", doc="lm: the column holding the document text")
    prefix_field: str | None = param(None, doc="lm: a column of text each document is conditioned on "
                                     "(e.g. a MeCo 'URL: site\\n\\n' prefix), read but not scored")
    context_field: str = param("context", doc="mc: the column holding the question / context")
    choices_field: str = param("choices", doc="mc: the column holding the list of choice strings")
    gold_field: str = param("gold", doc="mc: the column holding the index of the right choice")
    target_delimiter: str = param(" ", doc="mc: string between context and each choice (lm_eval: ' ')")
    max_items: int | None = param(None, doc="score the first N rows only (default: all)")

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError(f"eval set {self.name!r}: paths is empty; list at least one file")
        if self.max_items is not None:
            check_range("max_items", self.max_items, 1)


@dataclasses.dataclass(frozen=True)
class McItem:
    context: str
    choices: tuple[str, ...]
    gold: int


@dataclasses.dataclass(frozen=True)
class LmItem:
    """A document scored after ``prefix`` (not scored, not counted in its bytes)."""

    prefix: str
    text: str


@dataclasses.dataclass(frozen=True)
class EvalSet:
    """A set's spec and its items: texts or :class:`LmItem` (lm, with ``prefix_field``), or
    :class:`McItem` (mc)."""

    spec: EvalSetSpec
    items: tuple

    @property
    def items_sha256(self) -> str:
        h = hashlib.sha256()
        for item in self.items:
            h.update(orjson.dumps(item if isinstance(item, str) else dataclasses.asdict(item)) + b"\n")
        return h.hexdigest()


def load_evals(path: Path) -> tuple[EvalSetSpec, ...]:
    """The ``[[eval]]`` tables of an evals TOML file; a bad key fails naming it."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read the evals file ({exc})") from None
    unknown = sorted(set(data) - {"eval"})
    if unknown:
        raise RecipeError(f"{path}: unknown section '{unknown[0]}'; allowed: eval (as [[eval]] tables)")
    tables = data.get("eval")
    if not isinstance(tables, list) or not tables:
        raise RecipeError(f"{path}: no [[eval]] tables; declare at least one set with name and paths")
    token = BASE_DIR.set(path.parent.resolve())
    try:
        specs = tuple(from_table(EvalSetSpec, t, f"eval[{i}]") for i, t in enumerate(tables))
    finally:
        BASE_DIR.reset(token)
    names = [s.name for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise RecipeError(f"{path}: eval set name {repeated[0]!r} is used twice; names must be unique")
    return specs


def read_rows(path: Path) -> pa.Table:
    """A JSONL (.jsonl, .json, .jsonl.zst) or Parquet file as one table."""
    name = path.name.lower()
    if not path.is_file():
        raise CurateError(f"{path}: eval file not found")
    if name.endswith(".parquet"):
        return pq.read_table(path)
    raw = path.read_bytes()
    if name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    if name.endswith((".jsonl", ".json", ".jsonl.zst", ".json.zst")):
        return pa_json.read_json(io.BytesIO(raw))
    raise CurateError(f"{path}: unknown eval file type; use .jsonl, .jsonl.zst or .parquet")


def _column(table: pa.Table, field: str, path: Path) -> list:
    if field not in table.column_names:
        raise CurateError(f"{path}: no column {field!r}; columns: {', '.join(table.column_names)}")
    return table.column(field).to_pylist()


def load_set(spec: EvalSetSpec) -> EvalSet:
    """The items of ``spec``, in file order, the first ``max_items``."""
    items: list = []
    for path in spec.paths:
        table = read_rows(Path(path))
        if spec.kind == "lm" and spec.prefix_field is None:
            items += [t for t in _column(table, spec.text_field, path) if t]
        elif spec.kind == "lm":
            items += [LmItem(prefix=p or "", text=t) for p, t in zip(_column(table, spec.prefix_field, path),
                                                                    _column(table, spec.text_field, path)) if t]
        else:
            golds = _column(table, spec.gold_field, path)
            for ctx, choices, gold in zip(_column(table, spec.context_field, path),
                                          _column(table, spec.choices_field, path), golds):
                if not choices or not 0 <= int(gold) < len(choices):
                    raise CurateError(f"{path}: gold {gold!r} is not an index into choices {choices!r}")
                items.append(McItem(context=ctx, choices=tuple(choices), gold=int(gold)))
    return EvalSet(spec, tuple(items[:spec.max_items]))
