"""PNG plots in the shared style (curate/plots/style.py): LR schedules and validation curves."""

from __future__ import annotations

from pathlib import Path

import orjson

from curate.plots.style import colour, figure, save_png


def plot_lr(curves: dict[str, list[float]], path: Path, title: str = "learning rate") -> None:
    """The phases' LR curves one after the other on a global step axis, one colour per phase."""
    fig, ax = figure()
    start = 0
    for name, lrs in curves.items():
        ax.plot(range(start, start + len(lrs)), lrs, label=name)
        start += len(lrs)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("LR")
    ax.set_title(title)
    ax.legend()
    save_png(fig, path)


def read_log(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in Path(path).read_bytes().splitlines() if line.strip()]


def eval_series(records: list[dict]) -> dict[str, tuple[list[int], list[float]]]:
    """'grouping/group' -> (tokens, losses) of the main line of the run (soup branches and soups
    are left out of the curves)."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for r in records:
        if r.get("kind") != "eval" or r.get("branch") not in (None, "soup"):
            continue
        for grouping, losses in r["val"].items():
            for group, loss in losses.items():
                xs, ys = series.setdefault(f"{grouping}/{group}", ([], []))
                xs.append(r["tokens"])
                ys.append(loss)
    return series


def plot_eval(log_path: Path, path: Path) -> None:
    """Validation loss against training tokens, one colour per group. The y range leaves out the
    untrained model's loss at token 0."""
    fig, ax = figure(width_in=9, height_in=5)
    later: list[float] = []
    for c, (name, (xs, ys)) in enumerate(sorted(eval_series(read_log(log_path)).items())):
        ax.plot(xs, ys, marker=".", color=colour(c), label=name)
        later += [y for x, y in zip(xs, ys) if x > 0]
    if later:
        lo, hi = min(later), max(later)
        pad = 0.1 * (hi - lo) + 1e-3
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("training tokens")
    ax.set_ylabel("validation loss")
    if ax.lines:
        ax.legend(fontsize=7)
    save_png(fig, path)
