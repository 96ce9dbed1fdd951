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
sums per entry, the peak RSS of every worker process (the max over its tasks, with the stages it
ran) and of the driver. The driver also times the build's *phases* (:class:`PhaseClock`), one after
another from the build's start to its ``seconds`` mark, so their wall seconds sum to stats.json's
``seconds``: ``plan and warm-up`` (fragments, output checks, the lock, kernel loading or compiling),
each map stage by name (``stage 0 (map: read, 0:length, 2:minhash_dedup prepare)``), each global
step's resolve (``2:minhash_dedup resolve``) and ``publish files`` (files steps publish). A phase's CPU
seconds are the driver's plus those of the worker processes it reaped in that phase
(``getrusage``: the local engine's pools live for one ``map`` call, so every worker of a phase is
counted, all threads included); for a remote engine (Ray) they are the driver's alone.
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
PHASE_FIELDS = ("wall_s", "cpu_s", "driver_cpu_s", "workers_cpu_s")


def _status_mb(key: bytes) -> float | None:
    """A ``kB`` line of Linux's ``/proc/self/status`` in MiB, or None elsewhere."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024   # kB
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB: Linux's ``VmHWM`` (the high-water mark
    of this address space, reset by exec and taken afresh at fork), else ``ru_maxrss``. Not
    ``ru_maxrss`` on Linux: exec keeps the old image's peak there, so a build started from a big
    process (a 2 GB pytest, a notebook) would report that process's peak as its own."""
    peak = _status_mb(b"VmHWM:")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if peak is None else peak


