"""The local engine: tasks in this process (1 worker) or in a pool of forked processes.

Forked workers inherit everything the parent has loaded (``build.warm_up`` compiles numba kernels
and loads models once, before the first fork). A pool lives for one ``map`` call; results come back
in item order, and the tasks' progress reports stream to the driver through a queue while they run.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from typing import Callable, Sequence

from curate.engines.base import set_sink


class LocalEngine:
    name = "local"

    def __init__(self, workers: int = 1):
        self.num_workers = max(1, int(workers))

    def map(self, fn: Callable, items: Sequence, progress: Callable[[int, int], None] | None = None) -> list:
        if self.num_workers <= 1 or len(items) <= 1:
            old = set_sink(progress)
            try:
                return [fn(item) for item in items]
            finally:
                set_sink(old)
        ctx = mp.get_context("fork")
        queue = ctx.SimpleQueue()
        old = set_sink(queue if progress else None)
        try:
            with cf.ProcessPoolExecutor(max_workers=min(self.num_workers, len(items)), mp_context=ctx) as pool:
                futures = [pool.submit(fn, item) for item in items]
                pending = set(futures)
                while pending:
                    _, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                    while progress and not queue.empty():
                        progress(*queue.get())
                while progress and not queue.empty():
                    progress(*queue.get())
                return [f.result() for f in futures]
        finally:
            set_sink(old)

    def warm(self, hook: Callable[[], None]) -> None:
        if self.num_workers > 1:
            hook()

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"local process pool, {self.num_workers} worker(s)"
