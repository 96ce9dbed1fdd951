"""Evaluation sets for decontamination: local JSONL or Parquet files, one item per record.

An item's text is its ``fields`` joined with a space, in the order given (e.g. question then
answer, so n-grams that span both are indexed too, like datatrove's "overlap" n-grams). Field
values: strings as they are, numbers and booleans as ``str(value)``, lists (answer choices)
joined with spaces, null or missing as empty. An item's id is ``id_field``'s value, or
``"{set name}/{0-based record number}"`` when ``id_field`` is unset.

Formats by file name: ``.jsonl`` / ``.json`` / ``.ndjson`` (optionally ``.gz`` / ``.zst``) and
``.parquet`` / ``.pq``. Eval sets are small (MMLU's 14k questions are 10 MB), so loading is plain
Python over the records, done once per build.
"""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import zstandard

from curate.config import param
from curate.errors import CurateError

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvalSet:
    """One evaluation set: its name in the report, its files and the fields that make an item."""

    name: str = param(doc="name in contamination.json and curate stats (e.g. 'mmlu')")
    paths: tuple[Path, ...] = param(doc="JSONL (.gz/.zst) or Parquet files, relative to the recipe")
    fields: tuple[str, ...] = param(("text",), doc="fields joined (with a space) into an item's text")
    id_field: str | None = param(None, doc="field holding the item id (default: NAME/record number)")

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must not be empty")
        if not self.paths:
            raise ValueError(f"eval set {self.name!r}: paths must name at least one file")
        if not self.fields:
            raise ValueError(f"eval set {self.name!r}: fields must name at least one field")


def _records(path: Path) -> list[dict]:
    name = path.name.lower()
    for comp in (".gz", ".zst"):
        name = name.removesuffix(comp)
    if name.endswith(PARQUET_SUFFIXES):
        return pq.read_table(path).to_pylist()
    if not name.endswith(JSONL_SUFFIXES):
        raise CurateError(f"eval set file {path}: unknown format; use .jsonl/.json/.ndjson (optionally "
                          ".gz/.zst) or .parquet/.pq")
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    elif path.name.lower().endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(raw).read()
    out = []
    for line_no, line in enumerate(raw.splitlines()):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise CurateError(f"eval set file {path}: line {line_no} (0-based) is not JSON ({exc}); "
                              "fix or remove it") from None
        if not isinstance(record, dict):
            raise CurateError(f"eval set file {path}: line {line_no} (0-based) is not a JSON object")
        out.append(record)
    return out


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return " ".join(_as_text(v) for v in value)
    return str(value)


def load_items(eval_set: EvalSet) -> tuple[list[str], list[str]]:
    """(item ids, item texts) of an eval set, in file then record order. Raises
    :class:`CurateError` (one line) for a missing file or a field no record has."""
    ids, texts = [], []
    seen = set()
    for path in eval_set.paths:
        if not path.is_file():
            raise CurateError(f"eval set {eval_set.name!r}: {path} does not exist; fix steps.eval_sets.paths")
        for record in _records(path):
            seen.update(record)
            texts.append(" ".join(_as_text(record.get(f)) for f in eval_set.fields))
            if eval_set.id_field is None:
                ids.append(f"{eval_set.name}/{len(ids)}")
            else:
                ids.append(_as_text(record.get(eval_set.id_field)))
    wanted = list(eval_set.fields) + ([eval_set.id_field] if eval_set.id_field else [])
    missing = [f for f in wanted if f not in seen]
    if texts and missing:
        raise CurateError(f"eval set {eval_set.name!r}: no record has the field {missing[0]!r}; fields "
                          f"present: {', '.join(sorted(seen))}")
    return ids, texts
