"""The one plot style of curate, mixers and train: matplotlib on the Agg backend (no display),
one colour palette, one figure size, 100 dpi, one font; PNG files written by save_png.

Use:
    plt = pyplot()
    fig, ax = figure()            # 8 x 4 inches, or figure(width_in=..., height_in=...)
    ax.bar(..., color=colour(0))
    save_png(fig, path)           # tight layout, 100 dpi, closes the figure

File naming: `<what>.png` in snake case beside the file that shows them (card.html, train log)."""

from __future__ import annotations

from pathlib import Path

# Okabe-Ito colour-blind-safe palette, then greys; colour(k) cycles through it.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000", "#777777", "#BBBBBB")
WIDTH_IN = 8.0
HEIGHT_IN = 4.0
DPI = 100
FONT_FAMILY = "DejaVu Sans"
FONT_SIZE_PT = 9


def colour(k: int) -> str:
    """The k-th colour of PALETTE (cycling)."""
    return PALETTE[k % len(PALETTE)]


def pyplot():
    """matplotlib.pyplot on the Agg backend with the shared rc settings applied."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({
        "font.family": FONT_FAMILY,
        "font.size": FONT_SIZE_PT,
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "svg.hashsalt": "curate",
    })
    return plt


def figure(width_in: float = WIDTH_IN, height_in: float = HEIGHT_IN, ncols: int = 1, nrows: int = 1):
    """A new (fig, ax) in the shared style; ax is an array of axes when ncols or nrows > 1."""
    plt = pyplot()
    return plt.subplots(nrows, ncols, figsize=(width_in, height_in))


def save_png(fig, path: Path) -> Path:
    """Write fig as a PNG at DPI with a tight layout (no timestamp metadata, so the same figure
    is the same bytes), close it, and return the path."""
    plt = pyplot()
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    plt.close(fig)
    return path
