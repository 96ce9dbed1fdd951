"""Write a build's card: ``README.md``, ``card.html`` and ``card_plots/*.png`` in the build dir.

:func:`make_card` is collect (streaming, collect.py) -> plots (plots.py) -> model (model.py) ->
render (render_md.py, render_html.py). Files are written to temporary names and renamed, so a
failed run leaves the previous card whole. Inputs from outside the build (the recipe's step
tables, the phase plans) are passed in as plain data by the command layer.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from curate.card import plots
from curate.card.collect import EXCERPT_CHARS, collect_rejected, collect_shards, load_stats
from curate.card.model import LENGTH_UNITS, sections, summary_lines
from curate.card.readback import read_back
from curate.card.render_html import render_html
from curate.card.render_md import render_md
from curate.card.thresholds import all_cuts
from curate.errors import CurateError, OutputError
from curate.manifest import Manifest

PLOTS_DIR = "card_plots"


def _plots(out: Path, sh: dict, rej: dict, stats: dict | None, cuts: dict, phases: list[dict]) -> dict[str, str]:
    made = {
        "funnel": plots.plot_funnel(stats, out) if stats else None,
        "sources": plots.plot_counts(sh["sources"], "sources", "documents and tokens per source", out),
        "mix_groups": plots.plot_counts(sh["mix_groups"], "mix_groups", "per mix group", out),
        "languages": plots.plot_counts(sh["languages"], "languages", "per language", out),
        "domains": plots.plot_domains(sh["domains"], out),
        "lengths": plots.plot_hists(sh["lengths"], cuts, "lengths", "document lengths", out, log_x=True,
                                    units=LENGTH_UNITS),
        "scores": plots.plot_hists(sh["scores"], cuts, "scores", "score distributions", out, log_x=False),
        "years": plots.plot_years(sh["years"], out),
        "dedup_clusters": plots.plot_clusters(rej["cluster_sizes"], out),
        "skills": plots.plot_counts(sh["skills"], "skills", "per skill", out),
        "phases": plots.plot_phases(phases, out),
    }
    return {k: v for k, v in made.items() if v}


def make_card(root: Path, *, steps: list[dict[str, Any]] = (), phases: list[dict[str, Any]] = (),
              license: str = "unknown", languages: list[str] = (), notes: list[str] = (),
              stats_from: Path | None = None, inputs: tuple[Path, dict] | None = None,
              readback_bytes: int = 256 * 2**20) -> list[Path]:
    """Write the card of the finished build (or mix) in ``root``; returns the files written.

    ``steps``: the recipe's step tables (for the thresholds); ``phases``: per phase ``{"phase",
    "num_tokens", "strategy", "group_by", "groups": mixers plan rows}``; ``languages``: fallback
    when the shards have no ``lang`` column; ``stats_from``: where to read ``stats.json`` when
    ``root`` has none (a mix: its build); ``inputs``: (recipe dir, {source: SourceSpec}) to read
    sampled dropped documents' text back from (at most ``readback_bytes`` of input files)."""
    root = Path(root)
    m = Manifest.load(root)
    stats = load_stats(root)
    stats_note = ""
    if stats is None and stats_from is not None:
        stats = load_stats(stats_from)
        if stats is not None:
            stats_note = f"The funnel of the build this mix was drawn from ({stats_from})."
    sh = collect_shards(m)
    rej = collect_rejected(root)
    if inputs is not None and readback_bytes > 0:
        read_back(rej["samples"], inputs[0], inputs[1], readback_bytes, EXCERPT_CHARS)
    cuts = all_cuts(list(steps), (stats or {}).get("global_steps", {}))
    tmp = root / f".{PLOTS_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
    except OSError as exc:
        raise OutputError(f"{root}: cannot write the card here ({exc.strerror}); check the permissions") from None
    plot_files = _plots(tmp, sh, rej, stats, cuts, list(phases))
    langs = [k for k in sh["languages"] if k != "(none)"] or list(languages)
    card = {
        "title": m.recipe.name if not m.mix else f"{m.recipe.name} / mix {m.mix.get('phase', {}).get('name')}",
        "manifest": m, "shards": sh, "license": license, "languages": langs,
        "data_files": [s.path for s in m.shards], "load_path": str(root),
        "summary": summary_lines(m, sh, stats, license),
        "sections": sections(m, sh, rej, stats, stats_note, cuts, list(phases), list(notes)),
        "plots": plot_files, "plots_dir": PLOTS_DIR,
    }
    written = []
    for name, text in (("README.md", render_md(card)), ("card.html", render_html(card))):
        part = root / f".{name}.tmp"
        part.write_text(text, encoding="utf-8")
        written.append((part, root / name))
    final = root / PLOTS_DIR
    if final.exists() and not final.is_dir():
        raise CurateError(f"{final} exists and is not a directory; move it away and rerun `curate card`")
    shutil.rmtree(final, ignore_errors=True)
    tmp.replace(final)
    for part, dest in written:
        part.replace(dest)
    return [dest for _, dest in written] + [final / f for f in plot_files.values()]
