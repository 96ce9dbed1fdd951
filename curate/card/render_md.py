"""``README.md``: a Hugging Face dataset card (YAML front matter + Markdown) from the card model.

The front matter has ``configs`` whose ``data_files`` are the manifest's shards (a ``default``
config over all of them, and one config per source when there are several), so that
``datasets.load_dataset(DIR)`` reads exactly the kept documents; ``language`` (the languages in
the ``lang`` column, else the recipe's ``lang_id.languages``), ``size_categories`` (HF's buckets
of the document count), ``license``, ``task_categories``, ``tags`` and ``pretty_name``. YAML
scalars are written as JSON strings (valid YAML), so no YAML library is needed.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from curate.card import tables

SIZE_BUCKETS = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"), (10**12, "100B<n<1T")]
CONFIG_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def size_category(num_docs: int) -> str:
    """HF ``size_categories`` bucket of a document count (``n<1K`` ... ``n>1T``)."""
    for bound, name in SIZE_BUCKETS:
        if num_docs < bound:
            return name
    return "n>1T"


def _q(s: str) -> str:
    return orjson.dumps(s).decode()


def _config(name: str, paths: list[str], default: bool = False) -> list[str]:
    lines = [f"- config_name: {_q(name)}"] + (["  default: true"] if default else [])
    lines += ["  data_files:", "  - split: train", "    path:"] + [f"    - {_q(p)}" for p in paths]
    return lines


def front_matter(card: dict[str, Any]) -> str:
    m = card["manifest"]
    lines = ["---", f"pretty_name: {_q(card['title'])}", f"license: {_q(card['license'])}"]
    if card["languages"]:
        lines += ["language:"] + [f"- {_q(lang)}" for lang in card["languages"]]
    lines += ["size_categories:", f"- {_q(size_category(card['shards']['num_docs']))}",
              "task_categories:", "- \"text-generation\"", "tags:", "- \"curate\""]
    if not card["data_files"]:  # no kept document: no config (a config without files does not load)
        return "\n".join(lines + ["---", ""])
    lines += ["configs:"] + _config("default", card["data_files"], default=True)
    by_source = {}
    for s in m.shards:
        by_source.setdefault(s.source, []).append(s.path)
    if len(by_source) > 1:
        for source, paths in by_source.items():
            if CONFIG_NAME_RE.match(source) and source != "default":
                lines += _config(source, paths)
    return "\n".join(lines + ["---", ""])


def md_table(table: tables.Table) -> list[str]:
    header, rows = table

    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows] + [""]


def _fence(text: str) -> list[str]:
    longest = max((len(m.group(0)) for m in re.finditer(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", text, fence, ""]


def _image(card, name: str, alt: str) -> list[str]:
    file = card["plots"].get(name)
    return [f"![{alt}]({card['plots_dir']}/{file})", ""] if file else []


def _sample_lines(doc: dict[str, Any]) -> list[str]:
    keys = [k for k in ("source", "url", "timestamp", "lang", "skill", "domain", "mix_group", "num_chars",
                        "num_tokens", "duplicate_of", "input_file", "input_row") if k in doc]
    meta = ", ".join(f"{k} `{doc[k]}`" for k in keys)
    out = [f"- id `{doc['id']}`" + (f" ({meta})" if meta else ""), ""]
    if doc.get("text"):
        out += _fence(doc["text"])
    return out


def render_md(card: dict[str, Any]) -> str:
    """The whole README.md."""
    m, sh = card["manifest"], card["shards"]
    lines = [front_matter(card), f"# {card['title']}", ""]
    lines += [p + "\n" for p in card["summary"]]
    lines += ["## Load it", "", "```python", "from datasets import load_dataset",
              f"ds = load_dataset({_q(card['load_path'])}, split=\"train\")   # the `default` config: every shard",
              "import polars as pl",
              f"df = pl.scan_parquet({_q(card['load_path'] + '/shards/*.parquet')})", "```", ""]
    for section in card["sections"]:
        lines += [f"## {section['title']}", ""]
        lines += [t + "\n" for t in section.get("text", [])]
        for name, alt in section.get("images", []):
            lines += _image(card, name, alt)
        for caption, table in section.get("tables", []):
            lines += ([f"**{caption}**", ""] if caption else []) + md_table(table)
        for caption, docs in section.get("samples", []):
            lines += [f"### {caption}", ""]
            for doc in docs:
                lines += _sample_lines(doc)
    lines += [f"Generated by `curate card` ({m.tool.name} {m.tool.version}); also see `card.html` beside this file.",
              ""]
    return "\n".join(lines)
