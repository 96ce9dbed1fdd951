"""Typed, frozen config from TOML tables: the one mechanism behind recipes and step parameters.

Every config type is a ``@dataclass(frozen=True, kw_only=True)`` whose fields are declared with
:func:`param` (a default plus a one-line doc). :func:`from_table` builds one from a TOML table and
fails with a :class:`RecipeError` that names the key, the bad value and what is allowed. Range
checks live in each class's ``__post_init__`` and raise ``ValueError``; :func:`from_table` prefixes
them with the key's location. Every float value rejects NaN (TOML's ``nan``): no setting means
"not a number"; ``none`` turns an optional rule off. :func:`describe` lists fields for ``curate steps`` / ``curate explain``.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal

from curate.errors import RecipeError

MISSING = dataclasses.MISSING

#: Directory that relative ``Path`` values resolve against: the recipe file's folder while a recipe
#: is loaded (set by ``recipe.load_recipe``), else the current directory.
BASE_DIR: contextvars.ContextVar[Path] = contextvars.ContextVar("BASE_DIR", default=Path("."))


def param(default: Any = MISSING, *, doc: str, default_factory: Any = MISSING) -> Any:
    """A dataclass field with its documentation (shown by ``curate steps``)."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"doc": doc})


def check_range(name: str, value: float, lo: float | None = None, hi: float | None = None) -> None:
    """Raise ``ValueError`` naming ``name`` when ``value`` is outside ``[lo, hi]``."""
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_s = "-inf" if lo is None else repr(lo)
        hi_s = "inf" if hi is None else repr(hi)
        raise ValueError(f"{name}={value!r} is out of range; allowed: {lo_s} <= {name} <= {hi_s}")


#: Seeds are 0 <= seed <= SEED_MAX: every consumer (uint64 hash mixing, torch, numpy) accepts them.
SEED_MAX = 2**63 - 1


def check_seed(name: str, value: int) -> None:
    """Raise ``ValueError`` unless ``0 <= value <= SEED_MAX`` (checked once, when the recipe is parsed)."""
    check_range(name, value, 0, SEED_MAX)


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if hint is type(None):
        return "none"
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(hint))
    if origin in (list, tuple):
        return f"list of {_type_name(typing.get_args(hint)[0])}"
    if origin is dict:
        return f"table of {_type_name(typing.get_args(hint)[1])}"
    if dataclasses.is_dataclass(hint):
        return "table"
    return {int: "integer", float: "number", str: "string", bool: "boolean", Path: "path"}.get(hint, str(hint))


def _bad(where: str, value: Any, hint: Any) -> RecipeError:
    return RecipeError(f"{where}: got {value!r}; expected {_type_name(hint)}")


def coerce(hint: Any, value: Any, where: str) -> Any:
    """Check ``value`` against the type ``hint`` and convert it (lists to tuples, tables to
    dataclasses). Raises :class:`RecipeError` naming ``where``."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise _bad(where, value, hint)
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in typing.get_args(hint):
            if arg is type(None):
                if value is None:
                    return None
                continue
            try:
                return coerce(arg, value, where)
            except RecipeError as exc:
                errors.append(exc)
        raise _bad(where, value, hint)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _bad(where, value, hint)
        (item,) = typing.get_args(hint)[:1]
        return tuple(coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise _bad(where, value, hint)
        key_t, val_t = typing.get_args(hint)
        return {coerce(key_t, k, where): coerce(val_t, v, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _bad(where, value, hint)
        return from_table(hint, value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise _bad(where, value, hint)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(where, value, hint)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(where, value, hint)
        if math.isnan(value):
            raise RecipeError(f"{where}: got nan; expected a number (NaN is never a valid setting)")
        return float(value)
    if hint is Path:
        from curate.storage import RemotePath, is_uri, location

        if isinstance(value, (Path, RemotePath)):
            return value
        if not isinstance(value, str) or not value:
            raise _bad(where, value, hint)
        if is_uri(value):  # s3://bucket/key: an object-storage location (see curate/storage)
            return location(value)
        return (BASE_DIR.get() / Path(value).expanduser()).resolve()
    if hint is str:
        if not isinstance(value, str):
            raise _bad(where, value, hint)
        return value
    raise TypeError(f"config type {hint!r} at {where} is not supported")


def from_table(cls: type, table: dict[str, Any], where: str) -> Any:
    """Build the frozen dataclass ``cls`` from a TOML table, checking keys, types and ranges."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise RecipeError(
            f"{where}: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(fields)) or '(none)'}"
        )
    kwargs = {name: coerce(hints[name], table[name], f"{where}.{name}") for name in table}
    for name, f in fields.items():
        required = f.default is MISSING and f.default_factory is MISSING
        if required and name not in kwargs:
            doc = f.metadata.get("doc", "")
            raise RecipeError(f"{where}: missing key '{name}' ({_type_name(hints[name])}: {doc})")
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise RecipeError(f"{where}: {exc}") from None


@dataclasses.dataclass(frozen=True)
class FieldDoc:
    name: str
    type_name: str
    default: Any
    doc: str


def describe(cls: type) -> list[FieldDoc]:
    """The documented fields of a config class, in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = MISSING
        out.append(FieldDoc(f.name, _type_name(hints[f.name]), default, f.metadata.get("doc", "")))
    return out


def to_table(obj: Any) -> dict[str, Any]:
    """The inverse of :func:`from_table`: a JSON/TOML-ready dict (tuples become lists)."""

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v) if f.init}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, os.PathLike):  # Path or storage.RemotePath (its URI)
            return os.fspath(v)
        return v

    return plain(obj)
