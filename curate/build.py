"""``build(recipe)``: inputs -> steps -> Parquet shards + manifest.json + stats.json.

The plan: input files are *fragments*, processed independently as tasks of an engine
(``curate/engines/``: the local process pool by default, or Ray, behind one `map` call). The step list is
cut into *stages* at each global step (dedup): stage k runs its steps on every fragment in parallel
and, if it ends in a global step, writes prepared parts to ``work/s{k}/``; the global step's
``resolve`` then runs over all parts in input order, as engine phases committed under
``work/scratch{k}`` (resumable mid-resolve), and writes per-fragment decisions, which
stage k+1 applies first. The last stage writes ``shards/part-{fragment:05d}-{i:04d}.parquet``.

Deterministic: a fragment's output depends only on that fragment (and the global decisions, which
are made in input order), so 1 and N workers give identical shards. Resumable: every fragment-stage
writes its files atomically and then a ``.done.json`` marker with its counts; a restarted build
skips marked work and redoes the rest, so a build killed at any point and run again gives exactly
the rows of an uninterrupted one. Every fragment's identity (file, size, mtime, row groups or byte
range) is recorded in ``run.json`` and its markers: a resume, or a rerun of a complete build, whose
inputs changed is refused (``--overwrite`` rebuilds). One build at a time holds the output dir's lock
(``curate/lock.py``); the local pool's mechanics live in ``curate/pool.py``; ``CURATE_FAULT``
(``curate/faults.py``) kills a build at named points for the resume tests.

Errors at the output boundary (a read-only or full disk, a file where the dir should be, a kernel
filesystem) become one-line :class:`OutputError` s naming the path and what to do.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import time
from pathlib import Path
from typing import Any, Callable

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate import __version__, faults, schema
from curate.engines.base import Engine, record_timing, report
from curate.errors import FatalError, InputError, OutputError, StorageError
from curate.lock import LOCK_NAME, output_lock
from curate.manifest import MANIFEST_NAME, Manifest
from curate.memory import batch_bytes, split_batch
from curate.pipeline import apply_reasons, rejected_rows, run_steps
from curate.profile import PhaseClock, TaskProfile, merge_profiles, stage_name, step_key, text_bytes
from curate.plan import Fragment, Stage, input_change, plan_fragments, plan_stages, unique_files
from curate.readers import read_file
from curate.recipe import Recipe
from curate.stats import new_counts
from curate.steps.step import ARTEFACTS_KEY, ResolveContext, bind_artefacts, with_columns
from curate.storage import AnyPath, copy_file, is_remote, move_file, rmtree, write_atomic
from curate.storage.s3 import is_storage_failure, storage_error
from curate.writers import PartWriter, ShardWriter, write_parquet_atomic

RUN_FILE = "run.json"


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where everything of a run lives under the output directory (a local ``Path`` or an
    object-storage ``RemotePath``; see curate/storage)."""

    root: AnyPath

    def part(self, stage: int, frag: int) -> Path:
        return self.root / "work" / f"s{stage}" / f"{frag:05d}.parquet"

    def decisions(self, stage: int, frag: int) -> Path:
        return self.root / "work" / f"d{stage}" / f"{frag:05d}.parquet"

    def resolve_done(self, stage: int) -> Path:
        return self.root / "work" / f"d{stage}" / "resolve.done.json"

    def done(self, stage: int, frag: int) -> Path:
        return self.root / "work" / f"s{stage}" / f"{frag:05d}.done.json"

    def rejected(self, stage: int, frag: int) -> Path:
        return self.root / "rejected" / f"part-{frag:05d}-s{stage}.parquet"

    def quarantine(self, frag: int) -> Path:
        return self.root / "quarantine" / f"part-{frag:05d}.parquet"

    @property
    def shards(self) -> Path:
        return self.root / "shards"

    def scratch(self, stage: int) -> Path:
        """A global step's phase files (shuffles, spills, artefacts): under work/ of the output,
        on disk or on object storage alike, so every node of a cluster reads what others wrote."""
        return self.root / "work" / f"scratch{stage}"


