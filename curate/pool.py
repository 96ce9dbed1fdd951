"""The process pool of a build: ``run_pool(fn, tasks, workers, ...)`` runs ``fn(task)`` for every
task in forked workers and returns the results in task order.

What it guarantees, beyond ``concurrent.futures``:

- **Workers die with the parent.** Each worker's initializer sets ``PR_SET_PDEATHSIG = SIGKILL``
  (Linux ``prctl`` through ctypes), then checks that the parent did not die before that; so a
  SIGKILLed build leaves no orphan worker behind.
- **Ctrl-C is the parent's.** Workers ignore SIGINT; the parent, on ``KeyboardInterrupt``, kills
  its workers and re-raises, so the CLI prints its one line and no worker prints a traceback.
- **A killed worker is named.** Each worker announces ``(pid, task label)`` before it starts a
  task; when the pool breaks (a worker killed by the kernel, e.g. out of memory), the parent finds
  the dead pid and raises :class:`FatalError` naming its task and "rerun to resume".

Progress: ``send(*message)`` in a worker (or in the parent, for in-process runs) reaches the
parent's ``on_message`` callback.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing as mp
import os
import signal
from typing import Any, Callable, Sequence

from curate.errors import FatalError

PR_SET_PDEATHSIG = 1
_QUEUE: Any = None  # the parent's message queue, inherited by forked workers
_LOCAL: Callable[..., None] | None = None  # the message callback of an in-process run


def send(*message: Any) -> None:
    """Send a message (e.g. progress) to the running pool's parent; nothing outside a run."""
    if _LOCAL is not None:
        _LOCAL(*message)
    elif _QUEUE is not None:
        _QUEUE.put(message)


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: SIGKILL on parent death, ignore SIGINT (the parent handles Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


def _labelled(fn: Callable[[Any], Any], task: Any, label: str) -> Any:
    _QUEUE.put(("_start", os.getpid(), label))
    return fn(task)


def _drain(queue: Any, running: dict[int, str], on_message: Callable[..., None] | None) -> None:
    while not queue.empty():
        message = queue.get()
        if message[0] == "_start":
            running[message[1]] = message[2]
        elif on_message is not None:
            on_message(*message)


def _kill_workers(pool: cf.ProcessPoolExecutor) -> None:
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _broken(pool_procs: dict[int, Any], running: dict[int, str]) -> FatalError:
    """The error for a pool whose worker died: which task it ran and how it died."""
    dead = sorted(((pid, p.exitcode) for pid, p in pool_procs.items() if p.exitcode not in (None, 0)),
                  key=lambda d: d[1] != -signal.SIGKILL)  # the kernel's victim first, not its siblings
    for pid, code in dead:
        label = running.get(pid, "a task")
        how = ("was killed by the kernel (SIGKILL; likely out of memory)" if code == -signal.SIGKILL
               else f"died with exit code {code}" if code > 0 else f"was killed by signal {-code}")
        return FatalError(f"the worker process running {label} {how}; rerun the same command to resume")
    return FatalError("a worker process died unexpectedly; rerun the same command to resume")


def run_pool(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int, *,
             label: Callable[[Any], str], on_message: Callable[..., None] | None = None,
             isolate: bool = False) -> list[Any]:
    """``[fn(t) for t in tasks]``: in this process when ``workers <= 1`` or there is one task,
    else in ``workers`` forked processes. ``isolate``: always in forked processes (at most
    ``max(workers, 1)``), never in this one, so a memory-heavy task's peak leaves with its process
    instead of staying in the parent (and in every worker forked from it later). ``label(task)``
    names a task in errors."""
    global _QUEUE, _LOCAL
    if not isolate and (workers <= 1 or len(tasks) <= 1):
        _LOCAL = on_message
        try:
            return [fn(t) for t in tasks]
        finally:
            _LOCAL = None
    ctx = mp.get_context("fork")
    _QUEUE = ctx.SimpleQueue()
    running: dict[int, str] = {}
    pool = cf.ProcessPoolExecutor(max_workers=max(1, min(workers, len(tasks))), mp_context=ctx, initializer=_die_with_parent,
                                  initargs=(os.getpid(),))
    procs: dict[int, Any] = {}
    try:
        futures = [pool.submit(_labelled, fn, t, label(t)) for t in tasks]
        pending = set(futures)
        while pending:
            procs.update(getattr(pool, "_processes", None) or {})
            _, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            _drain(_QUEUE, running, on_message)
        results = []
        for f in futures:
            try:
                results.append(f.result())
            except cf.process.BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)  # its manager reaps every worker first
                _drain(_QUEUE, running, on_message)
                raise _broken(procs, running) from None
        pool.shutdown(wait=True)
        return results
    except BaseException:
        _kill_workers(pool)
        raise
    finally:
        _QUEUE = None
