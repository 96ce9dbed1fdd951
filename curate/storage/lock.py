"""The output lock on object storage: an advisory lock object, since S3 has no file locks.

A build that writes to a remote ``output.dir`` first writes its lock object (the runner's lock file
name, ``DIR/.curate.lock``, which the runner never counts as output) =
``{"host", "pid", "started_unix_s", "token"}``, and deletes it when it ends (also on errors). A
build that finds a lock object:

- from the same host whose pid is no longer alive (a killed driver): takes it over and resumes;
- otherwise (a live build here, or any build on another host, whose liveness cannot be checked):
  stops with a one-line :class:`OutputError` naming the holder and the lock URI to delete if that
  build is known to be dead.

Limits, by design: the lock is advisory and not atomic. pyarrow exposes no conditional write
(``If-None-Match``), so two drivers starting within the settle interval could both pass; after
writing, the lock is read back after ``SETTLE_S`` and the build stops unless its own token is there,
which narrows that window to near-simultaneous starts. Pid reuse on the same host could make a dead
holder look alive (then delete the lock object by hand). Nothing secret is stored in it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from typing import Iterator

import orjson

from curate.errors import OutputError
from curate.storage.remote import RemotePath

SETTLE_S = 0.2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: RemotePath) -> dict | None:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError:
        return {}


def _refuse(path: RemotePath, held: dict) -> OutputError:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(held.get("started_unix_s", 0)))
    return OutputError(f"output.dir {path.parent} is being built by pid {held.get('pid')} on host {held.get('host')} "
                       f"(since {since}); wait for it, or delete {path} if that build is dead")


@contextlib.contextmanager
def remote_lock(path: RemotePath) -> Iterator[RemotePath]:
    """Hold the advisory lock object ``path`` (in a remote output dir) for the block."""
    host, pid = socket.gethostname(), os.getpid()
    held = _holder(path)
    if held is not None and held != {}:
        stale = held.get("host") == host and not _alive(int(held.get("pid", -1)))
        if not stale and not (held.get("host") == host and held.get("pid") == pid):
            raise _refuse(path, held)
    token = uuid.uuid4().hex
    path.write_bytes(orjson.dumps({"host": host, "pid": pid, "started_unix_s": int(time.time()), "token": token}))
    time.sleep(SETTLE_S)
    now = _holder(path)
    if not now or now.get("token") != token:
        raise _refuse(path, now or {})
    try:
        yield path
    finally:
        if (_holder(path) or {}).get("token") == token:
            path.unlink(missing_ok=True)
