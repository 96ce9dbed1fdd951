"""``--set KEY=VALUE``: edit a recipe's TOML document before it is parsed.

``KEY`` is a dotted path into the document. A table part is a key (missing tables are created, so
``train.phases.pretrain.warmup_frac=0.1`` works on a recipe without that table); an array-of-tables
part is an index (``phases.0``, ``steps.2``) or the ``use`` (steps) or ``name`` (sources, phases) of
exactly one element (``steps.minhash_dedup.threshold=0.8``, ``phases.anneal.num_tokens=4096``).
``VALUE`` is parsed as a TOML value (``32``, ``0.8``, ``true``, ``"x"``, ``["en", "de"]``,
``{a = 1}``); anything that is not one (``/tmp/out``, ``en``) is a string, and so are TOML dates (the
recipe types take dates as strings). Relative paths resolve against the recipe file, as if written
there. The edited document is then parsed and checked like any recipe, so an unknown key or a bad
value fails with the parser's one-line error; a path that cannot be walked (an index out of range,
an ambiguous name, a key under a scalar) fails here, naming the override. Overrides change the
recipe fingerprint exactly as the same edit in the file would.
"""

from __future__ import annotations

import copy
import datetime
import tomllib
from typing import Any, Sequence

from curate.errors import RecipeError

NAME_KEYS = ("use", "name")


def parse_value(text: str) -> Any:
    """``text`` as a TOML value, else the string itself (dates stay strings)."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, (datetime.date, datetime.time)):
        return text
    return value


def _element(items: list, part: str, where: str, item: str) -> int:
    """The index of the array element ``part`` names: an index, or a unique ``use``/``name``."""
    if part.lstrip("-").isdigit():
        i = int(part)
        if not 0 <= i < len(items):
            raise RecipeError(f"--set {item!r}: {where} has {len(items)} entries; index {i} is out of range")
        return i
    hits = [i for i, v in enumerate(items) if isinstance(v, dict) and part in (v.get(k) for k in NAME_KEYS)]
    if len(hits) != 1:
        names = [str(next((v[k] for k in NAME_KEYS if isinstance(v, dict) and k in v), i))
                 for i, v in enumerate(items)]
        how = "no entry" if not hits else f"{len(hits)} entries (use an index)"
        raise RecipeError(f"--set {item!r}: {where}: {how} named {part!r}; entries: {', '.join(names) or '(none)'}")
    return hits[0]


def apply_override(data: dict[str, Any], item: str) -> None:
    """Apply one ``KEY=VALUE`` to ``data`` in place."""
    key, sep, text = item.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise RecipeError(f"--set {item!r}: expected KEY=VALUE with a dotted KEY, e.g. output.dir=out/x")
    node: Any = data
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the recipe"
        last = depth == len(parts) - 1
        if isinstance(node, list):
            i = _element(node, part, where, item)
            if last:
                node[i] = parse_value(text.strip())
            node = node[i]
        elif isinstance(node, dict):
            if last:
                node[part] = parse_value(text.strip())
            else:
                node = node.setdefault(part, {})
        else:
            raise RecipeError(f"--set {item!r}: {where} is {node!r}, not a table or array; "
                              f"it has no key {part!r}")


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of the TOML document ``data`` with every override applied, in order."""
    if not overrides:
        return data
    out = copy.deepcopy(data)
    for item in overrides:
        apply_override(out, item)
    return out
