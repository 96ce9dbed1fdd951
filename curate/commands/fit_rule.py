"""curate fit-rule LABELS: fit a ``score_rule`` by least squares on (indicators, observed loss) rows.

LABELS is JSONL (one object per line) or Parquet with the indicator columns and the target, e.g.
rows of dataset-level means of indicators over sampled subsets with the evaluation loss of a model
fine-tuned on each (Instruction Mining's setup), or per-pair indicators with a per-pair loss.
Prints the fit (R^2, rows) and a ``[[steps]]`` table to paste into a recipe."""

from __future__ import annotations

from pathlib import Path

HELP = "fit score_rule coefficients by least squares on (indicators, observed loss) rows"


def add_arguments(p) -> None:
    p.add_argument("labels", type=Path, help="JSONL or Parquet rows with the indicator columns and the target")
    p.add_argument("--columns", nargs="+", required=True, help="indicator columns (the rule's terms)")
    p.add_argument("--target", default="loss", help="column of the observed loss (default: loss)")
    p.add_argument("--log-target", action="store_true", help="fit log(target), as the paper's rule does")


def read_rows(path: Path, columns: list[str]):
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    from curate.errors import CurateError

    if not path.is_file():
        raise CurateError(f"labels file not found: {path}")
    try:
        table = pq.read_table(path) if path.suffix == ".parquet" else pj.read_json(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one user error
        raise CurateError(f"cannot read {path} as {'Parquet' if path.suffix == '.parquet' else 'JSONL'}: {exc}") from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise CurateError(f"{path}: no column {missing[0]!r}; it has {', '.join(table.column_names)}")
    return table


def run(args) -> int:
    import numpy as np
    import pyarrow as pa

    from curate.errors import CurateError
    from curate.steps.score_rule import fit_linear_rule

    table = read_rows(args.labels, [*args.columns, args.target])
    try:
        x = np.column_stack([table.column(c).cast(pa.float64()).to_numpy(zero_copy_only=False)
                             for c in args.columns])
        y = table.column(args.target).cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise CurateError(f"{args.labels}: columns must be numeric: {exc}") from None
    if args.log_target:
        if (y[np.isfinite(y)] <= 0).any():
            raise CurateError(f"--log-target: {args.target} has values <= 0; drop the flag or fix the rows")
        y = np.log(y)
    fit = fit_linear_rule(x, y, list(args.columns))
    target = f"log({args.target})" if args.log_target else args.target
    print(f"# fit of {target} on {fit.num_rows} rows: R^2 = {fit.r2:.4f}")
    print('[[steps]]\nuse = "score_rule"')
    print(f"intercept = {fit.intercept!r}")
    terms = ", ".join(f"{c} = {w!r}" for c, w in fit.coefficients.items())
    print(f"coefficients = {{ {terms} }}")
    return 0
