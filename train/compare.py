"""Compare finished runs: the final validation loss of every group, side by side, plus a plot.

The final value of a run is its last main-line evaluation (the soup where a phase was souped).
"""

from __future__ import annotations

from pathlib import Path

from train.plots import plot_eval, read_log


def final_losses(run_dir: Path) -> dict[str, float]:
    evals = [r for r in read_log(run_dir / "log.jsonl")
             if r.get("kind") == "eval" and r.get("branch") in (None, "soup")]
    if not evals:
        return {}
    return {f"{grouping}/{group}": loss for grouping, losses in evals[-1]["val"].items()
            for group, loss in losses.items()}


def comparison_table(runs: dict[str, Path]) -> str:
    """Rows = groups, columns = runs; the last column is each run's gain over the first run."""
    finals = {name: final_losses(Path(d)) for name, d in runs.items()}
    names = list(finals)
    groups = sorted({g for f in finals.values() for g in f})
    width = max([len(g) for g in groups] + [5])
    head = f"{'group':<{width}}  " + "  ".join(f"{n:>14}" for n in names)
    lines = [head, "-" * len(head)]
    for g in groups:
        cells = [f"{finals[n][g]:14.4f}" if g in finals[n] else f"{'-':>14}" for n in names]
        lines.append(f"{g:<{width}}  " + "  ".join(cells))
    means = [sum(finals[n].values()) / len(finals[n]) if finals[n] else float("nan") for n in names]
    lines.append(f"{'mean':<{width}}  " + "  ".join(f"{m:14.4f}" for m in means))
    return "\n".join(lines)


def compare(runs: dict[str, Path], plot_path: Path | None = None) -> str:
    if plot_path is not None:
        plot_eval(Path(), plot_path, runs={n: Path(d) / "log.jsonl" for n, d in runs.items()})
    return comparison_table(runs)
