"""``report.md`` and ``report.html`` of an ablation, with PNG plots in ``plots/`` beside them.

Sections: the arms (recipe, overrides), per-set metrics as mean ± std over seeds with the difference
from the baseline arm and the seed-noise verdict (:mod:`train.ablate.noise`), loss curves per arm,
each arm's data funnel and token counts, and the mixture shares per phase. Both files come from
the same list of sections; the HTML is self-contained and offline like the dataset card (inline
CSS, the card's Content-Security-Policy, relative image paths), so a browser fetches nothing.
Nothing in a report depends on time or on the order runs finished in: a resumed ablation writes
the same bytes.
"""

from __future__ import annotations

import dataclasses
from html import escape
from pathlib import Path
from typing import Any

import orjson

from curate.card.collect import load_stats
from curate.card.plots import plot_funnel
from curate.card.render_html import CSP, CSS, html_table
from curate.card.render_md import md_table
from train.ablate import plots
from train.ablate.noise import NOISE_RULE, difference, summarise
from train.plots import read_log

METRICS = {"lm": ("bits_per_byte", "loss_per_token"), "mc": ("acc_norm", "acc")}
LOWER_IS_BETTER = {"bits_per_byte", "loss_per_token"}


@dataclasses.dataclass
class Section:
    title: str
    text: list[str] = dataclasses.field(default_factory=list)
    tables: list[tuple[str, tuple]] = dataclasses.field(default_factory=list)
    images: list[tuple[str, str]] = dataclasses.field(default_factory=list)   # (path under OUT, alt)


def collect_arm(ar) -> dict[str, Any]:
    """eval.json and log of every seed, the build's stats and token counts, the phase mixtures."""
    evals = {s: orjson.loads((d / "eval.json").read_bytes()) for s, d in sorted(ar.runs.items())}
    logs = {s: read_log(d / "log.jsonl") for s, d in sorted(ar.runs.items())}
    mix: dict[str, dict[str, float]] = {}
    for r in logs[min(logs)]:
        if r.get("kind") == "eval" and r.get("branch") is None and r.get("weights"):
            mix[r["phase"]] = r["weights"]
    trained = {s: max((r.get("tokens", 0) for r in log), default=0) for s, log in logs.items()}
    return {"evals": evals, "logs": logs, "stats": load_stats(ar.manifest.root), "mix": mix, "trained": trained,
            "build_docs": sum(s.num_docs for s in ar.manifest.shards),
            "build_tokens": sum(s.num_tokens or 0 for s in ar.manifest.shards)}


def _ms(s) -> str:
    return f"{s.mean:.4f} ± {s.std:.4f}"


def results_sections(arm_runs, data, baseline: str, out: Path) -> list[Section]:
    names = [ar.arm.name for ar in arm_runs]
    first = data[names[0]]["evals"]
    sets = first[min(first)]["sets"]
    panels, tables, verdicts = [], [], {a: [] for a in names if a != baseline}
    for set_name, m in sets.items():
        rows = []
        for metric in METRICS[m["kind"]]:
            values = {a: [data[a]["evals"][s]["sets"][set_name][metric] for s in sorted(data[a]["evals"])]
                      for a in names}
            base = summarise(values[baseline])
            for a in names:
                s = summarise(values[a])
                d = difference(s, base)
                rows.append([a, metric, _ms(s), " ".join(f"{v:.4f}" for v in values[a]),
                             "" if a == baseline else f"{d.diff:+.4f}",
                             "" if a == baseline or d.two_se is None else f"{d.two_se:.4f}",
                             "baseline" if a == baseline else d.verdict])
            if metric == METRICS[m["kind"]][0]:
                panels.append((set_name, metric, values))
                for a in verdicts:
                    d = difference(summarise(values[a]), base)
                    noise = {"yes": "beyond seed noise", "no": "within seed noise"}.get(d.verdict, "noise n/a")
                    verdicts[a].append(f"{set_name} {metric} {d.diff:+.4f} ({noise})")
        what = (f"{m['items']} documents, {m['bytes']:,} bytes" if m["kind"] == "lm" else f"{m['items']} items")
        tables.append((f"{set_name} ({m['kind']}: {what}; items sha256 {m['items_sha256'][:12]})",
                       (["arm", "metric", "mean ± std", "per seed", f"diff vs {baseline}", "2·SE",
                         "beyond seed noise"], rows)))
    plots.plot_metrics(panels, out / "plots" / "metrics.png")
    text = [f"Each arm is scored on the same items of every set (the sha256 of the items is shown). "
            f"Lower is better for {', '.join(sorted(LOWER_IS_BETTER))}; higher for acc and acc_norm. "
            f"A difference is beyond seed noise when {NOISE_RULE}."]
    text += [f"{a} vs {baseline}: " + "; ".join(v) + "." for a, v in verdicts.items()]
    return [Section("Results", text, tables, [("plots/metrics.png", "metrics per eval set, mean ± std over seeds")])]


