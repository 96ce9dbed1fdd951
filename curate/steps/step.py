"""The step protocols. A step is a frozen, kw-only dataclass whose fields are its recipe parameters.

Three kinds, each a small protocol the runner (``curate/pipeline.py``) drives:

- **Annotator**: ``annotate(batch) -> batch`` adds columns (``lang``, scores, ``tokens``...).
- **Filter**: ``reject(batch) -> pa.Array`` of strings, one per row: null keeps the row, a string
  drops it and is the recorded reason (e.g. ``"gopher_min_words"``). A step may be both: the runner
  calls ``annotate`` first, then ``reject`` on the annotated batch.
- **Expander**: ``expand(batch) -> batch`` returns the batch's rows plus new rows derived from
  them (``rephrase``, ``knowledge_augment``: synthetic documents). The runner counts the added rows
  as the step's ``generated`` (stats.json), so ``in + generated = kept + dropped``. An expander is
  usually also a Filter: ``reject`` then drops failed or unwanted rows with a reason.
- **GlobalStep**: needs to see the whole corpus (dedup). ``prepare(batch) -> batch`` runs in the
  parallel pass and adds internal ``_``-columns; ``resolve(ctx)`` runs once in the driver, as
  engine phases (:meth:`ResolveContext.phase`: map / shuffle / reduce tasks, or one task via
  :func:`resolve_in_one_task`) that read those columns from every fragment in input order and
  write, for each fragment, a decision table aligned row for row (``reason``, ``duplicate_of`` and
  columns to add to the kept rows). The driver never reads the corpus.

**Artefacts** are files a global step makes for later steps and for the build (the trained
``tokenizer.json``). ``resolve`` writes them into ``ctx.scratch_dir`` and names them in its result,
``{"artefacts": ["tokenizer.json"], ...}``; the runner moves them into the output dir and binds
them into later steps explicitly: a step with ``artefact_params = {"tokenizer": "tokenizer.json"}``
whose ``tokenizer`` field is None gets ``dataclasses.replace(step, tokenizer=<output dir>/
tokenizer.json)`` (:func:`bind_artefacts`). Nothing is looked up from ambient state. A producer
declares ``artefacts = ("tokenizer.json",)``, so a recipe whose consumer has no producer before it
fails at parse time (:func:`check_artefacts`).

Optional hooks: ``warm_up()`` pays one-time costs (numba compilation, model loading) in the parent
before the runner forks its workers; ``manifest_info() -> dict`` returns manifest fields (e.g.
``{"tokenizer": TokenizerInfo}``; pure: it reads, never writes); ``published_files() -> {name:
path}`` names input files the runner copies next to the shards (an external tokenizer).

Steps never count or time anything themselves: the runner does the accounting (stats.json).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa


@runtime_checkable
class Annotator(Protocol):
    name: ClassVar[str]

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch: ...


@runtime_checkable
class Filter(Protocol):
    name: ClassVar[str]

    def reject(self, batch: pa.RecordBatch) -> pa.Array: ...


@runtime_checkable
class Expander(Protocol):
    name: ClassVar[str]

    def expand(self, batch: pa.RecordBatch) -> pa.RecordBatch: ...


@dataclasses.dataclass(frozen=True)
class ResolveContext:
    """What a global step's ``resolve`` gets: the prepared part files of every fragment, in input
    order, the paths to write decisions to (one per part, aligned row for row), a scratch dir for
    its shuffles and for artefacts (under the output dir: a local path or a ``RemotePath`` on object
    storage, so every file a resolve writes goes through ``curate/storage``) (files named in the result's ``"artefacts"`` list, which the
    runner publishes), the run's seed and worker count, and the engine that runs its pieces.

    A resolve never reads the corpus in the calling process: it runs its work as *phases*
    (:meth:`phase`): map tasks over parts, reduce tasks over shuffle partitions, one task for a
    step that must see one column of everything. Each phase is committed with a marker holding its
    tasks' (small) results, so a build killed mid-resolve resumes at the first uncommitted phase."""

    part_paths: list[Path]
    decision_paths: list[Path]
    scratch_dir: Path
    seed: int
    num_workers: int
    engine: Any = None

    def part_rows(self) -> list[int]:
        """Rows of every part (from the Parquet footers)."""
        import pyarrow.parquet as pq

        return [pq.ParquetFile(p).metadata.num_rows for p in self.part_paths]

    def phase(self, name: str, fn: Any, items: list, isolate: bool = False) -> list:
        """``[fn(item) for item in items]`` on the engine, committed as ``<scratch>/<name>.done.json``
        (a committed phase returns its recorded results without running). Tasks write their files
        under ``<scratch>/<name>/``, which is emptied before an uncommitted phase runs. Results must
        be JSON values; they are returned as read back from JSON on every run alike. ``isolate``:
        the tasks never run in the driver's process (``Engine.map``)."""
        import time

        import orjson

        from curate import faults
        from curate.engines.base import record_timing
        from curate.storage import rmtree, write_atomic

        marker = self.scratch_dir / f"{name}.done.json"
        if marker.is_file():
            return orjson.loads(marker.read_bytes())
        rmtree(self.scratch_dir / name, missing_ok=True)
        (self.scratch_dir / name).mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if self.engine is None:
            results = [fn(item) for item in items]
        else:
            results = self.engine.map(fn, items, isolate=isolate)
        written = sum(r.get("bytes", 0) for r in results if isinstance(r, dict))
        record_timing(f"{self.scratch_dir.name}.{name}", len(items), time.perf_counter() - t0, written)
        data = orjson.dumps(results)
        write_atomic(marker, data)
        faults.hit("phase", name)
        return orjson.loads(data)

    def drop(self, name: str) -> None:
        """Delete a committed phase's files once no later phase reads them (its marker stays)."""
        from curate.storage import rmtree

        rmtree(self.scratch_dir / name, missing_ok=True)


