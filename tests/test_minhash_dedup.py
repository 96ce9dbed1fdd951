"""minhash_dedup end to end: planted near-duplicates of real web pages, 1 vs 2 workers, the
cross-corpus index, keep = "max", recipe errors."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curate.build import build
from curate.commands.stats import funnel_lines
from curate.dedup import cluster
from curate.errors import CurateError, RecipeError
from curate.recipe import load_recipe
from curate.steps.minhash_dedup import MinHashDedup
from curate.steps.step import ResolveContext

DATA = Path(__file__).parent / "data" / "web_sample.jsonl.zst"
BOILERPLATE = ("Subscribe to our newsletter to get the latest stories delivered to your inbox "
               "every week. We respect your privacy and you can unsubscribe at any time.")


def words_of(text: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", text.lower()) if w]


def jaccard(a: str, b: str, n: int = 5) -> float:
    wa, wb = words_of(a), words_of(b)
    sa = {tuple(wa[i:i + n]) for i in range(len(wa) - n + 1)}
    sb = {tuple(wb[i:i + n]) for i in range(len(wb) - n + 1)}
    return len(sa & sb) / len(sa | sb)


def variants(text: str, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) near-duplicates of a real document."""
    words = text.split(" ")
    out = []
    for rate in (0.005, 0.02, 0.1, 0.3):
        edited = list(words)
        for pos in rng.sample(range(len(words)), max(1, int(rate * len(words)))):
            edited[pos] = rng.choice(words)
        out.append((f"edit{rate}", " ".join(edited)))
    paragraphs = text.split("\n")
    cut = rng.randrange(len(paragraphs) + 1)
    out.append(("boilerplate", "\n".join(paragraphs[:cut] + [BOILERPLATE] + paragraphs[cut:])))
    if len(paragraphs) >= 2:
        i, j = rng.sample(range(len(paragraphs)), 2)
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
        out.append(("swap", "\n".join(paragraphs)))
    return out


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, list[dict]]:
    """Three JSONL files of real pages (mutually unrelated) and their planted variants, shuffled."""
    lines = zstandard.ZstdDecompressor().stream_reader(DATA.open("rb")).read().splitlines()
    docs = [d for d in map(json.loads, lines) if 150 <= len(d["text"].split()) <= 3000]
    bases: list[dict] = []
    for d in docs:
        if all(jaccard(d["text"], b["text"]) < 0.2 for b in bases):
            bases.append(d)
        if len(bases) == 40:
            break
    rng = random.Random(0)
    records = []
    for b in bases:
        records.append({"id": b["id"], "text": b["text"], "origin": b["id"], "kind": "base"})
        for k, (kind, text) in enumerate(variants(b["text"], rng)):
            records.append({"id": f"{b['id']}~{k}", "text": text, "origin": b["id"], "kind": kind})
    records.append({"id": "empty", "text": "", "origin": "empty", "kind": "base"})
    rng.shuffle(records)
    root = tmp_path_factory.mktemp("planted")
    for f in range(3):
        with open(root / f"in{f}.jsonl", "w") as out:
            for r in records[f::3]:
                out.write(json.dumps(r) + "\n")
    return root, records


def run(root: Path, name: str, files: list[str], step: str, workers: int = 1) -> Path:
    paths = ", ".join(f'"{f}"' for f in files)
    (root / f"{name}.toml").write_text(
        f'[recipe]\nname = "{name}"\n[[sources]]\nname = "web"\npaths = [{paths}]\n'
        f'[[steps]]\nuse = "minhash_dedup"\n{step}\n[output]\ndir = "out_{name}"\n')
    build(load_recipe(root / f"{name}.toml"), workers=workers, overwrite=True)
    return root / f"out_{name}"


def cluster_of(out: Path) -> dict[str, str]:
    """doc id -> id of the document its cluster kept."""
    result: dict[str, str] = {}
    for p in sorted((out / "shards").glob("*.parquet")):
        kept = pq.read_table(p)
        result.update(zip(kept.column("id").to_pylist(), kept.column("dup_cluster").to_pylist()))
    for p in sorted((out / "rejected").glob("*.parquet")):
        t = pq.read_table(p)
        assert set(t.column("reason").to_pylist()) == {"minhash_duplicate"}
        result.update(zip(t.column("id").to_pylist(), t.column("duplicate_of").to_pylist()))
    return result


