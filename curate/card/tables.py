"""The card's tables as (header, rows) of strings, shared by the Markdown and the HTML rendering."""

from __future__ import annotations

from typing import Any

Table = tuple[list[str], list[list[str]]]


def _n(v) -> str:
    return "" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:.4g}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else ""


def funnel_table(stats: dict[str, Any]) -> Table:
    """Rows: read, quarantined, each step's input and its drops by reason, kept; a column per source."""
    sources = list(stats["sources"])
    cols = [stats["sources"][s] for s in sources] + [stats["total"]]
    rows = [["read"] + [_n(c["read"]) for c in cols], ["quarantined"] + [_n(c["quarantined"]) for c in cols]]
    for i, step in enumerate(stats["total"]["steps"]):
        rows.append([f"{i}:{step['name']} in"] + [_n(c["steps"][i]["in"]) for c in cols])
        for reason in sorted(step["dropped"]):
            rows.append([f"  dropped: {reason}"] + [_n(c["steps"][i]["dropped"].get(reason, 0)) for c in cols])
    rows.append(["kept"] + [_n(c["kept"]) for c in cols])
    rows.append(["kept share"] + [_pct(c["kept"], c["read"]) for c in cols])
    return ["step / reason", *sources, "total"], rows


def counts_table(rows: dict[str, dict], label: str, limit: int | None = None, score: str | None = None) -> Table:
    """Docs, tokens (when counted), chars (when counted), shares; and a mean score column."""
    total_docs = sum(r["num_docs"] for r in rows.values())
    total_tokens = sum(r.get("num_tokens", 0) for r in rows.values())
    has_tokens = any("num_tokens" in r for r in rows.values())
    has_chars = any("num_chars" in r for r in rows.values())
    header = [label, "documents", "share"]
    header += ["tokens", "token share"] if has_tokens else []
    header += ["chars"] if has_chars else []
    header += [f"mean {score}"] if score else []
    out = []
    for key, r in list(rows.items())[:limit]:
        row = [key, _n(r["num_docs"]), _pct(r["num_docs"], total_docs)]
        if has_tokens:
            row += [_n(r.get("num_tokens")), _pct(r.get("num_tokens", 0), total_tokens)]
        if has_chars:
            row += [_n(r.get("num_chars"))]
        if score:
            row += [f"{r[score] / r['num_docs']:.3f}" if r.get(score) is not None and r["num_docs"] else ""]
        out.append(row)
    return header, out


def domains_table(domains: list[tuple[str, int]], num_docs: int) -> Table:
    return ["domain", "documents", "share"], [[h, _n(n), _pct(n, num_docs)] for h, n in domains]


def clusters_table(cluster_sizes: dict[str, dict[int, int]]) -> Table:
    rows = [[step, str(size), _n(n), _n(n * (size - 1))]
            for step, sizes in cluster_sizes.items() for size, n in sorted(sizes.items(), key=lambda kv: int(kv[0]))]
    return ["step", "cluster size", "clusters", "duplicates removed"], rows


def phase_table(phase: dict[str, Any]) -> Table:
    rows = [[g["group"], _n(g["available"]), _n(g["requested"]), f"{g['epochs']:.3f}", f"{100 * g['share']:.2f}%"]
            + ([_n(g["realised"])] if "realised" in g else [])
            for g in phase["groups"]]
    header = ["group", "available tokens", "planned tokens", "epochs", "share"]
    if any("realised" in g for g in phase["groups"]):
        header.append("tokens in this mix")
    return header, rows


def cuts_table(cuts: dict[str, list[tuple[str, float]]]) -> Table:
    return ["histogram", "cut", "value"], [[key, label, f"{v:g}"] for key, items in cuts.items() for label, v in items]