ARTEFACTS_KEY = "artefacts"


def check_artefacts(steps: tuple[Any, ...], producers: Callable[[], dict[str, list[str]]]) -> None:
    """Raise ``ValueError`` when a step needs an artefact (an ``artefact_params`` field left None)
    that no earlier step declares in its ``artefacts``; ``producers()`` names the steps that can
    (called only then: it imports every step)."""
    for i, step in enumerate(steps):
        for field, name in (getattr(step, "artefact_params", None) or {}).items():
            made = any(name in getattr(s, "artefacts", ()) for s in steps[:i])
            if getattr(step, field) is None and not made:
                raise ValueError(f"steps[{i}] ({step.name}): no `{field}` given and no earlier step makes "
                                 f"{name}; put {' or '.join(producers().get(name, ['a step that does']))} "
                                 f"before it, or set {field} = PATH")


def bind_artefacts(step: Any, published: Mapping[str, Path]) -> Any:
    """``step`` with each of its ``artefact_params`` fields that is None set to the published file
    of that name (a field the recipe set is left alone); other steps are returned unchanged."""
    wanted = getattr(step, "artefact_params", None) or {}
    bound = {field: published[name] for field, name in wanted.items()
             if getattr(step, field) is None and name in published}
    return dataclasses.replace(step, **bound) if bound else step


def _select_task(args: tuple[Any, "ResolveContext"]) -> dict[str, Any]:
    step, ctx = args
    return step.select(ctx)


def resolve_in_one_task(step: Any, ctx: ResolveContext) -> dict[str, Any]:
    """Run ``step.select(ctx)`` (which reads the columns it needs from every part and writes every
    decision file) as a single engine task, committed as phase ``select.<step name>``: for the global steps
    whose exact answer needs one column of the whole corpus in one place (ranks, samples,
    k-means). It runs in a worker process, never in the driver (``isolate``: also with one local
    worker, so its peak memory leaves with that process instead of staying in the driver and in the
    workers forked from it later); each step's docstring states its bytes per document there."""
    return ctx.phase(f"select.{step.name}", _select_task, [(step, dataclasses.replace(ctx, engine=None))],
                     isolate=True)[0]


@runtime_checkable
class GlobalStep(Protocol):
    name: ClassVar[str]

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch: ...

    def resolve(self, ctx: ResolveContext) -> dict[str, Any]: ...


def first_reason(rules: list[tuple[str, np.ndarray]], num_rows: int) -> pa.Array:
    """Combine boolean "fails rule" arrays into one reason array: each row gets the name of the
    first rule it fails, in the given order, or null when it passes them all. Vectorised: the
    result is a dictionary array over the rule names."""
    codes = np.full(num_rows, -1, dtype=np.int32)
    for code, (_, fails) in enumerate(rules):
        codes[(codes < 0) & np.asarray(fails, dtype=bool)] = code
    indices = pa.array(codes, mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array([r for r, _ in rules], pa.string()))


def with_columns(batch: pa.RecordBatch, columns: dict[str, pa.Array]) -> pa.RecordBatch:
    """Return ``batch`` with ``columns`` appended (or replaced, when the name exists)."""
    names = list(batch.schema.names)
    arrays = list(batch.columns)
    fields = list(batch.schema)
    for name, arr in columns.items():
        arr = pa.array(arr) if not isinstance(arr, (pa.Array, pa.ChunkedArray)) else arr
        if name in names:
            i = names.index(name)
            arrays[i], fields[i] = arr, fields[i].with_type(arr.type)  # keep nullability, metadata
        else:
            names.append(name)
            arrays.append(arr)
            fields.append(pa.field(name, arr.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def interleave(batch: pa.RecordBatch, source_rows: np.ndarray,
               columns: dict[str, tuple[pa.Array | None, pa.Array]]) -> pa.RecordBatch:
    """An expander's output: every row of ``batch``, each followed by the new rows derived from it
    (new row ``j`` derives from row ``source_rows[j]``; new rows of one source keep their order).
    New rows copy their source row's columns except those in ``columns``: ``name -> (values for
    the batch's rows, values for the new rows)``, where None keeps the batch's column as it is."""
    n, m = batch.num_rows, len(source_rows)
    keys = np.concatenate([np.arange(n), np.asarray(source_rows, np.int64)])
    sub = np.concatenate([np.full(n, -1), np.arange(m)])
    order = pa.array(np.lexsort((sub, keys)))
    out = batch.take(pa.array(keys).take(order))
    replaced = {}
    for name, (old, new) in columns.items():
        old = batch.column(name) if old is None else old
        replaced[name] = pa.concat_arrays([old, new.cast(old.type)]).take(order)
    return with_columns(out, replaced)
