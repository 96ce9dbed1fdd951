"""Failure injection for tests: make a build fail at a named point, deterministically.

A test hook, not a user feature. ``CURATE_FAULT`` holds comma-separated rules ``POINT:KEY[:ACTION]``;
when a process reaches ``hit(POINT, KEY)`` with a matching rule, ACTION happens in that process:
``kill`` (default) SIGKILLs it; ``kill_once`` does so only the first time (across processes: a
marker file in ``$CURATE_FAULT_DIR`` remembers it), as a worker dying once and its retry succeeding.

Points: ``start_fragment:F`` / ``start_fragment:S.F`` before a fragment-stage task (stage S > 0)
writes anything; ``phase:NAME`` right after a resolve phase is committed (``phase:cc2``: mid
clustering); ``task:PHASE.Q`` inside connected-components round task ``Q``, before it writes.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

ENV = "CURATE_FAULT"
ACTIONS = ("kill", "kill_once")


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


def hit(point: str, key: str) -> None:
    """Act on a ``CURATE_FAULT`` rule matching ``point:key`` (nothing when none matches)."""
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
        os.kill(os.getpid(), signal.SIGKILL)
