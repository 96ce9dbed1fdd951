"""The card model: title, summary and the ordered sections both renderings show.

A section is ``{"title", "text": [paragraphs], "images": [(plot name, alt)], "tables": [(caption,
table)], "samples": [(caption, [doc dicts])]}``; sections without data say so in one line instead
of disappearing, so a reader knows the build had no such column or step.
"""

from __future__ import annotations

from typing import Any

from curate.card import tables
from curate.manifest import Manifest

LENGTH_UNITS = {"chars": "characters (whitespace-trimmed)", "words": "words (whitespace-separated)",
                "tokens": "tokens (num_tokens)"}


def _section(title: str, **parts) -> dict[str, Any]:
    return {"title": title, **parts}


def summary_lines(m: Manifest, sh: dict[str, Any], stats: dict | None, license: str) -> list[str]:
    tokens = f", {sh['num_tokens']:,} tokens" if sh["num_tokens"] is not None else ""
    lines = [f"{sh['num_docs']:,} documents{tokens}, {sh['num_chars']:,} characters in {len(m.shards):,} "
             f"Parquet shards from {len(sh['sources'])} source(s): {', '.join(sh['sources']) or 'none'}."]
    lines.append(f"Built by {m.tool.name} {m.tool.version} from recipe '{m.recipe.name}' (seed {m.recipe.seed}, "
                 f"fingerprint {m.recipe.fingerprint[:12]}). License: {license}.")
    if stats:
        t = stats["total"]
        lines.append(f"{'Funnel of the build it was drawn from' if m.mix else 'Funnel'}: {t['read']:,} read, {t['quarantined']:,} quarantined, {t['kept']:,} kept "
                     f"({100 * t['kept'] / max(t['read'], 1):.1f}%).")
    if m.mix:
        phase = m.mix.get("phase", {})
        lines.append(f"A materialised mix: phase '{phase.get('name')}' of the build in {m.mix.get('from')} "
                     f"(seed {m.mix.get('seed')}, holdout fraction {m.mix.get('holdout_frac')}); rows in "
                     f"stream order, repeats included.")
    if m.tokenizer:
        lines.append(f"Tokenizer: tokenizer.json, vocabulary {m.tokenizer.vocab_size:,} ({m.tokenizer.dtype}).")
    return lines


def sections(m: Manifest, sh: dict[str, Any], rej: dict[str, Any], stats: dict | None, stats_note: str,
             cuts: dict, phases: list[dict], notes: list[str]) -> list[dict[str, Any]]:
    out = []
    if stats:
        out.append(_section("Funnel", text=[stats_note] if stats_note else [], images=[("funnel", "funnel")],
                            tables=[("", tables.funnel_table(stats))]))
    else:
        out.append(_section("Funnel", text=[stats_note or "No stats.json here and no build to take it from."]))
    out.append(_section("Sources", images=[("sources", "documents and tokens per source")],
                        tables=[("", tables.counts_table(sh["sources"], "source"))]))
    if sh["mix_groups"]:
        out.append(_section("Mix groups", images=[("mix_groups", "documents and tokens per mix group")],
                            tables=[("", tables.counts_table(sh["mix_groups"], "mix_group"))]))
    if sh["languages"]:
        out.append(_section("Languages", text=["Languages of the `lang` column with the mean `lang_score` "
                                               "(the score histogram is under Scores)."],
                            images=[("languages", "documents per language")],
                            tables=[("", tables.counts_table(sh["languages"], "language", 30, "lang_score"))]))
    else:
        out.append(_section("Languages", text=["No `lang` column (no lang_id step)."]))
    if sh["domains"]:
        note = (f"{sh['num_domains']:,} distinct hosts" +
                (" (counts of rare hosts are lower bounds: the host table was pruned)" if sh["domains_pruned"] else ""))
        out.append(_section("Top domains", text=[note], images=[("domains", "top domains")],
                            tables=[("", tables.domains_table(sh["domains"], sh["num_docs"]))]))
    else:
        out.append(_section("Top domains", text=["No `url` or `domain` column."]))
    length_cuts = {k: v for k, v in cuts.items() if k in LENGTH_UNITS}
    out.append(_section("Lengths", text=["Histograms on a log scale, one line per source; dashed lines are the "
                                         "length step's bounds."], images=[("lengths", "length histograms")],
                        tables=[("cuts", tables.cuts_table(length_cuts))] if length_cuts else []))
    if sh["scores"]:
        score_cuts = {k: v for k, v in cuts.items() if k in sh["scores"]}
        out.append(_section("Scores", text=["Distributions of the kept documents' score columns (" +
                                            ", ".join(sh["scores"]) + "); dashed lines are the thresholds that "
                                            "cut them (from the recipe and the ranking steps' stats)."],
                            images=[("scores", "score histograms")],
                            tables=[("cuts", tables.cuts_table(score_cuts))] if score_cuts else []))
    else:
        out.append(_section("Scores", text=["No score columns (quality, toxicity, lm_loss ...) in the shards."]))
    if sh["years"] and set(sh["years"]) != {"(none)"}:
        out.append(_section("Timestamps", images=[("years", "documents per year")],
                            tables=[("", tables.counts_table(sh["years"], "year"))]))
    else:
        out.append(_section("Timestamps", text=["No timestamps."]))
    if rej["cluster_sizes"]:
        out.append(_section("Deduplication", text=["Cluster size = the kept document + the duplicates removed "
                                                   "in its favour (rejected rows naming it in duplicate_of)."],
                            images=[("dedup_clusters", "duplicate cluster sizes")],
                            tables=[("", tables.clusters_table(rej["cluster_sizes"]))]))
    else:
        out.append(_section("Deduplication", text=["No duplicates removed (or no dedup step, or no rejected/)."]))
    if sh["skills"]:
        out.append(_section("Skills", images=[("skills", "documents and tokens per skill")],
                            tables=[("", tables.counts_table(sh["skills"], "skill"))]))
    else:
        out.append(_section("Skills", text=["No `skill` column (no skill_* step)."]))
    if phases:
        out.append(_section("Phases", text=["Per phase of the recipe's [[phases]] (the mixers' plan): tokens "
                                            "available per group, planned, and the epochs that implies."],
                            images=[("phases", "planned vs available tokens per phase")],
                            tables=[(f"phase {p['phase']}: {p['num_tokens']:,} tokens, strategy {p['strategy']}, "
                                     f"group_by {p['group_by']}", tables.phase_table(p)) for p in phases]))
    else:
        out.append(_section("Phases", text=["No [[phases]] in the recipe (or the recipe is not reachable)."]))
    samples = [(f"source {src}", docs) for src, docs in sh["samples"].items()]
    samples += [(f"dropped: {key}", docs) for key, docs in rej["samples"].items()]
    text = ["A few documents per source and per drop reason: those with the smallest seeded hash of their "
            "id (the same for every run), text cut to 600 characters."]
    if rej["samples"] and not any(d.get("text") for docs in rej["samples"].values() for d in docs):
        text.append("Dropped documents show their ids and lineage (input_file, input_row); "
                    "`[output] rejected = \"full\"` keeps their text in rejected/.")
    out.append(_section("Samples", text=text, samples=samples))
    if notes:
        out.append(_section("Notes", text=notes))
    return out