def data_sections(arm_runs, data, out: Path) -> list[Section]:
    names = [ar.arm.name for ar in arm_runs]
    curves = {a: [([r["tokens"] for r in log if r.get("kind") == "train"],
                   [r["loss"] for r in log if r.get("kind") == "train"]) for log in data[a]["logs"].values()]
              for a in names}
    plots.plot_loss_curves(curves, out / "plots" / "loss.png")
    rows, images = [], []
    for a in names:
        d = data[a]
        st = d["stats"]
        read = st["total"]["read"] if st else None
        trained = list(d["trained"].values())
        rows.append([a, "" if read is None else f"{read:,}", f"{d['build_docs']:,}",
                     "" if not read else f"{100 * d['build_docs'] / read:.1f}%", f"{d['build_tokens']:,}",
                     f"{sum(trained) / len(trained):,.0f}"])
        if st:
            (out / "plots" / a).mkdir(parents=True, exist_ok=True)
            plot_funnel(st, out / "plots" / a)
            images.append((f"plots/{a}/funnel.png", f"data funnel of {a}"))
    notes = ["Documents read and kept by each arm's build, the tokens in its shards and the tokens trained "
             "on (mean over seeds; equal planned tokens for every arm)."]
    trained_all = {t for a in names for t in data[a]["trained"].values()}
    if len(trained_all) > 1:
        notes.append(f"WARNING: the runs trained on different token counts ({min(trained_all):,} to "
                     f"{max(trained_all):,}): a phase's data ran out early (see the runs' log.jsonl notes).")
    funnel = Section("Data funnel and tokens", notes,
                     [("", (["arm", "docs read", "docs kept", "kept share", "tokens in build",
                             "tokens trained"], rows))], images)
    mix = {a: data[a]["mix"] for a in names}
    mix_rows = [[a, phase, ", ".join(f"{g} {w:.3f}" for g, w in sorted(shares.items()))]
                for a in names for phase, shares in mix[a].items()]
    mix_images = []
    if mix_rows:
        plots.plot_mix(mix, out / "plots" / "mix.png")
        mix_images.append(("plots/mix.png", "mixture shares per phase"))
    mix_section = Section("Mix shares per phase", ["Each phase's target mixture (token shares per group) "
                          "at the phase's last evaluation, first seed."],
                          [("", (["arm", "phase", "token shares"], mix_rows))], mix_images)
    return [Section("Loss curves", ["Training loss per logged step; faint lines are single seeds."], [],
                    [("plots/loss.png", "training loss curves per arm")]), funnel, mix_section]


def build_sections(arm_runs, baseline: str, seeds: list[int], global_overrides, out: Path) -> list[Section]:
    data = {ar.arm.name: collect_arm(ar) for ar in arm_runs}
    arms = Section("Arms", [f"Seeds: {', '.join(map(str, seeds))} (model init, data order and holdout). "
                            f"Baseline arm: {baseline}." + (f" Overrides of every arm: {', '.join(global_overrides)}."
                                                            if global_overrides else "")],
                   [("", (["arm", "recipe", "overrides", "build fingerprint"],
                          [[ar.arm.name, ar.arm.recipe.name, ", ".join(ar.arm.overrides) or "(none)",
                            ar.recipe.fingerprint()[:12]] for ar in arm_runs]))])
    return [arms] + results_sections(arm_runs, data, baseline, out) + data_sections(arm_runs, data, out)


def render_md(title: str, sections: list[Section]) -> str:
    lines = [f"# {title}", ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for t in s.text:
            lines += [t, ""]
        for caption, table in s.tables:
            lines += ([f"**{caption}**", ""] if caption else []) + md_table(table)
        lines += [f"![{alt}]({path})" for path, alt in s.images] + ([""] if s.images else [])
    return "\n".join(lines)


def render_html(title: str, sections: list[Section]) -> str:
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">",
             "<meta name=\"referrer\" content=\"no-referrer\">",
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>", f"<h1>{escape(title)}</h1>"]
    for s in sections:
        parts.append(f"<h2>{escape(s.title)}</h2>")
        parts += [f"<p>{escape(t)}</p>" for t in s.text]
        for caption, table in s.tables:
            parts += ([f"<h3>{escape(caption)}</h3>"] if caption else []) + [html_table(table)]
        parts += [f"<img src=\"{escape(path)}\" alt=\"{escape(alt)}\">" for path, alt in s.images]
    parts.append("<p class=\"meta\">Generated by <code>curate ablate</code>.</p></body></html>")
    return "\n".join(parts) + "\n"


def write_report(arm_runs, out: Path, baseline: str, seeds: list[int], global_overrides=()) -> tuple[Path, Path]:
    out = Path(out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    sections = build_sections(arm_runs, baseline, seeds, tuple(global_overrides), out)
    title = "Ablation: " + " vs ".join(ar.arm.name for ar in arm_runs)
    md, html = out / "report.md", out / "report.html"
    md.write_text(render_md(title, sections), encoding="utf-8")
    html.write_text(render_html(title, sections), encoding="utf-8")
    return md, html
