"""Which documents one build kept and another dropped, grouped by the step and reason that dropped
them (Polars, lazily over the shards' and rejected/'s id columns).

Documents are matched on ``(source, id)``. For each side, "kept by A, not by B" is joined with B's
rejected/ rows: the step and reason B recorded; a document B never saw (not among its inputs, or
quarantined) has step and reason null, printed as ``(not in B)``. With several rejected rows for one
document (a resumed build cannot write two, but a hand-edited one can) the first is used.
Memory: the id columns of both builds (about 50 bytes per document).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from curate.inspect.locate import rejected_files, shard_files

KEY = ["source", "id"]
EXAMPLES = 3


def _kept(root: Path) -> pl.LazyFrame:
    paths = [str(p) for p in shard_files(root)]
    if not paths:
        return pl.LazyFrame(schema={"source": pl.String, "id": pl.String})
    return pl.scan_parquet(paths).select(KEY)


def _rejected(root: Path) -> pl.LazyFrame:
    paths = [str(p) for p in rejected_files(root)]
    if not paths:
        return pl.LazyFrame(schema={"source": pl.String, "id": pl.String, "step": pl.String, "reason": pl.String})
    return pl.scan_parquet(paths).select(KEY + ["step", "reason"]).unique(KEY, keep="first", maintain_order=True)


def only_kept_by(a: Path, b: Path) -> pl.DataFrame:
    """Per (step, reason) of b: documents a kept and b did not; columns step, reason, source,
    documents, examples (the first EXAMPLES ids in id order). Sorted by documents, then step, reason."""
    lost = _kept(a).join(_kept(b), on=KEY, how="anti")
    why = lost.join(_rejected(b), on=KEY, how="left")
    return (why.group_by("step", "reason", "source")
            .agg(pl.len().alias("documents"), pl.col("id").sort().head(EXAMPLES).alias("examples"))
            .sort(["documents", "step", "reason", "source"], descending=[True, False, False, False],
                  nulls_last=True)
            .collect())


def kept_counts(a: Path, b: Path) -> dict[str, int]:
    ka, kb = _kept(a), _kept(b)
    return {"a": ka.select(pl.len()).collect().item(), "b": kb.select(pl.len()).collect().item(),
            "both": ka.join(kb, on=KEY, how="inner").select(pl.len()).collect().item()}


def diff_lines(a: Path, b: Path) -> list[str]:
    counts = kept_counts(a, b)
    lines = [f"A: {a} ({counts['a']:,} kept)", f"B: {b} ({counts['b']:,} kept)",
             f"kept by both: {counts['both']:,}"]
    for name, (x, y), other in (("A", (a, b), "B"), ("B", (b, a), "A")):
        groups = only_kept_by(x, y)
        lines.append(f"kept by {name}, not by {other}: {int(groups['documents'].sum() or 0):,}")
        for r in groups.iter_rows(named=True):
            label = f"{other} {r['step']}: {r['reason']}" if r["step"] is not None else f"(not in {other})"
            lines.append(f"  {label:<48} {r['source']:<12} {r['documents']:>8,}  e.g. {', '.join(r['examples'])}")
    return lines