def test_planted_near_duplicates_are_found_and_unrelated_pages_kept_apart(planted):
    root, records = planted
    out = run(root, "planted", ["in0.jsonl", "in1.jsonl", "in2.jsonl"], "")
    found = cluster_of(out)
    text = {r["id"]: r["text"] for r in records}
    origin = {r["id"]: r["origin"] for r in records}
    pairs = [(r["origin"], r["id"], jaccard(text[r["origin"]], r["text"])) for r in records
             if r["kind"] != "base"]
    high = [found[a] == found[b] for a, b, j in pairs if j >= 0.85]
    low = [found[a] == found[b] for a, b, j in pairs if j < 0.4]
    # 14 bands x 9 rows: P(candidate) >= 0.975 at Jaccard 0.85 and <= 0.005 at 0.4
    assert len(high) >= 100 and np.mean(high) >= 0.95
    assert len(low) >= 20 and np.mean(low) <= 0.1
    members: dict[str, set[str]] = {}
    for doc, kept in found.items():
        members.setdefault(kept, set()).add(origin[doc])
    assert all(len(origins) == 1 for origins in members.values())  # no merge across pages
    stats = orjson.loads((out / "stats.json").read_bytes())["global_steps"]["0:minhash_dedup"]
    assert stats["num_without_shingles"] == 1 and found["empty"] == "empty"
    assert stats["num_duplicates"] == sum(d != k for d, k in found.items())
    assert sum(int(v) for v in stats["cluster_size_histogram"].values()) == stats["num_clusters"]
    lines = funnel_lines(orjson.loads((out / "stats.json").read_bytes()))
    near = f"near {stats['num_duplicates']:,} (in {stats['num_clusters']:,} groups)"
    assert f"duplicates removed: {near}" in lines
    hist = ", ".join(f"{k}: {v:,}" for k, v in stats["cluster_size_histogram"].items())
    assert f"  cluster_size_histogram: {hist}" in lines
    shards = pq.read_table(out / "shards")
    sizes = dict(zip(shards.column("dup_cluster").to_pylist(),
                     shards.column("dup_cluster_size").to_pylist()))
    counts: dict[str, int] = {}
    for kept in found.values():
        counts[kept] = counts.get(kept, 0) + 1
    assert sizes == counts


def test_one_and_two_workers_give_identical_outputs(planted, monkeypatch):
    root, _ = planted
    monkeypatch.setattr(cluster, "PARTITION_ENTRIES", 256)  # many partitions, processed in parallel
    files = ["in0.jsonl", "in1.jsonl", "in2.jsonl"]
    outs = [run(root, f"w{w}", files, "", workers=w) for w in (1, 2)]
    stats = [orjson.loads((o / "stats.json").read_bytes())["global_steps"] for o in outs]
    assert stats[0] == stats[1] and stats[0]["0:minhash_dedup"]["num_partitions"] > 4
    for sub in ("shards", "rejected"):
        names = sorted(p.name for p in (outs[0] / sub).glob("*.parquet"))
        assert names and names == sorted(p.name for p in (outs[1] / sub).glob("*.parquet"))
        for name in names:
            assert (outs[0] / sub / name).read_bytes() == (outs[1] / sub / name).read_bytes()


def test_index_of_an_earlier_build_removes_old_duplicates_and_names_them(planted):
    root, records = planted
    old = run(root, "old", ["in0.jsonl"], 'save_index = "index_old"')
    old_kept = set(pq.read_table(old / "shards").column("id").to_pylist())
    num_indexed = orjson.loads((root / "index_old" / "index.json").read_bytes())["num_docs"]
    assert num_indexed == len(old_kept - {"empty"})  # a document without words has no signature
    new = run(root, "new", ["in1.jsonl", "in2.jsonl"],
              'against = ["index_old"]\nsave_index = "index_new"')
    found = cluster_of(new)
    origin = {r["id"]: r["origin"] for r in records}
    stats = orjson.loads((new / "stats.json").read_bytes())["global_steps"]["0:minhash_dedup"]
    of_index = {d: k for d, k in found.items() if k in old_kept}
    assert stats["num_duplicates_of_index"] == len(of_index) > 10
    assert all(origin[d] == origin[k] for d, k in of_index.items())
    # every new document with a close (Jaccard >= 0.9) relative in the old build is removed
    text = {r["id"]: r["text"] for r in records}
    close = [d for d in found if any(origin[k] == origin[d] and jaccard(text[k], text[d]) >= 0.9
                                     for k in old_kept if k != "empty")]
    assert len(close) > 10 and np.mean([found[d] in old_kept for d in close]) >= 0.95
    # incremental: a third batch is checked against both indexes without re-hashing either corpus
    new_kept = pq.read_table(new / "shards").to_pydict()
    copies = {f"again-{i}": doc for i, doc in enumerate(new_kept["id"])}
    with open(root / "in3.jsonl", "w") as f:
        for copy_id, text in zip(copies, new_kept["text"]):
            f.write(json.dumps({"id": copy_id, "text": text}) + "\n")
    again = cluster_of(run(root, "third", ["in3.jsonl"], 'against = ["index_old", "index_new"]'))
    assert all(again[c] == doc for c, doc in copies.items() if doc != "empty")


