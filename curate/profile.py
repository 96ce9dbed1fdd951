"""``curate build --profile``: where a build's time and memory go, measured by the runner.

Each task (one fragment, one stage) keeps a :class:`TaskProfile`: per entry (``read``, every step
by recipe index, ``write``) the CPU seconds (``time.process_time``: all threads of the process),
wall seconds, documents and bytes in and out, and ``maxrss_added_mb``, how much the process's peak
RSS (:func:`peak_rss_mb`) grew while that entry ran, so the entries that set a worker's peak stand out.
Bytes are UTF-8 text bytes of the rows entering and leaving a step; ``read``'s ``bytes_in`` is the
input bytes the reader consumed (stats.json's ``input_bytes``) and ``write``'s ``bytes_out`` the
shard files' bytes. A global step's entry sums its ``prepare`` (stage k) and the reading of its
decisions in stage k+1 (where its documents leave), plus ``resolve_s``, the driver's wall time of
its resolve. The task also reports its process id, its peak RSS when it ended and, for the first
stage, ``first_batch_s``: seconds from its process's start to the end of its first batch, and ``first_batch_cpu_s``, the CPU seconds its
process had used by then (start-up is single-threaded: on a loaded machine this is the wall time a
quiet one would show).

The driver merges the tasks' profiles (:func:`merge_profiles`) into stats.json's ``profile`` key:
sums per entry, the peak RSS of every worker process (the max over its tasks) and of the driver.
Only with ``--profile``: without it no key is written and outputs are byte-identical.
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

FIELDS = ("cpu_s", "wall_s", "docs_in", "docs_out", "bytes_in", "bytes_out", "maxrss_added_mb")


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB: Linux's ``VmHWM`` (the high-water mark
    of this address space, reset by exec and taken afresh at fork), else ``ru_maxrss``. Not
    ``ru_maxrss`` on Linux: exec keeps the old image's peak there, so a build started from a big
    process (a 2 GB pytest, a notebook) would report that process's peak as its own."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024   # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_age_s() -> float | None:
    """Seconds since this process started (Linux ``/proc``, 10 ms resolution), or None elsewhere."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5); the first two are before the ')'
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def text_bytes(batch: pa.RecordBatch, column: str = "text") -> int:
    """UTF-8 bytes of a batch's text column (0 when it has none)."""
    if column not in batch.schema.names or batch.num_rows == 0:
        return 0
    return int(pc.sum(pc.binary_length(batch.column(column))).as_py() or 0)


def _entry(name: str) -> dict[str, Any]:
    return {"name": name, **{f: 0 for f in FIELDS}}


class TaskProfile:
    """One task's measurements; ``as_dict()`` travels in the task result."""

    def __init__(self, stage: int):
        self.stage = stage
        self.entries: dict[str, dict[str, Any]] = {}
        self.first_batch_s: float | None = None
        self.first_batch_cpu_s: float | None = None

    def entry(self, key: str, name: str) -> dict[str, Any]:
        if key not in self.entries:
            self.entries[key] = _entry(name)
        return self.entries[key]

    def start(self) -> tuple[float, float, float]:
        return time.process_time(), time.perf_counter(), peak_rss_mb()

    def stop(self, key: str, name: str, started: tuple[float, float, float], *, docs_in: int = 0,
             docs_out: int = 0, bytes_in: int = 0, bytes_out: int = 0) -> None:
        cpu, wall, rss = started
        e = self.entry(key, name)
        e["cpu_s"] += time.process_time() - cpu
        e["wall_s"] += time.perf_counter() - wall
        e["maxrss_added_mb"] += peak_rss_mb() - rss
        e["docs_in"] += docs_in
        e["docs_out"] += docs_out
        e["bytes_in"] += bytes_in
        e["bytes_out"] += bytes_out

    def batch_done(self) -> None:
        if self.first_batch_s is None and self.stage == 0:
            self.first_batch_s = process_age_s()
            self.first_batch_cpu_s = time.process_time()

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "pid": os.getpid(), "peak_rss_mb": round(peak_rss_mb(), 1),
                "first_batch_s": self.first_batch_s, "first_batch_cpu_s": self.first_batch_cpu_s,
                "entries": self.entries}


def step_key(index: int) -> str:
    return f"step{index}"