def _write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


# ---------------------------------------------------------------- one fragment, one stage


@dataclasses.dataclass(frozen=True)
class Task:
    recipe: Recipe
    stages: list[Stage]
    stage: int
    fragment: Fragment
    layout: Layout
    strict: bool
    profile: bool = False


def _label(task: Task) -> str:
    return f"fragment {task.fragment.index} ({task.fragment.rel_path}) of stage {task.stage}"


def _done_marker(task: Task) -> dict[str, Any] | None:
    """The fragment-stage's done marker, if it exists and records this fragment's identity."""
    done = task.layout.done(task.stage, task.fragment.index)
    if not done.exists():
        return None
    result = orjson.loads(done.read_bytes())
    return result if result.get("fragment") == task.fragment.identity() else None


def _input_batches(task: Task, counts: dict[str, Any], quarantined: list[dict]):
    """Stage 0: read the file. Stage k>0: the previous stage's part with its global decisions."""
    frag = task.fragment
    if task.stage == 0:
        chunks = read_file(frag.source, frag.path, frag.rel_path, task.recipe.output.batch_rows,
                           row_groups=frag.row_groups, byte_range=frag.byte_range,
                           first_row=frag.first_row)
        for chunk in chunks:
            if chunk.quarantined and task.strict:
                q = chunk.quarantined[0]
                where = "whole file" if q["line"] is None else f"line {q['line']} (0-based)"
                raise InputError(f"{q['input_file']}: {where}: {q['error']} (--strict)")
            counts["read"] += chunk.batch.num_rows + len(chunk.quarantined)
            counts["quarantined"] += len(chunk.quarantined)
            counts["bad_timestamps"] += chunk.bad_timestamps
            counts["input_bytes"] += chunk.num_bytes
            quarantined.extend(chunk.quarantined)
            report(chunk.batch.num_rows + len(chunk.quarantined), chunk.num_bytes)
            yield chunk.batch, []
        return
    prev = task.stages[task.stage - 1]
    g_index, g_step = prev.global_step
    # ParquetFile, not read_table: that builds a dataset per call and imports pyarrow.dataset
    decisions = pq.ParquetFile(task.layout.decisions(prev.index, frag.index)).read()
    extra = [c for c in decisions.column_names if c not in ("reason", "duplicate_of")]
    offset = 0
    part = pq.ParquetFile(task.layout.part(prev.index, frag.index))
    batches = part.iter_batches(batch_size=65536) if part.metadata.num_rows else [
        pa.RecordBatch.from_pylist([], schema=part.schema_arrow)]
    for batch in batches:
        d = decisions.slice(offset, batch.num_rows)
        offset += batch.num_rows
        batch = with_columns(batch, {c: d.column(c).combine_chunks() for c in extra})
        reasons = d.column("reason").combine_chunks()
        dup = d.column("duplicate_of").combine_chunks() if "duplicate_of" in d.column_names else None
        rejected = []
        if reasons.null_count != len(reasons):
            rejected.append(rejected_rows(batch, reasons, g_step.name,
                                          full=task.recipe.output.rejected == "full", duplicate_of=dup))
        batch = apply_reasons(batch, reasons, counts["steps"][g_index])
        internal = [n for n in batch.schema.names if n.startswith("_")]
        if internal:
            batch = batch.drop_columns(internal)
        yield batch, rejected


def _profiled_input(task: Task, counts: dict[str, Any], quarantined: list[dict], prof: TaskProfile | None):
    """``_input_batches``, timed into ``prof`` when profiling: stage 0 as ``read``, a later stage
    as the global step that ended the previous stage (reading its part and decisions)."""
    batches = _input_batches(task, counts, quarantined)
    if prof is None:
        yield from batches
        return
    if task.stage == 0:
        key, name = "read", "read"
    else:
        g_index, g_step = task.stages[task.stage - 1].global_step
        key, name = step_key(g_index), g_step.name
    while True:
        started, read, input_bytes = prof.start(), counts["read"], counts["input_bytes"]
        try:
            batch, rejected = next(batches)
        except StopIteration:
            prof.stop(key, name, started)
            return
        prof.stop(key, name, started, docs_in=counts["read"] - read, docs_out=batch.num_rows,
                  bytes_in=counts["input_bytes"] - input_bytes, bytes_out=text_bytes(batch))
        yield batch, rejected


