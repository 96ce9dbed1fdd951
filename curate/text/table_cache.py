"""Precomputed codepoint tables in a cache file, so a process loads them (~5 ms) instead of
building them from Python's ``str`` predicates (~0.5 s each: 1.1M codepoints).

``cached_table(name, build, sources)`` returns ``build()``'s 1-D array, stored once in
``<cache dir>/<name>-<key>.npt`` where ``key`` hashes what the table depends on: the source files
that define it, Python's Unicode database version and the numpy dtype. Change any of them and a
new file is built; nothing is ever read from a file of another key. The file is written
atomically (temporary file, then rename) and ends with the SHA-256 of its payload: a file that
is truncated, overwritten or otherwise damaged fails the check and is rebuilt (and rewritten),
never trusted. An unwritable cache dir only costs the build time.

Cache dir: ``$CURATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/curate``, else ``~/.cache/curate``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable

import numpy as np

MAGIC = b"CURATE-TABLE-1\n"
DIGEST_BYTES = 32


def cache_dir() -> Path:
    """Where cached tables live (see the module docstring)."""
    if os.environ.get("CURATE_CACHE_DIR"):
        return Path(os.environ["CURATE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "curate"


def table_key(name: str, dtype: np.dtype, sources: tuple[str, ...]) -> str:
    """Hex key of a table: its name, dtype, the bytes of its source files, the Unicode version."""
    h = hashlib.sha256(f"{name}|{np.dtype(dtype).str}|{unicodedata.unidata_version}".encode())
    for module in sources:
        h.update(Path(sys.modules[module].__file__).read_bytes())
    return h.hexdigest()[:24]


def table_path(name: str, dtype: np.dtype, sources: tuple[str, ...]) -> Path:
    return cache_dir() / f"{name}-{table_key(name, dtype, sources)}.npt"


def _read(path: Path, dtype: np.dtype) -> np.ndarray | None:
    """The table stored at ``path``, or None when it is missing or fails its checks."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    payload = blob[len(MAGIC):-DIGEST_BYTES]
    if (not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + DIGEST_BYTES
            or hashlib.sha256(payload).digest() != blob[-DIGEST_BYTES:]
            or len(payload) % np.dtype(dtype).itemsize):
        return None
    return np.frombuffer(payload, dtype=dtype).copy()


def _write(path: Path, table: np.ndarray) -> None:
    payload = np.ascontiguousarray(table).tobytes()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + payload + hashlib.sha256(payload).digest())
        os.replace(tmp, path)
    except OSError:  # read-only or full cache dir: the table is still returned, just not kept
        pass


def cached_table(name: str, build: Callable[[], np.ndarray], sources: tuple[str, ...],
                 dtype: np.dtype) -> np.ndarray:
    """``build()`` (a 1-D array of ``dtype``), from the cache file when a valid one exists."""
    path = table_path(name, dtype, sources)
    table = _read(path, dtype)
    if table is None:
        table = np.asarray(build(), dtype=dtype)
        _write(path, table)
    return table