def rss_mb() -> float | None:
    """This process's resident set size now, in MiB (Linux ``VmRSS``; None elsewhere): what a
    worker forked now starts with (its pages are shared with this process until written)."""
    return _status_mb(b"VmRSS:")


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


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _children_peak_rss_mb() -> float:
    """The largest peak RSS of any reaped child process so far (``ru_maxrss``, kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class PhaseClock:
    """The driver's record of a build's phases, back to back from its creation (the build's start):
    ``lap(name, kind)`` closes the phase running since the last lap. Per phase: wall seconds, CPU
    seconds of the driver and of the children it reaped meanwhile (see the module docstring), and
    ``raised_peak_rss_mb``: the peak RSS (MiB) of the driver or of a reaped child when it rose above
    every earlier one during the phase, else None (the phase's workers stayed below it); and
    ``driver_rss_mb``, the driver's RSS at the phase's end, which the next phase's forked workers
    start with."""

    def __init__(self):
        self.phases: list[dict[str, Any]] = []
        self._mark = self._now()
        self.started = self._mark[0]

    @staticmethod
    def _now() -> tuple[float, float, float, float, float]:
        return (time.perf_counter(), _cpu_s(resource.RUSAGE_SELF), _cpu_s(resource.RUSAGE_CHILDREN),
                peak_rss_mb(), _children_peak_rss_mb())

    def lap(self, name: str, kind: str, stage: int | None = None) -> float:
        """Close the current phase as ``name`` (kind ``setup``, ``map``, ``resolve`` or ``finish``;
        ``stage``: the map stage's index); returns its end (``time.perf_counter``)."""
        now, before = self._now(), self._mark
        raised = [after for after, was in zip(now[3:], before[3:]) if after > was]
        self.phases.append({"name": name, "kind": kind, "stage": stage, "wall_s": now[0] - before[0],
                            "driver_cpu_s": now[1] - before[1], "workers_cpu_s": now[2] - before[2],
                            "raised_peak_rss_mb": max(raised) if raised else None, "driver_rss_mb": rss_mb()})
        self._mark = now
        return now[0]


def stage_name(stages: list[Any], index: int) -> str:
    """Map stage ``index``'s phase name: what it reads (the input files, or the decisions of the
    global step before it), its steps by recipe index, and what it writes (shards, or the prepared
    part of the global step it ends in): ``stage 1 (map: 2:minhash_dedup decisions,
    3:train_tokenizer prepare)``. ``stages``: the build's ``curate.plan.Stage`` list."""
    stage = stages[index]
    before = stages[index - 1].global_step if index else None
    parts = [f"{before[0]}:{before[1].name} decisions" if before else "read"]
    parts += [f"{i}:{step.name}" for i, step in stage.steps]
    after = stage.global_step
    parts.append(f"{after[0]}:{after[1].name} prepare" if after else "write")
    return f"stage {stage.index} (map: {', '.join(parts)})"


def _phase_entries(phases: list[dict[str, Any]], stage_peaks: dict[int, float]) -> list[dict[str, Any]]:
    """The ``stages`` list: the clock's phases, rounded, with ``cpu_s`` (driver + workers) and
    ``peak_rss_mb``: for a map stage the largest peak of a process that ran one of its tasks, for
    another phase the peak it raised (None when it raised none); ``driver_rss_mb`` at its end."""
    entries = []
    for p in phases:
        peak = stage_peaks.get(p["stage"]) if p["kind"] == "map" else p["raised_peak_rss_mb"]
        entries.append({"name": p["name"], "kind": p["kind"], "wall_s": round(p["wall_s"], 4),
                        "cpu_s": round(p["driver_cpu_s"] + p["workers_cpu_s"], 4),
                        "driver_cpu_s": round(p["driver_cpu_s"], 4), "workers_cpu_s": round(p["workers_cpu_s"], 4),
                        "peak_rss_mb": None if peak is None else round(peak, 1),
                        "driver_rss_mb": None if p["driver_rss_mb"] is None else round(p["driver_rss_mb"], 1)})
    return entries


def merge_profiles(task_profiles: list[dict[str, Any]], step_names: list[str], *, engine: str,
                   workers: int, phases: list[dict[str, Any]], resolve_seconds: dict[int, float]) -> dict[str, Any]:
    """The ``profile`` key of stats.json from every task's profile (any order) and the build's
    phases (:attr:`PhaseClock.phases`)."""
    order = ["read"] + [step_key(i) for i in range(len(step_names))] + ["write"]
    names = {"read": "read", "write": "write", **{step_key(i): f"{i}:{n}" for i, n in enumerate(step_names)}}
    merged = {key: _entry(names[key]) for key in order}
    workers_rss: dict[int, float] = {}
    worker_stages: dict[int, set[int]] = {}
    stage_peaks: dict[int, float] = {}
    firsts, first_cpus = [], []
    for tp in task_profiles:
        for key, e in tp["entries"].items():
            for f in FIELDS:
                merged[key][f] += e[f]
        workers_rss[tp["pid"]] = max(workers_rss.get(tp["pid"], 0.0), tp["peak_rss_mb"])
        worker_stages.setdefault(tp["pid"], set()).add(tp["stage"])
        stage_peaks[tp["stage"]] = max(stage_peaks.get(tp["stage"], 0.0), tp["peak_rss_mb"])
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
    worker_list = [{"pid": pid, "peak_rss_mb": rss, "stages": sorted(worker_stages[pid])}
                   for pid, rss in sorted(workers_rss.items())]
    return {
        "engine": engine,
        "workers": workers,
        "first_batch_s": round(min(firsts), 3) if firsts else None,
        "first_batch_cpu_s": round(min(first_cpus), 3) if first_cpus else None,
        "stages": _phase_entries(phases, stage_peaks),
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
    stages = profile.get("stages", [])  # absent from profiles written before phases were timed
    if not isinstance(stages, list):
        return "profile.stages is not a list"
    for i, e in enumerate(stages):
        if (not isinstance(e, dict) or not isinstance(e.get("name"), str)
                or not all(_number(e.get(f)) for f in PHASE_FIELDS)
                or not all(e.get(f) is None or _number(e[f]) for f in ("peak_rss_mb", "driver_rss_mb"))):
            return (f"profile.stages[{i}] needs a name, the numbers {', '.join(PHASE_FIELDS)} and "
                    "peak_rss_mb, driver_rss_mb (numbers or null)")
    return None


def phase_lines(profile: dict[str, Any]) -> list[str]:
    """The phases table: wall and CPU seconds (driver + workers), input MB per wall second of the
    phase (map stages and resolves), the peak RSS it reached (``-``: none measured above earlier
    ones) and the driver's RSS at its end."""
    input_mb = next((e["bytes_in"] for e in profile["steps"] if e["name"] == "read"), 0) / 1e6
    lines = [f"{'wall s':>9} {'cpu s':>9} {'MB/s':>9} {'peak MB':>8} {'drv MB':>7}  phase (input {input_mb:,.1f} MB)"]
    for e in profile.get("stages", []):
        rate = f"{input_mb / e['wall_s']:.1f}" if e.get("kind") in ("map", "resolve") and e["wall_s"] > 0 else "-"
        peak, driver = ("-" if e.get(f) is None else f"{e[f]:.0f}" for f in ("peak_rss_mb", "driver_rss_mb"))
        lines.append(f"{e['wall_s']:>9.3f} {e['cpu_s']:>9.3f} {rate:>9} {peak:>8} {driver:>7}  {e['name']}")
    return lines if len(lines) > 1 else []


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
    return lines + phase_lines(profile)