def _budgeted(batches, max_bytes: int):
    """The batches cut into slices of at most ``max_bytes`` of text (the memory budget,
    ``curate/memory.py``); a batch's rejected rows travel with its first slice."""
    for batch, rejected in batches:
        for i, piece in enumerate(split_batch(batch, max_bytes)):
            yield piece, rejected if i == 0 else []


def _shard_writer(task: Task) -> ShardWriter:
    out = task.recipe.output
    return ShardWriter(task.layout.shards, f"part-{task.fragment.index:05d}",
                       max_shard_rows=out.max_shard_rows, max_shard_bytes=out.max_shard_bytes,
                       row_group_rows=out.row_group_rows, compression=out.compression,
                       compression_level=out.compression_level)


def run_task(task: Task) -> dict[str, Any]:
    """Run one stage on one fragment; returns its counts (and shard infos on the last stage).
    The last stage writes shards; a stage ending in a global step writes its prepared part."""
    layout, frag, stage = task.layout, task.fragment, task.stages[task.stage]
    done = layout.done(stage.index, frag.index)
    marker = _done_marker(task)
    if marker is not None:
        return marker
    _clear_partial(task)  # an interrupted run's (or a dead worker's) leftovers
    key = faults.fragment_key(stage.index, frag.index)
    faults.hit("start_fragment", key)
    out = task.recipe.output
    counts = new_counts([s.name for s in task.recipe.steps])
    quarantined: list[dict] = []
    rejected_out = PartWriter(layout.rejected(stage.index, frag.index)) if out.rejected != "none" else None
    shards = _shard_writer(task) if stage.global_step is None else None
    part = None if shards else PartWriter(layout.part(stage.index, frag.index), compression="lz4")
    prof = TaskProfile(stage.index) if task.profile else None
    try:
        for batch, rejected in _budgeted(_profiled_input(task, counts, quarantined, prof), batch_bytes(out.memory_mb)):
            batch, more = run_steps(batch, stage.steps, counts["steps"], full_rejected=out.rejected == "full",
                                    profile=prof)
            started = prof.start() if prof else None
            docs, num_bytes = batch.num_rows, text_bytes(batch) if prof else 0
            for table in (rejected + more) if rejected_out else ():
                rejected_out.write(table)
            if shards:
                counts["kept"] += batch.num_rows
                shards.write(schema.public_columns(batch))
                if shards.shards:
                    faults.hit("mid_shard_write", str(frag.index), layout.shards)
                if prof:
                    prof.stop("write", "write", started, docs_in=docs, docs_out=docs, bytes_in=num_bytes)
            else:
                g_index, g_step = stage.global_step
                if prof:
                    prof.stop("write", "write", started)
                    started = prof.start()
                part.write(g_step.prepare(batch))
                if prof:
                    prof.stop(step_key(g_index), g_step.name, started, docs_in=docs, bytes_in=num_bytes)
            if prof:
                prof.batch_done()
        if rejected_out:
            rejected_out.close()
        if part:
            part.close()
        started = prof.start() if prof else None
        shard_infos = shards.close() if shards else []
        if prof:
            prof.stop("write", "write", started, bytes_out=sum(s.num_bytes for s in shard_infos))
    except BaseException:
        for writer in (rejected_out, shards, part):
            if writer is not None:
                writer.abort()
        raise
    result = {"counts": counts, "shards": [dataclasses.asdict(s) for s in shard_infos],
              "fragment": frag.identity()}
    if prof:
        result["profile"] = prof.as_dict()
    if shards:
        faults.hit("mid_shard_write", str(frag.index), layout.shards)
    if quarantined:
        write_parquet_atomic(pa.Table.from_pylist(quarantined, schema=schema.QUARANTINE_SCHEMA),
                             layout.quarantine(frag.index))
    _write_json_atomic(done, result)
    faults.hit("after_fragment", key)
    return result


