"""End to end through ``curate build``: a multilingual web source (real German, French and English
documents of ../shared/data/bench_corpus, through lang_id and FineWeb-2's German filters) and a code
repository dump (this repository's own files as JSONL with ``content`` + ``path``, through
code_quality). Same shards for --workers 1 and 2; read = kept + dropped; reasons recorded."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import polars as pl
import pytest

from curate.build import build
from curate.recipe import load_recipe

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"

RECIPE = """
[recipe]
name = "multi"
seed = 0

[[sources]]
name = "{name}"
paths = ["{input}"]
{fields}

{steps}

[output]
dir = "out"
max_shard_rows = 50
"""

WEB_STEPS = """
[[steps]]
use = "lang_id"
languages = ["de"]
min_score = 0.5

[[steps]]
use = "gopher_repetition"
language = "de"
thresholds = "fineweb2"

[[steps]]
use = "fineweb_quality"
language = "de"
thresholds = "fineweb2"

[[steps]]
use = "gopher_quality"
language = "de"
thresholds = "fineweb2"
"""

CODE_STEPS = """
[[steps]]
use = "code_quality"
"""


def run(tmp_path: Path, name: str, rows: list[dict], fields: str, steps: str, workers: int):
    root = tmp_path / f"w{workers}"
    root.mkdir()
    (root / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (root / "r.toml").write_text(RECIPE.format(name=name, input="in.jsonl", fields=fields, steps=steps))
    build(load_recipe(root / "r.toml"), workers=workers)
    stats = json.loads((root / "out" / "stats.json").read_text())["total"]
    shards = sorted((root / "out" / "shards").glob("*.parquet"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in shards)).hexdigest()
    return stats, pl.read_parquet(shards), digest


def test_german_web_source_through_fineweb2_filters(tmp_path):
    if not (DATA / "bench_corpus.jsonl.zst").is_file():
        pytest.skip("bench_corpus not present")
    zstandard = pytest.importorskip("zstandard")
    rows, counts = [], {"de": 0, "fr": 0, "en": 0}
    with open(DATA / "bench_corpus.jsonl.zst", "rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            rec = json.loads(line)
            lang = rec.get("lang")
            if lang in counts and counts[lang] < 30 and len(rec["text"]) < 20_000 and rec["source"] in ("debian/manpages", "debian/debian_manuals"):
                counts[lang] += 1
                rows.append({"id": rec["id"], "text": rec["text"]})
    one = run(tmp_path, "web", rows, "", WEB_STEPS, 1)
    two = run(tmp_path, "web", rows, "", WEB_STEPS, 2)
    stats, shards, digest = one
    assert digest == two[2]
    steps = {s["name"]: s for s in stats["steps"]}
    dropped = sum(n for s in stats["steps"] for n in s["dropped"].values())
    assert stats["read"] == len(rows) == stats["kept"] + dropped
    assert steps["lang_id"]["dropped"].get("lang_not_allowed", 0) >= 50  # the English and French pages
    assert 0 < stats["kept"] < counts["de"]
    assert set(shards["lang"].to_list()) == {"de"}


def counts_ok(stats) -> bool:
    return stats["read"] == stats["kept"] + sum(n for s in stats["steps"] for n in s["dropped"].values())


def test_code_repository_dump_through_code_quality(tmp_path):
    files = sorted(p for p in REPO.glob("curate/**/*.py") if p.stat().st_size >= 200)  # not the empty __init__s
    rows = [{"content": p.read_text(encoding="utf-8"), "path": str(p.relative_to(REPO)), "repo": "curate"}
            for p in files]
    rows.append({"content": "a,b\n1,2\n", "path": "data/table.csv", "repo": "curate"})
    for row in rows:  # the path stays in meta (an id field would leave it)
        row["sha"] = hashlib.sha1(row["content"].encode()).hexdigest()
    fields = '[sources.fields]\ntext = "content"\nid = "sha"'
    stats, shards, digest = run(tmp_path, "code", rows, fields, CODE_STEPS, 1)
    assert digest == run(tmp_path, "code", rows, fields, CODE_STEPS, 2)[2]
    assert stats["read"] == len(rows) and stats["kept"] == len(rows) - 2 and counts_ok(stats)
    assert {s["name"]: s for s in stats["steps"]}["code_quality"]["dropped"] == {
        "code_long_line": 1, "code_data_file": 1}  # curate/text/reference_data.py and the CSV
    assert set(shards["code_language"].to_list()) == {"Python"}
