"""The local engine: tasks in this process (1 worker) or in a pool of forked processes
(``curate/pool.py``: workers die with the parent, Ctrl-C is the parent's, a killed worker is named).
``isolate=True`` tasks always run in forked processes (memory-heavy one-task phases: the
``select`` of ``resolve_in_one_task``), so their peak never stays in the driver.

Forked workers inherit everything the parent has loaded (``build.warm_up`` compiles numba kernels
and loads models once, before the first fork). A pool lives for one ``map`` call; results come back
in item order, and the tasks' progress reports stream to the driver while they run.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from curate import pool
from curate.engines.base import set_sink


def _forward(docs: int, num_bytes: int) -> None:
    pool.send(docs, num_bytes)


class LocalEngine:
    name = "local"

    def __init__(self, workers: int = 1):
        self.num_workers = max(1, int(workers))

    def map(self, fn: Callable, items: Sequence, progress: Callable[[int, int], None] | None = None,
            label: Callable[[Any], str] | None = None, isolate: bool = False) -> list:
        old = set_sink(_forward)  # inherited by forked workers; in-process it reaches on_message
        try:
            return pool.run_pool(fn, items, self.num_workers, label=label or (lambda item: f"a {fn.__name__}"),
                                 on_message=progress, isolate=isolate)
        finally:
            set_sink(old)

    def warm(self, hook: Callable[[], None]) -> None:
        if self.num_workers > 1:
            hook()

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"local process pool, {self.num_workers} worker(s)"
