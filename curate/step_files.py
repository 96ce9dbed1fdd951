"""The files a recipe's steps read, by content: part of the recipe fingerprint.

A step parameter that is a path (a blocklist, a word list, a fastText model, a tokenizer, a
decontamination eval set, an earlier build's MinHash index in ``against``) names data the build's
decisions depend on, so
the fingerprint hashes what is *in* it, not just its name: editing such a file gives another
fingerprint, so a resume of an unfinished build is refused and a finished build is not reused
(``curate/build.py``), exactly as for changed inputs. A file is hashed by sha256 of its bytes; a
directory by the sha256 of each file under it (relative name -> hash); a missing path by
``None`` (the step reports it when it runs). Hashes are cached per process by (path, size, mtime),
so a 126 MB fastText model costs one read (~0.3 s) per build however often the fingerprint is asked.
A step lists the path parameters it *writes* in ``output_params`` (``minhash_dedup``'s
``save_index``); those are not inputs and are left out, so a finished build's own output never
changes its fingerprint.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from pathlib import Path
from typing import Any


def file_sha256(path: Any) -> str:
    """sha256 of a file's bytes (a local ``Path`` or a storage ``RemotePath``), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=256)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))


def content_digest(path: Any) -> str | dict[str, str] | None:
    """sha256 of a file, {relative name: sha256} of a directory's files, None when absent."""
    from curate.storage import is_remote

    if is_remote(path):
        if path.is_file():
            st = path.stat()
            return f"{st.st_size}:{st.st_mtime_ns}"  # object stores: size and modification time (an ETag's role)
        return None
    path = Path(path)
    if path.is_file():
        st = path.stat()
        return _cached_sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)
    if path.is_dir():
        return {str(f.relative_to(path)): content_digest(f) for f in sorted(path.rglob("*")) if f.is_file()}
    return None


def step_paths(value: Any) -> list[Any]:
    """Every path value inside a step config (dataclass fields, tuples, lists, dicts), in field order."""
    if isinstance(value, os.PathLike):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        outputs = getattr(value, "output_params", ())  # paths the step writes (save_index) are not inputs
        return [p for f in dataclasses.fields(value) if f.init and f.name not in outputs
                for p in step_paths(getattr(value, f.name))]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in step_paths(v)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in step_paths(v)]
    return []


def step_file_digests(steps: tuple[Any, ...]) -> dict[str, Any]:
    """{path: content digest} of every file the steps name (``content_digest``)."""
    return {os.fspath(p): content_digest(p) for step in steps for p in step_paths(step)}
