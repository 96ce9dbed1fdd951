"""Applying steps to one batch, with the accounting done here and only here.

``run_steps`` drives annotators and filters in recipe order: it calls ``annotate`` then ``reject``,
keeps the rows whose reason is null, counts in/kept/dropped-by-reason per step and returns the
dropped rows (id, source, step, reason, lineage) for ``rejected/``.

Step counters: an annotator may add int columns named ``_count:<name>`` (one value per row, e.g.
the ``pii`` step's replacements of each kind); right after ``annotate`` the runner sums each over
the batch into the step's ``counts`` in stats.json and removes the column. Vectorised, summed
across batches, fragments and workers like every other count, so a step never counts itself.

Expanders (``rephrase``, ``knowledge_augment``) return more rows than they got: the runner counts
the difference as the step's ``generated``, so per step ``in + generated = kept + dropped``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from curate import schema
from curate.steps.step import Annotator, Expander, Filter, GlobalStep


def is_global(step: Any) -> bool:
    return isinstance(step, GlobalStep)


#: The document columns a full rejected row adds (``[output] rejected = "full"``).
FULL_COLUMNS = (schema.TEXT, schema.URL, schema.TIMESTAMP, schema.META)


def rejected_rows(batch: pa.RecordBatch, reasons: pa.Array, step_name: str, *, full: bool,
                  duplicate_of: pa.Array | None = None) -> pa.Table:
    """The rows of ``batch`` with a non-null reason, in the rejected/ schema (plus the document
    columns ``text, url, timestamp, meta`` when ``full``: the same columns for every step, so one
    fragment's rejected file has one schema whichever steps annotated the rows before dropping them)."""
    dropped = pc.is_valid(reasons)
    rows = batch.filter(dropped)
    n = rows.num_rows
    dup = duplicate_of.filter(dropped) if duplicate_of is not None else pa.nulls(n, pa.string())
    cols = {
        schema.ID: rows.column(schema.ID),
        schema.SOURCE: rows.column(schema.SOURCE),
        "step": pa.array([step_name] * n, pa.string()),
        "reason": pc.cast(reasons.filter(dropped), pa.string()),
        "duplicate_of": pc.cast(dup, pa.string()),
        schema.INPUT_FILE: rows.column(schema.INPUT_FILE),
        schema.INPUT_ROW: rows.column(schema.INPUT_ROW),
    }
    table = pa.table(cols, schema=schema.REJECTED_SCHEMA)
    if full:
        for name in FULL_COLUMNS:
            table = table.append_column(schema.DOC_SCHEMA.field(name), rows.column(name).cast(
                schema.DOC_SCHEMA.field(name).type))
    return table


def count_reasons(reasons: pa.Array) -> dict[str, int]:
    valid = reasons.drop_null()
    if len(valid) == 0:
        return {}
    if pa.types.is_dictionary(valid.type):
        valid = valid.dictionary_decode()
    vc = pc.value_counts(valid)
    return {str(v["values"]): int(v["counts"]) for v in vc.to_pylist()}


def apply_reasons(batch: pa.RecordBatch, reasons: pa.Array, counts: dict[str, Any]) -> pa.RecordBatch:
    """Count and drop the rows with a non-null reason."""
    dropped = count_reasons(reasons)
    counts["in"] += batch.num_rows
    for r, n in dropped.items():
        counts["dropped"][r] = counts["dropped"].get(r, 0) + n
    kept = batch.filter(pc.is_null(reasons)) if dropped else batch
    counts["kept"] += kept.num_rows
    return kept


COUNT_PREFIX = "_count:"


def take_counts(batch: pa.RecordBatch, counts: dict[str, Any]) -> pa.RecordBatch:
    """Sum the ``_count:<name>`` columns of ``batch`` into ``counts["counts"]``; drop them."""
    names = [n for n in batch.schema.names if n.startswith(COUNT_PREFIX)]
    if not names:
        return batch
    into = counts.setdefault("counts", {})
    for n in names:
        key = n[len(COUNT_PREFIX):]
        into[key] = into.get(key, 0) + int(pc.sum(batch.column(n)).as_py() or 0)
    return batch.drop_columns(names)


def run_steps(batch: pa.RecordBatch, steps: list[tuple[int, Any]], step_counts: list[dict[str, Any]],
              *, full_rejected: bool, profile: Any = None) -> tuple[pa.RecordBatch, list[pa.Table]]:
    """Run the (index, step) pairs over ``batch``; returns kept rows and rejected tables.
    ``profile`` (a ``curate.profile.TaskProfile``, with ``--profile``) times every step."""
    rejected: list[pa.Table] = []
    for index, step in steps:
        if profile is None:
            batch = _run_step(batch, index, step, step_counts, full_rejected, rejected)
            continue
        from curate.profile import step_key, text_bytes

        docs_in, bytes_in, started = batch.num_rows, text_bytes(batch), profile.start()
        batch = _run_step(batch, index, step, step_counts, full_rejected, rejected)
        profile.stop(step_key(index), step.name, started, docs_in=docs_in, docs_out=batch.num_rows,
                     bytes_in=bytes_in, bytes_out=text_bytes(batch))
    return batch, rejected


def _run_step(batch: pa.RecordBatch, index: int, step: Any, step_counts: list[dict[str, Any]],
              full_rejected: bool, rejected: list[pa.Table]) -> pa.RecordBatch:
    if isinstance(step, Expander):
        before = batch.num_rows
        batch = take_counts(step.expand(batch), step_counts[index])
        generated = batch.num_rows - before
        step_counts[index]["generated"] = step_counts[index].get("generated", 0) + generated
        step_counts[index]["in"] -= generated  # counted below with the expanded batch
    if isinstance(step, Annotator):
        batch = take_counts(step.annotate(batch), step_counts[index])
    if isinstance(step, Filter):
        reasons = step.reject(batch)
        if len(reasons) != batch.num_rows:
            raise ValueError(f"step {step.name} returned {len(reasons)} reasons for {batch.num_rows} rows")
        if reasons.null_count != len(reasons):
            rejected.append(rejected_rows(batch, reasons, step.name, full=full_rejected))
        return apply_reasons(batch, reasons, step_counts[index])
    step_counts[index]["in"] += batch.num_rows
    step_counts[index]["kept"] += batch.num_rows
    return batch