# ---------------------------------------------------------------- the whole run


def _clear_partial(task: Task) -> None:
    """Remove what an interrupted run left for (stage, fragment) before it is redone."""
    layout, frag, stage = task.layout, task.fragment.index, task.stages[task.stage]
    doomed = [layout.rejected(stage.index, frag), layout.part(stage.index, frag)]
    if stage.index == 0:
        doomed.append(layout.quarantine(frag))
    if stage.global_step is None and layout.shards.exists():
        doomed += layout.shards.glob(f"part-{frag:05d}-*")
    for path in doomed:
        for f in (path, path.with_name(path.name + ".tmp")):
            f.unlink(missing_ok=True)


KERNEL_FS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _check_output_path(root: Path, fragments: list[Fragment]) -> None:
    """Refuse an output dir that cannot hold a build: a file, a kernel filesystem, an input's dir,
    or a non-empty directory that curate did not write (which curate never deletes)."""
    real = None if is_remote(root) else Path(os.path.realpath(root))
    for kfs in KERNEL_FS if real else ():
        if real == kfs or kfs in real.parents:
            raise OutputError(f"output.dir {root} is under {kfs}, a kernel filesystem, not storage; "
                              "choose another dir with --out")
    if root.exists() and not root.is_dir():
        raise OutputError(f"output.dir {root} is an existing file, not a directory; choose another dir with --out")
    for frag in fragments:
        if frag.path == root or root in frag.path.parents:
            raise OutputError(f"output.dir {root} contains the input {frag.path}; outputs never overwrite inputs")
    if root.is_dir() and _entries(root) and not (root / RUN_FILE).is_file() and not (root / MANIFEST_NAME).is_file():
        raise OutputError(f"output.dir {root} is not empty and is not a curate output dir (no {RUN_FILE} or "
                          f"{MANIFEST_NAME}: not written by curate); curate never deletes it, even with "
                          "--overwrite: choose another dir")


def _entries(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.name != LOCK_NAME]


def _prepare_output(recipe: Recipe, fragments: list[Fragment], overwrite: bool) -> tuple[Layout, bool]:
    """Under the lock: fresh, resumable (same fingerprint and inputs) or refused. Returns (layout, complete)."""
    root = recipe.output.dir
    fingerprint = recipe.fingerprint()
    layout = Layout(root)
    if _entries(root):
        try:
            run = orjson.loads((root / RUN_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            run = {}
        if overwrite:
            for path in _entries(root):
                rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        elif run.get("fingerprint") != fingerprint:
            raise OutputError(f"output.dir {root} is not empty and holds another build (different recipe "
                              "fingerprint); use --overwrite to replace it, or choose another dir")
        else:
            complete = (root / MANIFEST_NAME).is_file()
            change = ("its run.json records no input identities (an older curate)" if "inputs" not in run
                      else input_change(run["inputs"], fragments))
            if change:
                what = "a complete build" if complete else "an unfinished build"
                raise OutputError(f"output.dir {root} holds {what} of other inputs: {change}; use --overwrite "
                                  "to rebuild from the current inputs")
            return layout, complete
    _write_json_atomic(root / RUN_FILE, {"fingerprint": fingerprint, "recipe": str(recipe.path),
                                         "tool_version": __version__,
                                         "inputs": [f.identity() for f in fragments]})
    return layout, False


def output_error(exc: OSError, root: Path) -> OutputError | StorageError | None:
    """The one-line error for an OSError at the output boundary (ENOSPC, read-only, permissions,
    or any error naming a path under ``root``); None for errors elsewhere (inputs). A failed request
    to a remote ``root`` (endpoint gone, bucket removed) is one line naming the URI."""
    if is_remote(root) and is_storage_failure(exc):
        return storage_error(str(root), exc)
    text = str(exc)
    code = exc.errno or next((c for c in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
                              if f"[errno {c}]" in text.lower()), None)
    path = exc.filename or root
    if code in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"no space left on the device of {path}; free space (or choose another dir with "
                           "--out) and run the same command again to resume")
    target = Path(str(path))
    under = target == root or root in target.parents or f"{root}{os.sep}" in text or f"'{root}'" in text
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) and under:
        why = os.strerror(code).lower()
        return OutputError(f"cannot write {path} ({why}); make output.dir writable or choose another dir with --out")
    if under:
        return OutputError(f"output I/O failed on {path}: {exc.strerror or text}; check output.dir (or choose "
                           "another with --out) and run the same command again")
    return None


