"""``RemotePath``: a ``pathlib.Path``-shaped handle on an object in a pyarrow filesystem (S3).

It offers the subset of the ``Path`` API the runner, readers, writers and commands use
(``/``, ``name``, ``parent``, ``exists``, ``is_file``, ``iterdir``, ``glob``, ``open``,
``read_bytes``, ``write_bytes``, ``stat().st_size``, ``unlink``, ``mkdir``), so code written for
local paths runs unchanged on object storage. ``os.fspath()`` gives the URI (``s3://bucket/key``),
which pyarrow and polars open themselves (through the same AWS environment; see ``s3.py``).

Bytes are stored and read as they are: pyarrow's ``open_*_stream`` would otherwise (de)compress
by file extension (``compression="detect"``), silently changing a ``.zst`` input.

Object stores have no directories: ``mkdir`` only checks that the bucket exists, a "directory"
exists when some object lies under its prefix, and ``unlink`` of a missing object is a no-op
with ``missing_ok``. Every failure is a one-line :class:`StorageError` naming the URI.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
from typing import Any, Iterator

import pyarrow.fs as pafs

from curate.storage.s3 import storage_error


@contextlib.contextmanager
def _errors(uri: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise storage_error(uri, exc) from None


_BUCKETS_SEEN: set[tuple[int, str]] = set()


class _Stat:
    def __init__(self, info: pafs.FileInfo):
        self.st_size = info.size or 0
        self.st_mtime_ns = info.mtime_ns or 0
        self.st_mtime = self.st_mtime_ns / 1e9


def _segment_regex(seg: str) -> str:
    """One path segment of a glob as a regex (fnmatch's rules for ``[...]``)."""
    out, i, n = [], 0, len(seg)
    while i < n:
        c = seg[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + (i < n and seg[i] == "!")
            j += j < n and seg[j] == "]"
            while j < n and seg[j] != "]":
                j += 1
            if j >= n:
                out.append(r"\[")
                continue
            body = seg[i:j].replace("\\", "\\\\")
            i = j + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith(("^", "[")):
                body = "\\" + body
            out.append(f"[{body}]")
        else:
            out.append(re.escape(c))
    hidden_ok = seg.startswith(".") or not has_magic(seg)
    return ("" if hidden_ok else r"(?!\.)") + "".join(out)


def glob_regex(pattern: str) -> re.Pattern:
    """Python's ``glob(recursive=True)`` semantics on ``/``-separated keys: ``*``, ``?`` and
    ``[...]`` stay inside one segment, a ``**`` segment spans zero or more segments, and wildcards
    do not match names that start with ``.`` unless the pattern segment does."""
    parts = []
    segments = pattern.split("/")
    for k, seg in enumerate(segments):
        last = k == len(segments) - 1
        if seg == "**":
            parts.append(r"(?:(?!\.)[^/]+/)*" + (r"(?!\.)[^/]+" if last else ""))
        else:
            parts.append(_segment_regex(seg) + ("" if last else "/"))
    return re.compile("".join(parts) + r"\Z")


def has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


class RemotePath:
    """``scheme://bucket/key`` on the pyarrow filesystem ``fs`` (paths there are ``bucket/key``)."""

    __slots__ = ("fs", "scheme", "path")

    def __init__(self, fs: pafs.FileSystem, scheme: str, path: str):
        self.fs = fs
        self.scheme = scheme
        self.path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""

    # ------------------------------------------------------------ naming
    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.path}"

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"RemotePath({self.uri!r})"

    def __fspath__(self) -> str:
        return self.uri

    def __reduce__(self):
        """Pickled as its URI: a worker process (forked, or a Ray worker on another node) reopens it
        with its own filesystem from its own AWS environment."""
        from curate.storage.location import location

        return location, (self.uri,)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, RemotePath) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __lt__(self, other: "RemotePath") -> bool:
        return self.uri < other.uri

    def _child(self, path: str) -> "RemotePath":
        return RemotePath(self.fs, self.scheme, path)

    def __truediv__(self, other: Any) -> "RemotePath":
        return self._child(posixpath.join(self.path, str(other)))

    @property
    def bucket(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.name)[1]

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.name)[0]

    @property
    def parent(self) -> "RemotePath":
        return self._child(posixpath.dirname(self.path)) if "/" in self.path else self

    @property
    def parents(self) -> list["RemotePath"]:
        out, p = [], self
        while "/" in p.path:
            p = p.parent
            out.append(p)
        return out

    def with_name(self, name: str) -> "RemotePath":
        return self.parent / name

    def with_suffix(self, suffix: str) -> "RemotePath":
        return self.parent / (self.stem + suffix)

    def resolve(self) -> "RemotePath":
        return self

    absolute = resolve

    def is_absolute(self) -> bool:
        return True

    def relative_to(self, other: "RemotePath") -> str:
        if not self.path.startswith(other.path + "/"):
            raise ValueError(f"{self.uri} is not under {other.uri}")
        return self.path[len(other.path) + 1:]

    # ------------------------------------------------------------ queries
    def _info(self) -> pafs.FileInfo:
        with _errors(self.uri):
            return self.fs.get_file_info(self.path)

    def exists(self) -> bool:
        return self._info().type != pafs.FileType.NotFound

    def is_file(self) -> bool:
        return self._info().type == pafs.FileType.File

    def is_dir(self) -> bool:
        return self._info().type == pafs.FileType.Directory

    def is_symlink(self) -> bool:
        return False

    def stat(self) -> _Stat:
        info = self._info()
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(self.uri)
        return _Stat(info)

    def _list(self, recursive: bool) -> list[pafs.FileInfo]:
        with _errors(self.uri):
            try:
                return self.fs.get_file_info(pafs.FileSelector(self.path, recursive=recursive))
            except FileNotFoundError:
                return []

    def iterdir(self) -> Iterator["RemotePath"]:
        for info in sorted(self._list(False), key=lambda i: i.path):
            yield self._child(info.path)

    def glob(self, pattern: str) -> Iterator["RemotePath"]:
        """Files and prefixes under this one whose relative key matches ``pattern``, sorted."""
        regex = glob_regex(pattern)
        deep = "/" in pattern or "**" in pattern
        prefix = self.path + "/"
        hits = [i.path for i in self._list(deep) if regex.match(i.path[len(prefix):])]
        for path in sorted(hits):
            yield self._child(path)

    def rglob(self, pattern: str) -> Iterator["RemotePath"]:
        return self.glob("**/" + pattern)

    # ------------------------------------------------------------ data
    def open(self, mode: str = "rb", encoding: str | None = "utf-8") -> Any:
        """A stream: ``rb``/``r`` read sequentially, ``wb``/``w`` upload on close (an object
        appears whole or not at all; a killed writer leaves nothing)."""
        with _errors(self.uri):
            if mode in ("rb", "r"):
                raw = self.fs.open_input_file(self.path)
            elif mode in ("wb", "w"):
                self.parent.mkdir(parents=True, exist_ok=True)
                raw = self.fs.open_output_stream(self.path, compression=None)
            else:
                raise ValueError(f"mode {mode!r} is not supported on {self.uri}; use rb, wb, r or w")
        if "b" in mode:
            return raw
        return io.TextIOWrapper(raw, encoding=encoding)

    def read_bytes(self) -> bytes:
        with _errors(self.uri), self.fs.open_input_stream(self.path, compression=None) as f:
            return f.read()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes) -> int:
        self.parent.mkdir(parents=True, exist_ok=True)
        with _errors(self.uri), self.fs.open_output_stream(self.path, compression=None) as f:
            f.write(data)
        return len(data)

    def write_text(self, text: str, encoding: str = "utf-8") -> int:
        return self.write_bytes(text.encode(encoding))

    # ------------------------------------------------------------ changes
    def mkdir(self, parents: bool = False, exist_ok: bool = False, mode: int = 0o777) -> None:
        """No directories on an object store: only check that the bucket exists (once per process)."""
        key = (id(self.fs), self.bucket)
        if key in _BUCKETS_SEEN:
            return
        with _errors(self.uri):
            info = self.fs.get_file_info(self.bucket)
        if info.type == pafs.FileType.NotFound:
            raise storage_error(self.uri, OSError("NoSuchBucket: the specified bucket does not exist"))
        _BUCKETS_SEEN.add(key)

    def unlink(self, missing_ok: bool = False) -> None:
        with _errors(self.uri):
            try:
                self.fs.delete_file(self.path)
            except FileNotFoundError:
                if not missing_ok:
                    raise

    def rmtree(self) -> None:
        """Delete every object under this prefix (and the object of this name, if any)."""
        with _errors(self.uri):
            info = self.fs.get_file_info(self.path)
            if info.type == pafs.FileType.File:
                self.fs.delete_file(self.path)
            elif info.type == pafs.FileType.Directory:
                self.fs.delete_dir(self.path)
