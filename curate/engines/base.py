"""The engine seam: what a build asks of whatever runs its work.

An engine does one thing: ``map(fn, items)`` runs ``fn(item)`` for every item, anywhere it likes
(this process, forked workers, Ray workers on other machines), and returns the results in item
order. The build plan (``curate/build.py``) and every global step's resolve are written against
this one call, so a fragment-stage, a shuffle's map side, its reduce side and a connected-components
round are all just ``map`` calls over small, picklable task descriptions whose work reads and writes
files. Nothing but those descriptions and the tasks' small JSON-able results crosses the seam, so
the driver's memory does not grow with the corpus.

Rules a task must follow (every task in curate does): it is a module-level function of one
picklable argument; it writes its files atomically and may be run twice (a retried or resumed task
rewrites identical bytes); its result is small.

Progress: a task calls :func:`report` as it reads input. The local engine forwards reports to the
driver while the task runs; the Ray engine sends them to a progress actor the driver polls.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Where :func:`report` sends ``(docs, bytes)`` in this process: None, a callable or a queue.
_SINK: Any = None


def report(docs: int, num_bytes: int) -> None:
    """A task read ``docs`` documents and ``num_bytes`` input bytes (for the progress bar)."""
    sink = _SINK
    if sink is None:
        return
    if callable(sink):
        sink(docs, num_bytes)
    else:
        sink.put((docs, num_bytes))


def record_timing(name: str, tasks: int, seconds: float, num_bytes: int = 0) -> None:
    """Append ``{name, tasks, seconds, bytes}`` (bytes: shuffle files written) to the JSON-lines file ``$CURATE_TIMINGS`` when it is set
    (benchmarks read per-stage and per-phase wall times from it; outputs never contain timings)."""
    import os

    path = os.environ.get("CURATE_TIMINGS")
    if path:
        import orjson

        with open(path, "ab") as f:
            f.write(orjson.dumps({"name": name, "tasks": tasks, "seconds": round(seconds, 3),
                                 "bytes": num_bytes}) + b"\n")


def record_load(what: str) -> None:
    """Append ``"{pid} {what}"`` to the file ``$CURATE_LOADS`` when it is set: a loader of an
    expensive model (fastText, tokenizer, LM) calls it when it really loads (a cache miss), so tests
    can prove a model loads once per worker process, not once per task."""
    import os

    path = os.environ.get("CURATE_LOADS")
    if path:
        with open(path, "a") as f:
            f.write(f"{os.getpid()} {what}\n")


def set_sink(sink: Any) -> Any:
    """Route this process's reports to ``sink``; returns the previous sink."""
    global _SINK
    old, _SINK = _SINK, sink
    return old


class Engine(Protocol):
    """Runs independent tasks. ``name`` is "local" or "ray"; ``num_workers`` is the parallelism
    it offers (CPU slots); both are shown by ``curate explain`` and never change an output byte."""

    name: str
    num_workers: int

    def map(self, fn: Callable[[T], R], items: Sequence[T],
            progress: Callable[[int, int], None] | None = None,
            label: Callable[[T], str] | None = None, isolate: bool = False) -> list[R]:
        """``[fn(item) for item in items]``, run in parallel; ``progress(docs, bytes)`` receives
        the tasks' :func:`report` calls; ``label(item)`` names a task in errors. ``isolate``: never
        in the driver's process, even for one task or one worker (memory-heavy tasks)."""
        ...

    def warm(self, hook: Callable[[], None]) -> None:
        """Run one-time setup ``hook`` where workers will inherit it (forked pools) or not at all."""
        ...

    def describe(self) -> str:
        """One line for ``curate explain`` and logs."""
        ...

    def close(self) -> None:
        """Release workers (idempotent)."""
        ...


def make_engine(name: str, workers: int, address: str | None = None) -> Engine:
    """The engine the command line asked for: ``local`` (a process pool of ``workers``) or ``ray``
    (a local Ray runtime of ``workers`` CPUs, or the cluster at ``address``)."""
    from curate.errors import RecipeError

    if name == "local":
        if address is not None:
            raise RecipeError("--ray-address needs --engine ray")
        from curate.engines.local import LocalEngine

        return LocalEngine(workers)
    if name == "ray":
        from curate.engines.ray import RayEngine

        return RayEngine(workers, address)
    raise RecipeError(f"--engine={name!r} is not an engine; allowed: local, ray")