def test_index_parameters_must_match(planted):
    root, _ = planted
    run(root, "idx", ["in0.jsonl"], 'save_index = "index_p"')
    with pytest.raises(CurateError, match="ngram_size"):
        run(root, "mismatch", ["in1.jsonl"], 'against = ["index_p"]\nngram_size = 3')
    (root / "not_an_index").mkdir()
    (root / "not_an_index" / "x").write_text("mine")
    with pytest.raises(CurateError, match="refusing"):
        run(root, "clobber", ["in1.jsonl"], 'save_index = "not_an_index"')


def test_save_index_never_deletes_a_directory_curate_did_not_create(planted):
    root, _ = planted
    user_dir = root / "mine.tmp"  # a user's directory that happens to sit where the temp dir goes
    user_dir.mkdir()
    (user_dir / "thesis.txt").write_text("years of work")
    with pytest.raises(CurateError, match=r"mine\.tmp exists and was not made by curate"):
        run(root, "tmpclash", ["in0.jsonl"], 'save_index = "mine"')
    assert (user_dir / "thesis.txt").read_text() == "years of work"
    assert not (root / "mine").exists()
    fake = root / "fake_index"  # has an index.json, but not curate's
    fake.mkdir()
    (fake / "index.json").write_text('{"format": "something-else"}')
    with pytest.raises(CurateError, match="is not a curate MinHash index"):
        run(root, "fakeclash", ["in0.jsonl"], 'save_index = "fake_index"')
    assert (fake / "index.json").read_text() == '{"format": "something-else"}'
    # curate's own leftovers (an interrupted save) are replaced; an index is overwritten
    (root / "ours.tmp").mkdir()
    (root / "ours.tmp" / ".curate-index-tmp").write_text("")
    run(root, "ours", ["in0.jsonl"], 'save_index = "ours"')
    run(root, "ours", ["in0.jsonl"], 'save_index = "ours"')
    assert sorted(p.name for p in (root / "ours").iterdir()) == ["docs.parquet", "index.json"]
    assert not (root / "ours.tmp").exists()


def test_keep_max_keeps_the_highest_score(tmp_path):
    step = MinHashDedup(keep="max", score_column="quality")
    text = "a long enough page about the weather in the mountains this week and the next one"
    batch = pa.RecordBatch.from_pydict({
        "id": ["a", "b", "c", "d"],
        "text": [text, text + " too", "something else entirely here", text],
        "quality": [0.2, 0.9, 0.5, None]})
    part = tmp_path / "part.parquet"
    pq.write_table(pa.Table.from_batches([step.prepare(batch)]), part)
    ctx = ResolveContext([part], [tmp_path / "d.parquet"], tmp_path / "scratch", 0, 1)
    stats = step.resolve(ctx)
    d = pq.read_table(tmp_path / "d.parquet").to_pydict()
    assert d["duplicate_of"] == ["b", None, None, "b"]
    assert d["dup_cluster"] == ["b", "b", "c", "b"] and d["dup_cluster_size"] == [3, 3, 1, 3]
    assert stats["num_clusters"] == 1 and stats["cluster_size_histogram"] == {"3-4": 1}


def test_recipe_parameters():
    assert (MinHashDedup().num_bands, MinHashDedup().rows_per_band) == (14, 9)
    strict = MinHashDedup(threshold=0.8)
    assert (strict.num_bands, strict.rows_per_band) == (9, 13)
    assert MinHashDedup(num_bands=20, rows_per_band=5).num_bands == 20
    with pytest.raises(ValueError, match="together"):
        MinHashDedup(num_bands=20)
    with pytest.raises(ValueError, match="score_column"):
        MinHashDedup(keep="max")
    from curate.steps.registry import make_step

    with pytest.raises(RecipeError, match="ngram_size"):
        make_step({"use": "minhash_dedup", "ngram_size": 0}, "steps[0]")
