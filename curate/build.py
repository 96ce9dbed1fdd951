"""``build(recipe)``: inputs -> steps -> Parquet shards + manifest.json + stats.json.

The plan: input files are *fragments*, processed independently by a process pool. The step list is
cut into *stages* at each global step (dedup): stage k runs its steps on every fragment in parallel
and, if it ends in a global step, writes prepared parts to ``work/s{k}/``; the global step's
``resolve`` then runs once over all parts in input order and writes per-fragment decisions, which
stage k+1 applies first. The last stage writes ``shards/part-{fragment:05d}-{i:04d}.parquet``.

Deterministic: a fragment's output depends only on that fragment (and the global decisions, which
are made in input order), so 1 and N workers give identical shards. Resumable: every fragment-stage
writes its files atomically and then a ``.done.json`` marker with its counts; a restarted build
skips marked work and redoes the rest, so a build killed at any point and run again gives exactly
the rows of an uninterrupted one.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing as mp
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate import __version__, schema
from curate.errors import InputError, OutputError
from curate.manifest import MANIFEST_NAME, Manifest
from curate.pipeline import apply_reasons, rejected_rows, run_steps
from curate.plan import Fragment, Stage, plan_fragments, plan_stages, unique_files
from curate.readers import read_file
from curate.recipe import Recipe
from curate.stats import new_counts
from curate.steps.step import ARTEFACTS_KEY, ResolveContext, bind_artefacts, with_columns
from curate.storage import AnyPath, copy_file, move_file, rmtree, scratch_dir, write_atomic
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
        """A global step's spill dir: under work/ on disk; for a remote root a local temp dir
        (spills append to files, which object stores cannot; it is rebuilt on every resolve)."""
        return scratch_dir(self.root, f"scratch{stage}")


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


_PROGRESS: Any = None  # a queue inherited by forked workers, or a callable in-process


def _report(docs: int, num_bytes: int) -> None:
    if _PROGRESS is None:
        return
    if callable(_PROGRESS):
        _PROGRESS(docs, num_bytes)
    else:
        _PROGRESS.put((docs, num_bytes))


def _input_batches(task: Task, counts: dict[str, Any], quarantined: list[dict]):
    """Stage 0: read the file. Stage k>0: the previous stage's part with its global decisions."""
    frag = task.fragment
    if task.stage == 0:
        chunks = read_file(frag.source, frag.path, frag.rel_path, task.recipe.output.batch_rows,
                           row_groups=frag.row_groups, first_row=frag.first_row)
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
            _report(chunk.batch.num_rows + len(chunk.quarantined), chunk.num_bytes)
            yield chunk.batch, []
        return
    prev = task.stages[task.stage - 1]
    g_index, g_step = prev.global_step
    decisions = pq.read_table(task.layout.decisions(prev.index, frag.index))
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
    if done.exists():
        return orjson.loads(done.read_bytes())
    out = task.recipe.output
    counts = new_counts([s.name for s in task.recipe.steps])
    quarantined: list[dict] = []
    rejected_out = PartWriter(layout.rejected(stage.index, frag.index)) if out.rejected != "none" else None
    shards = _shard_writer(task) if stage.global_step is None else None
    part = None if shards else PartWriter(layout.part(stage.index, frag.index), compression="lz4")
    for batch, rejected in _input_batches(task, counts, quarantined):
        batch, more = run_steps(batch, stage.steps, counts["steps"], full_rejected=out.rejected == "full")
        for table in (rejected + more) if rejected_out else ():
            rejected_out.write(table)
        if shards:
            counts["kept"] += batch.num_rows
            shards.write(schema.public_columns(batch))
        else:
            part.write(stage.global_step[1].prepare(batch))
    if rejected_out:
        rejected_out.close()
    if part:
        part.close()
    result = {"counts": counts, "shards": [dataclasses.asdict(s) for s in shards.close()] if shards else []}
    if quarantined:
        write_parquet_atomic(pa.Table.from_pylist(quarantined, schema=schema.QUARANTINE_SCHEMA),
                             layout.quarantine(frag.index))
    _write_json_atomic(done, result)
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


def _prepare_output(recipe: Recipe, fragments: list[Fragment], overwrite: bool) -> tuple[Layout, bool]:
    """Check the output dir: fresh, resumable (same fingerprint) or refused. Returns (layout, complete)."""
    root = recipe.output.dir
    for frag in fragments:
        if frag.path == root or root in frag.path.parents:
            raise OutputError(f"output.dir {root} contains the input {frag.path}; outputs never overwrite inputs")
    fingerprint = recipe.fingerprint()
    layout = Layout(root)
    if root.exists() and any(root.iterdir()):
        run_file = root / RUN_FILE
        same = run_file.is_file() and orjson.loads(run_file.read_bytes()).get("fingerprint") == fingerprint
        if overwrite:
            if not run_file.is_file() and not (root / MANIFEST_NAME).is_file():
                raise OutputError(f"output.dir {root} is not empty and was not written by curate; "
                                  "refusing to delete it even with --overwrite; choose another dir")
            rmtree(root)
        elif not same:
            raise OutputError(f"output.dir {root} is not empty and holds another build (different recipe "
                              "fingerprint); use --overwrite to replace it, or choose another dir")
        else:
            return layout, (root / MANIFEST_NAME).is_file()
    root.mkdir(parents=True, exist_ok=True)
    _write_json_atomic(root / RUN_FILE, {"fingerprint": fingerprint, "recipe": str(recipe.path),
                                         "tool_version": __version__})
    return layout, False