def merge_profiles(task_profiles: list[dict[str, Any]], step_names: list[str], *, engine: str,
                   workers: int, stage_seconds: list[float], resolve_seconds: dict[int, float]) -> dict[str, Any]:
    """The ``profile`` key of stats.json from every task's profile (any order)."""
    order = ["read"] + [step_key(i) for i in range(len(step_names))] + ["write"]
    names = {"read": "read", "write": "write", **{step_key(i): f"{i}:{n}" for i, n in enumerate(step_names)}}
    merged = {key: _entry(names[key]) for key in order}
    workers_rss: dict[int, float] = {}
    firsts, first_cpus = [], []
    for tp in task_profiles:
        for key, e in tp["entries"].items():
            for f in FIELDS:
                merged[key][f] += e[f]
        workers_rss[tp["pid"]] = max(workers_rss.get(tp["pid"], 0.0), tp["peak_rss_mb"])
        if tp.get("first_batch_s") is not None:
            firsts.append(tp["first_batch_s"])
        if tp.get("first_batch_cpu_s") is not None:
            first_cpus.append(tp["first_batch_cpu_s"])
    for i, seconds in resolve_seconds.items():
        merged[step_key(i)]["resolve_s"] = round(seconds, 4)
    entries = []
    for key in order:
        e = merged[key]
        for f in ("cpu_s", "wall_s"):
            e[f] = round(e[f], 4)
        e["maxrss_added_mb"] = round(e["maxrss_added_mb"], 1)
        e["mb_per_cpu_s"] = round(e["bytes_in"] / 1e6 / e["cpu_s"], 2) if e["cpu_s"] > 0 else None
        entries.append(e)
    worker_list = [{"pid": pid, "peak_rss_mb": rss} for pid, rss in sorted(workers_rss.items())]
    return {
        "engine": engine,
        "workers": workers,
        "first_batch_s": round(min(firsts), 3) if firsts else None,
        "first_batch_cpu_s": round(min(first_cpus), 3) if first_cpus else None,
        "stage_seconds": [round(s, 3) for s in stage_seconds],
        "driver_peak_rss_mb": round(peak_rss_mb(), 1),
        "worker_peak_rss_mb": max((w["peak_rss_mb"] for w in worker_list), default=0.0),
        "worker_processes": worker_list,
        "steps": entries,
    }


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def profile_problem(profile: Any) -> str | None:
    """What keeps :func:`profile_lines` from printing ``profile`` (stats.json's key), or None."""
    if not isinstance(profile, dict) or not isinstance(profile.get("steps"), list):
        return "profile is not an object with a list of steps"
    for key in ("worker_peak_rss_mb", "driver_peak_rss_mb", "workers"):
        if not _number(profile.get(key)):
            return f"profile.{key} is missing or not a number"
    if not isinstance(profile.get("worker_processes"), list):
        return "profile.worker_processes is not a list"
    for i, e in enumerate(profile["steps"]):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not all(_number(e.get(f)) for f in FIELDS):
            return f"profile.steps[{i}] needs a name and the numbers {', '.join(FIELDS)}"
    return None


def profile_lines(profile: dict[str, Any]) -> list[str]:
    """The profile table ``curate stats`` prints."""
    head = (f"{'profile':32} {'cpu s':>9} {'wall s':>9} {'docs in':>10} {'docs out':>10} "
            f"{'MB in':>9} {'MB out':>9} {'MB/cpu-s':>9} {'+RSS MB':>8}")
    lines = [head]
    for e in profile["steps"]:
        rate = "-" if e["mb_per_cpu_s"] is None else f"{e['mb_per_cpu_s']:.1f}"
        lines.append(f"{e['name'][:32]:32} {e['cpu_s']:>9.3f} {e['wall_s']:>9.3f} {e['docs_in']:>10,} "
                     f"{e['docs_out']:>10,} {e['bytes_in'] / 1e6:>9.2f} {e['bytes_out'] / 1e6:>9.2f} "
                     f"{rate:>9} {e['maxrss_added_mb']:>8.1f}")
        if "resolve_s" in e:
            lines.append(f"  resolve (driver wall): {e['resolve_s']:.3f} s")
    first = profile.get("first_batch_s")
    lines.append(f"peak RSS: worker {profile['worker_peak_rss_mb']:.0f} MB "
                 f"({len(profile['worker_processes'])} process(es)), driver {profile['driver_peak_rss_mb']:.0f} MB; "
                 f"engine {profile['engine']}, {profile['workers']} worker(s)"
                 + (f"; first batch done {first:.2f} s after its process started "
                    f"({profile.get('first_batch_cpu_s') or 0:.2f} CPU s)" if first is not None else ""))
    return lines
