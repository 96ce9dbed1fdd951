"""The report's PNG plots, in the shared style (curate/plots/style.py), from plain data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.plots.style import colour, figure, save_png


def plot_metrics(panels: list[tuple[str, str, dict[str, list[float]]]], path: Path) -> Path:
    """One panel per (set, metric): per arm the mean over seeds (bar), ± std (error bar) and
    every seed's value (dots). ``panels``: (set, metric, {arm: values})."""
    ncols = max(1, len(panels))
    fig, axes = figure(width_in=max(5.0, 3.2 * ncols), height_in=3.4, ncols=ncols)
    for ax, (name, metric, by_arm) in zip(np.atleast_1d(axes), panels):
        arms = list(by_arm)
        means = [float(np.mean(v)) for v in by_arm.values()]
        stds = [float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for v in by_arm.values()]
        ax.bar(range(len(arms)), means, yerr=stds, capsize=4, color=[colour(k) for k in range(len(arms))],
               alpha=0.8)
        for k, values in enumerate(by_arm.values()):
            ax.plot([k] * len(values), values, "o", color="black", markersize=3)
        lo = min(min(v) for v in by_arm.values())
        hi = max(max(v) for v in by_arm.values())
        pad = 0.25 * (hi - lo) + 1e-3 * max(abs(hi), 1)
        ax.set_ylim(lo - pad - max(stds), hi + pad + max(stds))
        ax.set_xticks(range(len(arms)), arms, rotation=20, ha="right")
        ax.set_title(f"{name}: {metric}")
    save_png(fig, path)
    return path


def plot_loss_curves(curves: dict[str, list[tuple[list[int], list[float]]]], path: Path) -> Path:
    """Training loss against tokens: per arm the mean over seeds (line) and each seed (faint)."""
    fig, ax = figure(width_in=8, height_in=4)
    for k, (arm, seeds) in enumerate(curves.items()):
        for xs, ys in seeds:
            ax.plot(xs, ys, color=colour(k), alpha=0.25, linewidth=0.8)
        n = min(len(xs) for xs, _ in seeds)
        if n:
            mean = np.mean([ys[:n] for _, ys in seeds], axis=0)
            ax.plot(seeds[0][0][:n], mean, color=colour(k), label=f"{arm} (mean of {len(seeds)} seeds)")
    ax.set_xlabel("training tokens")
    ax.set_ylabel("training loss (nats / token)")
    ax.set_title("loss curves per arm")
    if ax.lines:
        ax.legend()
    save_png(fig, path)
    return path


def plot_mix(mix: dict[str, dict[str, dict[str, float]]], path: Path) -> Path:
    """Per phase (panel), per arm (bar): the mixture's group shares, stacked."""
    phases = sorted({p for by_phase in mix.values() for p in by_phase}, key=lambda p: min(
        list(by_phase).index(p) for by_phase in mix.values() if p in by_phase))
    fig, axes = figure(width_in=max(5.0, 4.0 * len(phases)), height_in=3.4, ncols=max(1, len(phases)))
    groups = sorted({g for by_phase in mix.values() for shares in by_phase.values() for g in shares})
    for ax, phase in zip(np.atleast_1d(axes), phases):
        arms = [a for a in mix if phase in mix[a]]
        left = np.zeros(len(arms))
        for k, g in enumerate(groups):
            vals = np.array([mix[a][phase].get(g, 0.0) for a in arms])
            ax.barh(range(len(arms)), vals, left=left, color=colour(k), label=g)
            left += vals
        ax.set_yticks(range(len(arms)), arms)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("token share")
        ax.set_title(f"phase {phase}")
        ax.legend(fontsize=7)
    save_png(fig, path)
    return path