def empty_build_message(root: Path) -> str | None:
    """A loud one-line warning when a finished build kept no document; None otherwise."""
    total = orjson.loads((root / "stats.json").read_bytes())["total"]
    if total["kept"]:
        return None
    dropped = sum(sum(s["dropped"].values()) for s in total["steps"])
    return (f"the build kept 0 of {total['read']} documents read ({dropped} dropped, {total['quarantined']} "
            f"quarantined): check the steps' thresholds (curate stats {root}) and quarantine/")


def warm_up(recipe: Recipe) -> None:
    """Pay one-time costs once in the parent so forked workers inherit them: pyarrow's pandas probe
    at its first conversion (skipped by the CLI, ``curate/startup.py``) and each step's
    ``warm_up()`` (e.g. numba compilation)."""
    pa.array([0])
    for step in recipe.steps:
        hook = getattr(step, "warm_up", None)
        if hook is not None:
            hook()


def _run_stage(tasks: list[Task], engine: Engine, bar: Any) -> list[dict[str, Any]]:
    t0 = time.perf_counter()
    results = engine.map(run_task, tasks, progress=bar.update_docs if bar else None, label=_label)
    record_timing(f"stage{tasks[0].stage}", len(tasks), time.perf_counter() - t0)
    return results


def build(recipe: Recipe, *, workers: int = 1, overwrite: bool = False, strict: bool = False,
          progress: Callable[[int], Any] | None = None, confine: tuple[Path, ...] = (),
          engine: Engine | None = None, profile: bool = False) -> Manifest:
    """Run the recipe; returns the manifest. See the module docstring for the plan. ``confine``:
    roots every input and output path must resolve inside (``curate/confine.py``). ``strict``
    also fails a build that keeps no document. ``engine`` runs the tasks (default: the local
    process pool of ``workers``); it never changes a byte. ``profile`` adds the ``profile`` key
    to stats.json (``curate/profile.py``); nothing else changes."""
    if engine is None:
        from curate.engines.local import LocalEngine

        engine = LocalEngine(workers)
    clock = PhaseClock()  # the build's start: its phases and its seconds count from here
    if confine:  # before any input is opened (planning reads Parquet footers)
        from curate.confine import check_confined
        from curate.recipe import source_files

        check_confined(recipe, [path for _, path in source_files(recipe)], confine)
    fragments = plan_fragments(recipe)
    root = recipe.output.dir
    try:
        _check_output_path(root, fragments)
        root.mkdir(parents=True, exist_ok=True)
        with output_lock(root):
            layout, complete = _prepare_output(recipe, fragments, overwrite)
            if complete:
                manifest = Manifest.load(layout.root)
            else:
                manifest = _build(recipe, fragments, layout, engine, strict, progress, clock, profile)
    except OSError as exc:
        mapped = output_error(exc, root)
        if mapped is None:
            raise
        raise mapped from None
    empty = empty_build_message(manifest.root)
    if empty and strict:
        raise FatalError(f"{empty} (--strict fails a build that keeps nothing)")
    return manifest


