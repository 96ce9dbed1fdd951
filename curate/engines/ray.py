"""The Ray engine: every task is a Ray task, on a local Ray runtime or an existing cluster.

- ``RayEngine(workers)`` starts a local runtime with ``workers`` CPUs; ``RayEngine(w, "auto")`` or
  ``"HOST:PORT"`` joins a running cluster (``ray start --head`` ...) and uses all its CPUs.
- At most ``IN_FLIGHT_PER_CPU`` tasks per CPU are submitted at once (bounded driver and object-store
  memory however many fragments there are); results come back in item order.
- A task whose worker process dies (killed, OOM) is retried up to ``MAX_RETRIES`` times by Ray.
  Tasks are idempotent (atomic files, rewritten identically), so a retry never changes a byte.
- Ray reuses worker processes, so per-process caches (fastText models, tokenizers and ``lm_score``
  models are ``lru_cache``d by path) load once per worker, not once per task (``$CURATE_LOADS``
  logs each real load: tests/test_engines_ray.py proves it with more tasks than workers).
- Progress while a task runs: when ``map`` is given a ``progress`` callback, a task's
  :func:`~curate.engines.base.report` calls are sent (fire-and-forget) to a small progress actor
  (``_Progress``, 0 CPUs); the driver collects them every ``POLL_S`` while it waits, so the bar
  moves per batch, not per task. A task's result also carries its totals, which settle the count
  exactly when it finishes (late or lost reports never make the bar overshoot a finished task).
- The output directory must be reachable from every node: an ``s3://`` URI (every file of a build,
  global steps' scratch included, goes through ``curate/storage``) or a shared filesystem.

Ray is an optional extra: ``pip install -e .[ray]``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from curate.engines.base import set_sink
from curate.errors import CurateError

IN_FLIGHT_PER_CPU = 2
MAX_RETRIES = 3
OBJECT_STORE_BYTES = 512 * 2**20  # tasks pass descriptions and counts, not data: a small store suffices
POLL_S = 0.2  # how often the driver collects progress reports while tasks run
_REMOTE: Any = None


class _Progress:
    """A Ray actor: the (docs, bytes) reported by running tasks since the driver last took them."""

    def __init__(self) -> None:
        self.pending: dict[int, list[int]] = {}

    def add(self, task: int, docs: int, num_bytes: int) -> None:
        counts = self.pending.setdefault(task, [0, 0])
        counts[0] += docs
        counts[1] += num_bytes

    def take(self) -> dict[int, list[int]]:
        out, self.pending = self.pending, {}
        return out


def _call(fn: Callable, item: Any, task: int = 0, actor: Any = None) -> tuple[Any, list[int]]:
    """Run one task in a Ray worker; returns (result, [docs, bytes] it reported). Each report also
    goes to the progress ``actor`` (if any) as it happens."""
    seen = [0, 0]

    def sink(docs: int, num_bytes: int) -> None:
        seen[0] += docs
        seen[1] += num_bytes
        if actor is not None:
            actor.add.remote(task, docs, num_bytes)

    old = set_sink(sink)
    try:
        return fn(item), seen
    finally:
        set_sink(old)


def _probe(address: str) -> None:
    """Fail fast, in one line, when ``HOST:PORT`` does not answer (Ray itself retries for minutes)."""
    import socket

    if address == "auto" or address.startswith(("ray://", "http")):
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise CurateError(f"--ray-address {address}: no Ray head answers there ({exc.__class__.__name__}: "
                          f"{exc}); start one with `ray start --head` or pass auto") from None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise CurateError("--engine ray needs Ray: pip install -e .[ray] (or pip install ray)") from None
    return ray


class RayEngine:
    name = "ray"

    def __init__(self, workers: int = 1, address: str | None = None):
        global _REMOTE
        ray = _import_ray()
        self._owns = False
        if not ray.is_initialized():
            try:
                if address is None:
                    ray.init(num_cpus=max(1, int(workers)), include_dashboard=False, log_to_driver=False,
                             configure_logging=False, object_store_memory=OBJECT_STORE_BYTES)
                else:
                    _probe(address)
                    ray.init(address=address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = address or "a local Ray runtime"
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise CurateError(f"--engine ray: cannot start or join {where}: {first}; "
                                  "check --ray-address (auto or HOST:PORT) and `ray status`") from None
            self._owns = True
        if _REMOTE is None:
            _REMOTE = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(_call)
        self.address = address
        self._actor: Any = None
        self.num_workers = max(1, int(ray.cluster_resources().get("CPU", workers)))

    def map(self, fn: Callable, items: Sequence, progress: Callable[[int, int], None] | None = None,
            label: Callable[[Any], str] | None = None, isolate: bool = False) -> list:
        """Tasks never run in the driver here, so ``isolate`` changes nothing."""
        ray = _import_ray()
        results: list[Any] = [None] * len(items)
        limit = IN_FLIGHT_PER_CPU * self.num_workers
        fn_ref = ray.put(fn)
        actor = self._progress_actor() if progress else None
        if actor is not None:
            ray.get(actor.take.remote())  # reports left over from an earlier call
        shown = [[0, 0] for _ in items]  # what the bar has been told per task
        final: list[list[int] | None] = [None] * len(items)

        def show(i: int, docs: int, num_bytes: int) -> None:
            if final[i] is not None:  # never beyond a finished task's own totals
                docs, num_bytes = min(docs, final[i][0] - shown[i][0]), min(num_bytes, final[i][1] - shown[i][1])
            docs, num_bytes = max(docs, 0), max(num_bytes, 0)
            shown[i][0] += docs
            shown[i][1] += num_bytes
            if progress and (docs or num_bytes):
                progress(docs, num_bytes)

        running: dict[Any, int] = {}
        next_item = 0
        try:
            while next_item < len(items) or running:
                while next_item < len(items) and len(running) < limit:
                    running[_REMOTE.remote(fn_ref, items[next_item], next_item, actor)] = next_item
                    next_item += 1
                ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S if actor is not None else None)
                if actor is not None:
                    for i, (docs, num_bytes) in ray.get(actor.take.remote()).items():
                        show(int(i), docs, num_bytes)
                for ref in ready:
                    i = running.pop(ref)
                    results[i], totals = ray.get(ref)
                    final[i] = totals
                    show(i, totals[0] - shown[i][0], totals[1] - shown[i][1])
        except ray.exceptions.RayTaskError as exc:
            for ref in running:
                ray.cancel(ref)
            cause = getattr(exc, "cause", None)
            if isinstance(cause, CurateError):
                raise type(cause)(*cause.args) from None
            raise
        return results

    def _progress_actor(self) -> Any:
        if self._actor is None:
            ray = _import_ray()
            self._actor = ray.remote(num_cpus=0)(_Progress).remote()
        return self._actor

    def warm(self, hook: Callable[[], None]) -> None:
        """Nothing: Ray workers are fresh processes that fill their own caches on first use."""

    def close(self) -> None:
        if self._actor is not None:
            _import_ray().kill(self._actor)
            self._actor = None
        if self._owns:
            _import_ray().shutdown()
            self._owns = False

    def describe(self) -> str:
        where = f"cluster at {self.address}" if self.address else "local Ray runtime"
        return f"ray ({where}), {self.num_workers} CPU(s), <= {IN_FLIGHT_PER_CPU * self.num_workers} tasks in flight"
