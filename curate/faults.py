"""Failure injection for tests: make a build fail at a named point, deterministically.

A test hook, not a user feature. ``CURATE_FAULT`` holds comma-separated rules
``POINT:KEY[:ACTION]``; when the runner reaches ``hit(POINT, KEY)`` with a matching rule, ACTION
happens in the process that reached it (a pool worker or the parent):

- ``kill`` (default): ``os.kill(os.getpid(), SIGKILL)``, as the OOM killer or ``kill -9`` would;
- ``kill_once``: as ``kill``, but only the first time across processes (a marker file in
  ``$CURATE_FAULT_DIR`` remembers it): a Ray worker dying once and its retry succeeding;
- ``stop``: SIGSTOP itself (a hung worker, for parent-death and Ctrl-C tests);
- ``enospc``: raise ``OSError(ENOSPC)``, as a full disk would at that write.

Points and their keys (``F`` = fragment index, ``S`` = stage index; ``F`` alone means stage 0):

- ``start_fragment:F`` / ``start_fragment:S.F``: before a stage reads its fragment;
- ``after_fragment:F`` / ``after_fragment:S.F``: after its ``.done.json`` marker is written;
- ``mid_shard_write:F``: in the last stage, once a first shard of the fragment is complete
  (further shards and the marker are not written yet);
- ``mid_resolve:S``: after stage S's global ``resolve`` wrote its decisions, before its marker;
- ``phase:NAME``: right after a resolve phase is committed (``phase:cc2``: mid-clustering,
  ``ResolveContext.phase``);
- ``task:PHASE.Q``: inside connected-components round task ``Q`` of phase ``PHASE``, before it
  writes (``curate/dedup/resolve.py``);
- ``train_step:N``: in ``curate train``, after global step N (and its checkpoint, if one is due).

Example: ``CURATE_FAULT=after_fragment:2 curate build r.toml`` dies right after fragment 2.
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

ENV = "CURATE_FAULT"
ACTIONS = ("kill", "kill_once", "stop", "enospc")


def _rules() -> list[tuple[str, str, str]]:
    rules = []
    for item in filter(None, (s.strip() for s in os.environ.get(ENV, "").split(","))):
        parts = item.split(":")
        if len(parts) == 2:
            parts.append("kill")
        if len(parts) != 3 or parts[2] not in ACTIONS:
            raise ValueError(f"{ENV}={item!r}: expected POINT:KEY[:{'|'.join(ACTIONS)}]")
        rules.append((parts[0], parts[1], parts[2]))
    return rules


def hit(point: str, key: str, path: os.PathLike | str | None = None) -> None:
    """Act on a ``CURATE_FAULT`` rule matching ``point:key`` (nothing when none matches).
    ``path`` names the file an injected ENOSPC is reported for."""
    if ENV not in os.environ:
        return
    for p, k, action in _rules():
        if p != point or k != key:
            continue
        if action == "kill_once":
            marker = Path(os.environ.get("CURATE_FAULT_DIR", ".")) / f"fault-{point}-{key}"
            if marker.exists():
                continue
            marker.write_text("hit\n")
            action = "kill"
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "stop":
            os.kill(os.getpid(), signal.SIGSTOP)
        else:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), None if path is None else str(path))


def fragment_key(stage: int, fragment: int) -> str:
    """The key of a fragment-stage point: ``F`` for stage 0, ``S.F`` for later stages."""
    return str(fragment) if stage == 0 else f"{stage}.{fragment}"
