"""Helpers for the engine tests: shipped recipes on a subset of their own inputs, output digests."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import zstandard

from curate.build import build
from curate.commands.sections import load_full_recipe
from curate.recipe import Recipe, source_files

REPO = Path(__file__).resolve().parents[1]
#: Shipped recipes that build without a trained model (annotate needs a classifier, salt an LM,
#: skillit*'s inputs come from `curate lego`).
RECIPES = ["quickstart", "web_dedup", "web_quality", "tokens", "meco", "meco_standard", "schedules", "phases"]


def _head(path: Path, limit: int) -> list[str]:
    raw = open(path, "rb")
    stream = zstandard.ZstdDecompressor().stream_reader(raw) if path.suffix == ".zst" else raw
    out = []
    for line in io.TextIOWrapper(stream, encoding="utf-8"):
        out.append(line)
        if len(out) == limit:
            break
    raw.close()
    return out


def shipped_recipe(name: str, tmp: Path, docs_per_file: int) -> Recipe:
    """recipes/<name>.toml on the first ``docs_per_file`` documents of each of its own inputs,
    with its output (and any saved index) under ``tmp``."""
    recipe = load_full_recipe(REPO / "recipes" / f"{name}.toml")
    sources = []
    for i, src in enumerate(recipe.sources):
        files = [f for s, f in source_files(recipe) if s is src]
        paths = []
        for j, f in enumerate(files):
            sub = tmp / "inputs" / f"{i}-{j}.jsonl"
            sub.parent.mkdir(parents=True, exist_ok=True)
            sub.write_text("".join(_head(f, docs_per_file)), encoding="utf-8")
            paths.append(str(sub))
        sources.append(dataclasses.replace(src, paths=tuple(paths), format="jsonl"))
    steps = tuple(dataclasses.replace(s, save_index=tmp / "index") if getattr(s, "save_index", None) else s
                  for s in recipe.steps)
    return dataclasses.replace(recipe, sources=tuple(sources), steps=steps,
                               output=dataclasses.replace(recipe.output, dir=tmp / "out"))


def digests(root: Path, extra: Path | None = None) -> dict[str, str]:
    """sha256 of every file of a finished build (stats.json without its timings), and of ``extra``."""
    out = {}
    for base in [root] + ([extra] if extra is not None and extra.exists() else []):
        for p in sorted(base.rglob("*")):
            if not p.is_file():
                continue
            data = p.read_bytes()
            if p.name == "stats.json":
                stats = json.loads(data)
                stats.pop("seconds"), stats.pop("input_mb_per_s")
                data = json.dumps(stats, sort_keys=True).encode()
            out[f"{base.name}/{p.relative_to(base)}"] = hashlib.sha256(data).hexdigest()
    return out


def build_digests(recipe: Recipe, engine) -> dict[str, str]:
    """Build ``recipe`` afresh with ``engine``; the digests of everything it wrote."""
    shutil.rmtree(recipe.output.dir, ignore_errors=True)
    for step in recipe.steps:
        if getattr(step, "save_index", None):
            shutil.rmtree(step.save_index, ignore_errors=True)
    build(recipe, engine=engine)
    index = next((s.save_index for s in recipe.steps if getattr(s, "save_index", None)), None)
    return digests(recipe.output.dir, index)


def run_curate(args: list[str], env: dict[str, str] | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    """``python -m curate ARGS`` in a subprocess (``prelude``: Python run first, e.g. to shrink
    partition sizes), with this repository first on the path."""
    full = dict(os.environ, **(env or {}))
    full["PYTHONPATH"] = str(REPO) + os.pathsep + full.get("PYTHONPATH", "")
    code = f"{prelude}\nimport sys\nfrom curate.cli import main\nsys.exit(main({args!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, cwd=REPO)


def planted_corpus(root: Path, num_files: int = 6, num_bases: int = 120) -> Path:
    """JSONL files of real pages from tests/data, each followed by a chain of near-duplicates (every
    link edits ~2% of the previous one's words, so clusters are long paths that take several
    connected-components rounds) and some exact copies, shuffled over ``num_files`` files; and a
    recipe ``planted.toml`` (length, exact_dedup, minhash_dedup with a saved index) next to them."""
    import random

    lines = _head(REPO / "tests" / "data" / "web_sample.jsonl.zst", 10**9)
    docs = [d for d in map(json.loads, lines) if len(d["text"].split()) >= 80][:num_bases]
    rng = random.Random(7)
    records = []
    for d in docs:
        records.append({"id": d["id"], "text": d["text"], "url": d.get("url")})
        text = d["text"]
        for k in range(rng.randrange(0, 9)):
            words = text.split(" ")
            for pos in rng.sample(range(len(words)), max(1, len(words) // 50)):
                words[pos] = rng.choice(words)
            text = " ".join(words)
            records.append({"id": f"{d['id']}~{k}", "text": text, "url": d.get("url")})
        if rng.random() < 0.3:
            records.append({"id": f"{d['id']}~copy", "text": d["text"], "url": d.get("url")})
    rng.shuffle(records)
    root.mkdir(parents=True, exist_ok=True)
    for f in range(num_files):
        (root / f"in{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[f::num_files]))
    (root / "planted.toml").write_text(
        '[recipe]\nname = "planted"\n[[sources]]\nname = "a"\npaths = ["in[0-2].jsonl"]\n'
        '[[sources]]\nname = "b"\npaths = ["in[3-9].jsonl"]\n'
        '[[steps]]\nuse = "length"\nmin_words = 20\n[[steps]]\nuse = "exact_dedup"\n'
        '[[steps]]\nuse = "minhash_dedup"\nthreshold = 0.6\nsave_index = "index"\n'
        '[output]\ndir = "out"\n')
    return root / "planted.toml"


#: Python run before a CLI build so the planted corpus spans several shuffle partitions and ranges.
SMALL_PARTITIONS = ("import curate.engines.shuffle as s, curate.dedup.cluster as c, curate.dedup.exact as e\n"
                    "s.RANGE_DOCS = 97; c.PARTITION_ENTRIES = 2000; e.PARTITION_ROWS = 300")


def phased_steps_recipe(planted: Path) -> Path:
    """Next to a :func:`planted_corpus`: a recipe of the resolve-phase steps of issue 15
    (decontaminate against passages of its own documents, line_dedup, paragraph_dedup with a
    Bloom filter, url_dedup); returns its path."""
    docs = [json.loads(line) for line in (planted.parent / "in0.jsonl").read_text().splitlines()]
    passages = [" ".join(d["text"].split()[5:25]) for d in docs[:40:8]]
    (planted.parent / "evals.jsonl").write_text("".join(json.dumps({"text": p}) + "\n" for p in passages))
    path = planted.parent / "phased.toml"
    path.write_text(
        '[recipe]\nname = "phased"\n[[sources]]\nname = "a"\npaths = ["in*.jsonl"]\n'
        '[[steps]]\nuse = "decontaminate"\nngram_size = 8\naction = "spans"\n'
        '[[steps.eval_sets]]\nname = "own"\npaths = ["evals.jsonl"]\n'
        '[[steps]]\nuse = "line_dedup"\nmin_chars = 20\n'
        '[[steps]]\nuse = "paragraph_dedup"\nmethod = "bloom"\nkeep = "none"\nmax_count = 3\n'
        '[[steps]]\nuse = "url_dedup"\nrule = "longest"\n'
        '[output]\ndir = "phased-out"\n')
    return path

