"""Where a path string points: a local ``Path``, or a :class:`RemotePath` for a URI.

``s3://bucket/key`` uses the S3 filesystem of ``s3.py`` (``s3a://`` is accepted as an alias);
``file:///abs/path`` and plain paths stay local ``pathlib.Path`` objects, so local builds behave
exactly as before. Other pyarrow schemes (``gs://``, ``hdfs://``, ``abfs://``) go through
``pyarrow.fs.FileSystem.from_uri`` with that library's own environment conventions.
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
from pathlib import Path
from typing import Union
from urllib.parse import urlsplit

from curate.storage.remote import RemotePath, has_magic
from curate.storage.s3 import s3_filesystem, storage_error

AnyPath = Union[Path, RemotePath]

_URI_PREFIX = ("s3://", "s3a://", "gs://", "gcs://", "hdfs://", "abfs://", "abfss://")


def is_uri(value: object) -> bool:
    """True for a remote URI (``s3://...``); False for local paths and ``file://`` URIs."""
    return isinstance(value, RemotePath) or (isinstance(value, str) and value.lower().startswith(_URI_PREFIX))


def is_remote(path: object) -> bool:
    return isinstance(path, RemotePath)


def location(value: "str | os.PathLike[str]") -> AnyPath:
    """The path object for ``value``: RemotePath for a remote URI, else ``Path`` (unchanged)."""
    if isinstance(value, RemotePath):
        return value
    text = os.fspath(value)
    if text.startswith("file://"):
        return Path(urlsplit(text).path)
    if not is_uri(text):
        return Path(text)
    scheme, rest = text.split("://", 1)
    scheme = scheme.lower()
    if scheme in ("s3", "s3a"):
        return RemotePath(s3_filesystem(), "s3", rest)
    import pyarrow.fs as pafs

    try:
        fs, path = pafs.FileSystem.from_uri(text)
    except (OSError, ValueError) as exc:
        raise storage_error(text, exc) from None
    return RemotePath(fs, scheme, path)


def glob_files(pattern: str, base: Path) -> list[AnyPath]:
    """Files matching ``pattern`` (a local glob relative to ``base``, or a URI glob), sorted."""
    if not is_uri(pattern):
        matches = sorted(_glob.glob(str(base / pattern), recursive=True))
        return [Path(m).resolve() for m in matches if Path(m).is_file()]
    root = location(pattern)
    parts = root.path.split("/")
    fixed = next((i for i, p in enumerate(parts) if has_magic(p)), len(parts))
    if fixed == len(parts):  # no wildcard: the object itself
        return [root] if root.is_file() else []
    if fixed == 0:
        raise storage_error(pattern, OSError("the bucket name cannot contain wildcards"))
    prefix = root._child("/".join(parts[:fixed]))
    prefix.mkdir(exist_ok=True)  # a missing bucket is an error, not "no match"
    return [p for p in prefix.glob("/".join(parts[fixed:])) if p.is_file()]


def rmtree(path: AnyPath, missing_ok: bool = False) -> None:
    """Delete a directory tree (local) or every object under a prefix (remote)."""
    if isinstance(path, RemotePath):
        path.rmtree()
    else:
        shutil.rmtree(path, ignore_errors=missing_ok)


def open_output_file(path: AnyPath):
    """A pyarrow output stream for ``path`` (an ``ipc.new_file`` / ``ParquetWriter`` sink): a local
    file, or an upload that becomes visible on close. Bytes are written as given (no compression
    guessed from the extension). Commit it with ``staging_path`` / ``publish``."""
    import pyarrow as pa

    if isinstance(path, RemotePath):
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("wb")
    return pa.OSFile(str(path), "wb")


def open_input_file(path: AnyPath):
    """A random-access pyarrow file for ``path`` (an ``ipc.open_file`` / ``ParquetFile`` source)."""
    import pyarrow as pa

    if isinstance(path, RemotePath):
        return path.open("rb")
    return pa.OSFile(str(path), "rb")