def _build(recipe: Recipe, fragments: list[Fragment], layout: Layout, engine: Engine, strict: bool,
           progress: Callable[[int], Any] | None, clock: PhaseClock, profile: bool = False) -> Manifest:
    stages = plan_stages(recipe.steps)
    engine.warm(lambda: warm_up(recipe))
    bar = progress(sum(f.path.stat().st_size for f in unique_files(fragments))) if progress else None
    results: list[list[dict[str, Any]]] = []
    resolve_stats: dict[str, Any] = {}
    published: dict[str, Path] = {}  # artefacts of global steps, in the output dir
    resolve_seconds: dict[int, float] = {}
    clock.lap("plan and warm-up", "setup")
    for k in range(len(stages)):
        stage = stages[k]
        tasks = [Task(recipe, stages, stage.index, f, layout, strict, profile) for f in fragments]
        results.append(_run_stage(tasks, engine, bar if stage.index == 0 else None))
        r0 = clock.lap(stage_name(stages, k), "map", stage.index)
        if stage.global_step is not None:
            stats = _resolve(recipe, stage, fragments, layout, engine)
            g_name = f"{stage.global_step[0]}:{stage.global_step[1].name}"
            resolve_seconds[stage.global_step[0]] = clock.lap(f"{g_name} resolve", "resolve") - r0
            resolve_stats[g_name] = stats
            published.update({name: layout.root / name for name in stats.get(ARTEFACTS_KEY, ())})
            stages = _bind_stages(stages, published)
    if bar:
        bar.close()
    from curate.report import write_reports

    steps = [step for stage in stages for _, step in stage.steps + ([stage.global_step] if stage.global_step else [])]
    _publish_files(steps, layout.root)
    seconds = clock.lap("publish files", "finish") - clock.started
    merged = None
    if profile:
        merged = merge_profiles([r["profile"] for stage_results in results for r in stage_results if "profile" in r],
                                [s.name for s in recipe.steps], engine=engine.name, workers=engine.num_workers,
                                phases=clock.phases, resolve_seconds=resolve_seconds)
    manifest = write_reports(recipe, steps, fragments, layout, results, resolve_stats, seconds, profile=merged)
    rmtree(layout.root / "work", missing_ok=True)
    return manifest


def _resolve(recipe: Recipe, stage: Stage, fragments: list[Fragment], layout: Layout, engine: Engine) -> dict:
    """Run a global step's resolve through the engine. Its phases commit under ``work/scratch{k}``,
    which survives a killed build (a rerun resumes at the first uncommitted phase) and is removed
    once the resolve's own marker is written."""
    done = layout.resolve_done(stage.index)
    if done.exists():
        return orjson.loads(done.read_bytes())
    scratch = layout.scratch(stage.index)
    scratch.mkdir(parents=True, exist_ok=True)
    decision_paths = [layout.decisions(stage.index, f.index) for f in fragments]
    decision_paths[0].parent.mkdir(parents=True, exist_ok=True)
    ctx = ResolveContext(part_paths=[layout.part(stage.index, f.index) for f in fragments],
                         decision_paths=decision_paths, scratch_dir=scratch, seed=recipe.seed,
                         num_workers=engine.num_workers, engine=engine)
    stats = stage.global_step[1].resolve(ctx)
    for name in stats.get(ARTEFACTS_KEY, ()):
        if (scratch / name).exists():  # a resumed resolve finds it published already
            move_file(scratch / name, layout.root / name)  # publish before the done marker
    faults.hit("mid_resolve", str(stage.index), done)
    _write_json_atomic(done, stats)
    rmtree(scratch, missing_ok=True)
    return stats


def _bind_stages(stages: list[Stage], published: dict[str, Path]) -> list[Stage]:
    """The stages with every step bound to the artefacts published so far (``bind_artefacts``)."""
    def bind(item):
        return None if item is None else (item[0], bind_artefacts(item[1], published))

    return [dataclasses.replace(s, steps=[bind(x) for x in s.steps], global_step=bind(s.global_step))
            for s in stages]


def _publish_files(steps: list[Any], root: Path) -> None:
    """Copy the input files steps name in ``published_files()`` (an external tokenizer) into the
    output dir, atomically; a file already there (an artefact) is left alone."""
    for step in steps:
        hook = getattr(step, "published_files", None)
        for name, src in (hook() if hook else {}).items():
            dest = root / name
            if src.resolve() != dest.resolve():
                copy_file(src, dest)


__all__ = ["build", "empty_build_message", "output_error", "Layout", "warm_up"]