def warm_up(recipe: Recipe) -> None:
    """Pay one-time costs once in the parent so forked workers inherit them: pyarrow's lazy pandas
    import (timestamp handling) and each step's ``warm_up()`` (e.g. numba compilation)."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    for step in recipe.steps:
        hook = getattr(step, "warm_up", None)
        if hook is not None:
            hook()


def _run_stage(tasks: list[Task], workers: int, bar: Any) -> list[dict[str, Any]]:
    global _PROGRESS
    for t in tasks:
        if not t.layout.done(t.stage, t.fragment.index).exists():
            _clear_partial(t)
    if workers <= 1 or len(tasks) <= 1:
        _PROGRESS = (lambda d, b: bar.update_docs(d, b)) if bar else None
        try:
            return [run_task(t) for t in tasks]
        finally:
            _PROGRESS = None
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    _PROGRESS = queue
    try:
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(run_task, t) for t in tasks]
            pending = set(futures)
            while pending:
                _, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                while not queue.empty():
                    d, b = queue.get()
                    if bar:
                        bar.update_docs(d, b)
            return [f.result() for f in futures]
    finally:
        _PROGRESS = None


def build(recipe: Recipe, *, workers: int = 1, overwrite: bool = False, strict: bool = False,
          progress: Callable[[int], Any] | None = None) -> Manifest:
    """Run the recipe; returns the manifest. See the module docstring for the plan."""
    t0 = time.perf_counter()
    fragments = plan_fragments(recipe)
    layout, complete = _prepare_output(recipe, fragments, overwrite)
    if complete:
        return Manifest.load(layout.root)
    return _build(recipe, fragments, layout, workers, strict, progress, t0)


def _build(recipe: Recipe, fragments: list[Fragment], layout: Layout, workers: int, strict: bool,
           progress: Callable[[int], Any] | None, t0: float) -> Manifest:
    stages = plan_stages(recipe.steps)
    if workers > 1:
        warm_up(recipe)
    bar = progress(sum(f.path.stat().st_size for f in unique_files(fragments))) if progress else None
    results: list[list[dict[str, Any]]] = []
    resolve_stats: dict[str, Any] = {}
    published: dict[str, Path] = {}  # artefacts of global steps, in the output dir
    for k in range(len(stages)):
        stage = stages[k]
        tasks = [Task(recipe, stages, stage.index, f, layout, strict) for f in fragments]
        results.append(_run_stage(tasks, workers, bar if stage.index == 0 else None))
        if stage.global_step is not None:
            stats = _resolve(recipe, stage, fragments, layout, workers)
            resolve_stats[f"{stage.global_step[0]}:{stage.global_step[1].name}"] = stats
            published.update({name: layout.root / name for name in stats.get(ARTEFACTS_KEY, ())})
            stages = _bind_stages(stages, published)
    if bar:
        bar.close()
    from curate.report import write_reports

    steps = [step for stage in stages for _, step in stage.steps + ([stage.global_step] if stage.global_step else [])]
    _publish_files(steps, layout.root)
    manifest = write_reports(recipe, steps, fragments, layout, results, resolve_stats, time.perf_counter() - t0)
    rmtree(layout.root / "work", missing_ok=True)
    return manifest


def _resolve(recipe: Recipe, stage: Stage, fragments: list[Fragment], layout: Layout, workers: int) -> dict:
    done = layout.resolve_done(stage.index)
    if done.exists():
        return orjson.loads(done.read_bytes())
    scratch = layout.scratch(stage.index)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    decision_paths = [layout.decisions(stage.index, f.index) for f in fragments]
    decision_paths[0].parent.mkdir(parents=True, exist_ok=True)
    ctx = ResolveContext(part_paths=[layout.part(stage.index, f.index) for f in fragments],
                         decision_paths=decision_paths, scratch_dir=scratch, seed=recipe.seed,
                         num_workers=workers)
    stats = stage.global_step[1].resolve(ctx)
    for name in stats.get(ARTEFACTS_KEY, ()):
        move_file(scratch / name, layout.root / name)  # publish before the done marker
    shutil.rmtree(scratch, ignore_errors=True)
    _write_json_atomic(done, stats)
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


__all__ = ["build", "Layout", "warm_up"]
