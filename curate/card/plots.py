"""The card's PNG plots, in the shared style (curate/plots/style.py), from the collected numbers.

Each ``plot_*`` takes plain data (what ``collect.py`` returns, ``stats.json``, the phase plans),
writes one PNG into ``out_dir`` and returns its file name, or None when there is nothing to show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from curate.plots.style import colour, figure, save_png

TOP_N = 20


def _label_bars(ax, bars, values, fmt="{:,}") -> None:
    for b, v in zip(bars, values):
        ax.annotate(fmt.format(v), (b.get_x() + b.get_width(), b.get_y() + b.get_height() / 2), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7)


def plot_funnel(stats: dict[str, Any], out_dir: Path) -> str | None:
    """Left: share of each source's read documents left after each step (one line per source, so
    sources of any size compare). Right: documents dropped per step/reason, stacked by source."""
    sources = list(stats["sources"])
    steps = stats["total"]["steps"]
    fig, (ax, bx) = figure(width_in=11, height_in=max(3.5, 0.3 * len(steps) + 2.5), ncols=2)
    labels = ["read", "not quarantined"] + [f"{i}:{s['name']}" for i, s in enumerate(steps)]
    for k, name in enumerate(sources):
        c = stats["sources"][name]
        left = np.array([c["read"], c["read"] - c["quarantined"]] + [s["kept"] for s in c["steps"]], dtype=float)
        ax.plot(range(len(labels)), 100 * left / max(c["read"], 1), marker="o", color=colour(k),
                label=f"{name} ({c['kept']:,} of {c['read']:,})")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of read documents left")
    ax.set_title("funnel per source")
    ax.legend()
    reasons = [(f"{i}:{s['name']} / {r}", i, r) for i, s in enumerate(steps) for r in sorted(s["dropped"])]
    if reasons:
        y = np.arange(len(reasons))
        base = np.zeros(len(reasons))
        for k, name in enumerate(sources):
            vals = np.array([stats["sources"][name]["steps"][i]["dropped"].get(r, 0) for _, i, r in reasons])
            bx.barh(y, vals, left=base, color=colour(k), label=name)
            base += vals
        bx.set_yticks(y, [label for label, _, _ in reasons])
        bx.invert_yaxis()
        bx.set_xlabel("documents dropped")
        bx.set_title("dropped per step and reason")
        bx.legend(fontsize=7)
        _label_bars(bx, bx.containers[-1], base.astype(int).tolist())
    else:
        bx.set_axis_off()
        bx.text(0.5, 0.5, "no document dropped", ha="center", va="center")
    save_png(fig, out_dir / "funnel.png")
    return "funnel.png"


def _bar_panels(rows: dict[str, dict], keys: list[tuple[str, str]], title: str, path: Path) -> None:
    names = list(rows)[:TOP_N]
    fig, axes = figure(width_in=11, height_in=max(1.6, 0.28 * len(names) + 1.1), ncols=len(keys))
    axes = np.atleast_1d(axes)
    for k, (ax, (key, label)) in enumerate(zip(axes, keys)):
        vals = [int(rows[n].get(key) or 0) for n in names]
        bars = ax.barh(range(len(names)), vals, color=colour(k))
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlabel(label)
        _label_bars(ax, bars, vals)
    axes[0].set_title(title)
    save_png(fig, path)


def plot_counts(rows: dict[str, dict], name: str, title: str, out_dir: Path) -> str | None:
    """Docs (and tokens, when counted) per value: sources, skills, languages, years, mix groups."""
    if not rows:
        return None
    keys = [("num_docs", "documents")]
    if any("num_tokens" in r for r in rows.values()):
        keys.append(("num_tokens", "tokens"))
    _bar_panels(rows, keys, title, out_dir / f"{name}.png")
    return f"{name}.png"


def plot_years(years: dict[str, dict], out_dir: Path) -> str | None:
    dated = sorted((int(y), r["num_docs"]) for y, r in years.items() if y != "(none)")
    if not dated:
        return None
    fig, ax = figure(height_in=3)
    ax.bar([y for y, _ in dated], [n for _, n in dated], color=colour(0))
    ax.set_xlabel("year of the timestamp")
    ax.set_ylabel("documents")
    none = years.get("(none)", {}).get("num_docs", 0)
    ax.set_title(f"timestamps per year ({none:,} documents without one)")
    save_png(fig, out_dir / "years.png")
    return "years.png"


def plot_domains(domains: list[tuple[str, int]], out_dir: Path) -> str | None:
    if not domains:
        return None
    rows = {host: {"num_docs": n} for host, n in domains[:TOP_N]}
    _bar_panels(rows, [("num_docs", "documents")], f"top {len(rows)} domains", out_dir / "domains.png")
    return "domains.png"


def _hist_panel(ax, hist: dict[str, Any], cuts, xlabel: str, log_x: bool) -> None:
    edges = np.array(hist["edges"])
    for k, (source, counts) in enumerate(hist["counts"].items()):
        c = np.array(counts)
        if log_x:
            edges_plot = edges.copy()
            edges_plot[0] = 0.5
            ax.stairs(c, edges_plot, color=colour(k), label=source, linewidth=1.5)
        else:
            ax.stairs(c, edges, color=colour(k), label=source, linewidth=1.5)
    nonzero = np.nonzero(np.sum([np.array(v) for v in hist["counts"].values()], axis=0))[0]
    if log_x and len(nonzero):
        ax.set_xscale("log")
        ax.set_xlim(max(edges[nonzero[0]], 0.5) / 1.3, edges[nonzero[-1] + 1] * 1.3)
    for j, (label, value) in enumerate(cuts):
        ax.axvline(value, color=colour(3 + j % 4), linestyle="--", linewidth=1, label=f"{label} = {value:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("documents")
    ax.legend(fontsize=7)


def plot_hists(hists: dict[str, dict], cuts: dict, name: str, title: str, out_dir: Path, log_x: bool,
               units: dict[str, str] | None = None) -> str | None:
    """One panel per histogram (lengths in chars/words/tokens, or one per score column)."""
    if not hists:
        return None
    keys = list(hists)
    ncols = min(3, len(keys))
    nrows = -(-len(keys) // ncols)
    fig, axes = figure(width_in=11, height_in=3.2 * nrows, ncols=ncols, nrows=nrows)
    axes = np.atleast_1d(axes).reshape(-1)
    for ax, key in zip(axes, keys):
        _hist_panel(ax, hists[key], cuts.get(key, []), (units or {}).get(key, key), log_x)
    for ax in axes[len(keys):]:
        ax.set_axis_off()
    axes[0].set_title(title)
    save_png(fig, out_dir / f"{name}.png")
    return f"{name}.png"


def plot_clusters(cluster_sizes: dict[str, dict[int, int]], out_dir: Path) -> str | None:
    """Duplicate cluster sizes (kept document + its removed duplicates), one colour per dedup step."""
    if not cluster_sizes:
        return None
    fig, ax = figure(height_in=3)
    width = 0.8 / len(cluster_sizes)
    largest = max(int(s) for sizes in cluster_sizes.values() for s in sizes)
    for k, (step, sizes) in enumerate(cluster_sizes.items()):
        xs = np.array(sorted(int(s) for s in sizes))
        ys = [sizes[s] for s in sorted(sizes, key=int)]
        if largest <= 60:
            ax.bar(xs + k * width - 0.4 + width / 2, ys, width=width, color=colour(k), label=step)
        else:
            ax.plot(xs, ys, marker="o", linestyle="", color=colour(k), label=step)
            ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cluster size (documents)")
    ax.set_ylabel("clusters")
    ax.set_title("duplicate clusters")
    ax.legend()
    save_png(fig, out_dir / "dedup_clusters.png")
    return "dedup_clusters.png"


def plot_phases(phases: list[dict[str, Any]], out_dir: Path) -> str | None:
    """Per phase: available vs planned tokens per group (bars), epochs written above the plan."""
    if not phases:
        return None
    fig, axes = figure(width_in=11, height_in=3.5, ncols=len(phases))
    axes = np.atleast_1d(axes)
    for ax, phase in zip(axes, phases):
        groups = phase["groups"]
        x = np.arange(len(groups))
        ax.bar(x - 0.2, [g["available"] for g in groups], width=0.4, color=colour(8), label="available")
        bars = ax.bar(x + 0.2, [g["requested"] for g in groups], width=0.4, color=colour(0), label="planned")
        for b, g in zip(bars, groups):
            ax.annotate(f"{g['epochs']:.2f} ep", (b.get_x() + b.get_width() / 2, b.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
        ax.set_xticks(x, [g["group"] for g in groups], rotation=20, ha="right")
        ax.set_title(f"phase {phase['phase']}: {phase['num_tokens']:,} tokens")
        ax.set_yscale("log")
        ax.set_ylabel("tokens (log)")
        ax.legend(fontsize=7)
    save_png(fig, out_dir / "phases.png")
    return "phases.png"
