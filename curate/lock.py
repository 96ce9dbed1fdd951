"""One build at a time per output dir: an exclusive lock file ``DIR/.curate.lock``.

Method: ``flock(LOCK_EX | LOCK_NB)`` on the lock file, which holds ``{"pid", "host"}`` of the
holder. The kernel drops the lock when its holder dies (``kill -9`` included, and only once the
holder's pool workers, which share the open file, are gone too), so a lock file left behind by a
dead process on this host is stale by construction and is simply taken over. A second build finds
the lock held and stops with "another build (pid N) is writing DIR". On release the file is
unlinked before it is unlocked; a process that locked the unlinked file sees that its inode is no
longer the path's and retries, so two holders never coexist.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from typing import Iterator

import orjson

from curate.errors import OutputError
from curate.storage import is_remote

LOCK_NAME = ".curate.lock"


def _holder(path: Path) -> str:
    try:
        info = orjson.loads(path.read_bytes())
        host = "" if info.get("host") == socket.gethostname() else f" on host {info.get('host')}"
        return f"pid {int(info['pid'])}{host}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"


@contextlib.contextmanager
def output_lock(root: Path) -> Iterator[Path]:
    """Hold the exclusive lock of output dir ``root`` (which must exist) for the block. On object
    storage (no file locks) it is an advisory lock object instead: ``curate/storage/lock.py``."""
    path = root / LOCK_NAME
    if is_remote(root):
        from curate.storage.lock import remote_lock

        with remote_lock(path):
            yield path
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(f"another build ({_holder(path)}) is writing {root}; wait for it to "
                              "finish, or stop it and run again") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # locked a file its holder just unlinked: take the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, orjson.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
