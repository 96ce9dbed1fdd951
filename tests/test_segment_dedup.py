"""line_dedup / paragraph_dedup: exact outputs on tiny inline data, a per-row Python reference on
the real web sample (boilerplate lines), exact vs Bloom removals, spill partitions, 1 vs 2
workers, and resume after SIGKILL."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.dedup import bloom, cluster, repeats
from curate.errors import RecipeError
from curate.recipe import load_recipe
from curate.steps.step import ResolveContext
from curate.text.segments import drop_segments, segment_keys, split_segments
from tests.conftest import read_sample, write_jsonl, write_recipe


def build(tmp_path: Path, docs: list[dict], step: str, out: str = "out", workers: int = 1, files: int = 1):
    for i in range(files):
        write_jsonl(tmp_path / "data" / f"part-{i}.jsonl", docs[i::files] if files > 1 else docs)
    recipe = write_recipe(tmp_path / f"{out}.toml", f"""
[recipe]
name = "segments"
[[sources]]
name = "web"
paths = ["data/part-*.jsonl"]
[[steps]]
{step}
[output]
dir = "{out}"
batch_rows = 7
""")
    return curate.build(load_recipe(recipe), workers=workers)


def kept_text(manifest) -> dict[str, str]:
    df = curate.scan(manifest.root).collect()
    return dict(zip(df["id"], df["text"]))


def rejected(manifest) -> pl.DataFrame:
    return pl.read_parquet(str(manifest.root / "rejected" / "*.parquet")).sort("input_row")


def global_stats(manifest) -> dict:
    return next(iter(json.loads((manifest.root / "stats.json").read_text())["global_steps"].values()))


TINY = [
    {"id": "a", "text": "Accept cookies\nThe cat sat.\nShare"},
    {"id": "b", "text": "Accept cookies\nA dog ran.\n\nShare"},
    {"id": "c", "text": "  Accept cookies  \n"},
    {"id": "d", "text": "A dog ran.\nNew line here"},
]


def test_keep_first_removes_later_copies_and_drops_a_document_left_blank(tmp_path):
    m = build(tmp_path, TINY, 'use = "line_dedup"\nmin_chars = 6')
    assert kept_text(m) == {"a": "Accept cookies\nThe cat sat.\nShare",
                            "b": "A dog ran.\n\nShare",      # "Share" is under min_chars: kept
                            "d": "New line here"}
    r = rejected(m)
    assert r["id"].to_list() == ["c"] and r["reason"].to_list() == ["all_lines_duplicate"]
    s = global_stats(m)
    assert (s["num_segments"], s["num_candidates"], s["num_repeated"], s["num_removed"]) == (11, 7, 2, 3)
    assert (s["num_docs_changed"], s["num_docs_dropped"]) == (2, 1)
    assert s["chars_removed"] == len("Accept cookies") + len("  Accept cookies  ") + len("A dog ran.")


def test_keep_none_removes_every_copy_of_a_line_seen_more_than_max_count_times(tmp_path):
    m = build(tmp_path, TINY, 'use = "line_dedup"\nkeep = "none"\nmax_count = 2')
    assert kept_text(m) == {"a": "The cat sat.\nShare", "b": "A dog ran.\n\nShare", "d": TINY[3]["text"]}
    assert rejected(m)["id"].to_list() == ["c"]


def test_paragraph_dedup_splits_on_blank_lines_and_normalize_folds_case_and_digits(tmp_path):
    docs = [{"id": "a", "text": "Intro one.\n\nSign up for 3 offers!\nToday.\n\nEnd a."},
            {"id": "b", "text": "sign up for 7 offers\ntoday\n\nEnd b."},
            {"id": "c", "text": "Sign up for 3 offers!\nToday."}]
    m = build(tmp_path, docs, 'use = "paragraph_dedup"\nnormalize = true')
    assert kept_text(m) == {"a": docs[0]["text"], "b": "End b."}
    assert rejected(m)["reason"].to_list() == ["all_paragraphs_duplicate"]
    plain = build(tmp_path, docs, 'use = "paragraph_dedup"', out="plain")
    assert kept_text(plain) == {"a": docs[0]["text"], "b": docs[1]["text"]}


def reference(texts: list[str], sep: str, *, max_count: int, keep: str, min_chars: int) -> list[str | None]:
    """Per-row Python: the rule of curate/dedup/repeats.py on str.split / str.strip."""
    def key(p):
        k = p.strip()
        return k if len(k) >= max(min_chars, 1) else None

    total = Counter(k for t in texts for k in map(key, t.split(sep)) if k is not None)
    seen: Counter = Counter()
    out = []
    for t in texts:
        pieces, kept = t.split(sep), []
        for p in pieces:
            k = key(p)
            if k is not None:
                seen[k] += 1
                if (keep == "first" and seen[k] > max_count) or (keep == "none" and total[k] > max_count):
                    continue
            kept.append(p)
        new = sep.join(kept)
        out.append(None if len(kept) < len(pieces) and not new.strip() else new)
    return out


@pytest.mark.parametrize("keep,max_count,min_chars", [("first", 1, 1), ("none", 3, 10)])
def test_real_web_pages_match_the_python_reference(tmp_path, keep, max_count, min_chars):
    docs = read_sample()
    m = build(tmp_path, docs, f'use = "line_dedup"\nkeep = "{keep}"\nmax_count = {max_count}\n'
                              f'min_chars = {min_chars}', files=3)
    order = [d for i in range(3) for d in docs[i::3]]  # input order: part-0, part-1, part-2
    want = reference([d["text"] for d in order], "\n", max_count=max_count, keep=keep, min_chars=min_chars)
    expected = {d["id"]: t for d, t in zip(order, want) if t is not None}
    got = kept_text(m)
    assert got == expected
    assert sum(a != b["text"] for a, b in zip(want, order)) > 40  # boilerplate was really removed
    assert len(rejected(m)) == sum(t is None for t in want)


def test_bloom_removes_a_superset_of_exact_and_with_room_the_same(tmp_path):
    docs = read_sample()
    exact = build(tmp_path, docs, 'use = "line_dedup"', out="exact", files=2)
    roomy = build(tmp_path, docs, 'use = "line_dedup"\nmethod = "bloom"\nbloom_fp_rate = 1e-9', out="roomy", files=2)
    assert kept_text(roomy) == kept_text(exact)
    default = build(tmp_path, docs, 'use = "line_dedup"\nmethod = "bloom"', out="default", files=2)
    s, e = global_stats(default), global_stats(exact)
    assert s["bloom_kind"] == "bits" and s["bloom_fp_rate"] <= 0.001
    assert s["bloom_bytes"] >= e["num_candidates"] * 14.3 / 8  # 14.4 bits per line at 0.001
    extra = s["num_removed"] - e["num_removed"]
    assert 0 <= extra <= 0.003 * e["num_candidates"]  # false positives: at most ~the stated rate
    for doc_id, text in kept_text(default).items():  # every bloom text is the exact text minus some lines
        lines = iter(kept_text(exact)[doc_id].split("\n"))
        assert all(line in lines for line in text.split("\n"))
    counting = build(tmp_path, docs, 'use = "line_dedup"\nmethod = "bloom"\nmax_count = 2\nkeep = "none"\n'
                                     'bloom_fp_rate = 1e-9', out="counting", files=2)
    exact2 = build(tmp_path, docs, 'use = "line_dedup"\nmax_count = 2\nkeep = "none"', out="exact2", files=2)
    assert kept_text(counting) == kept_text(exact2)
    assert global_stats(counting)["bloom_kind"] == "counters"


@settings(deadline=None, derandomize=True, max_examples=60)
@given(st.lists(st.integers(0, 6), max_size=60), st.integers(1, 3), st.booleans(), st.integers(1, 3))
def test_exact_and_bloom_removals_follow_the_rule(tmp_path_factory, keys, max_count, keep_first, batches):
    """Exact = the rule on any batching and partitioning; a tiny Bloom filter removes a superset."""
    arr = np.array(keys, np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # key 0 stays 0: no candidate
    chunks = np.array_split(arr, batches)
    total = Counter(keys)
    seen: Counter = Counter()
    want = []
    for k in keys:
        seen[k] += 1
        want.append(k != 0 and (seen[k] > max_count if keep_first else total[k] > max_count))
    scratch = tmp_path_factory.mktemp("repeats")
    parts = []
    for i, chunk in enumerate(chunks):  # one part per chunk, its keys split over two documents
        half = len(chunk) // 2
        parts.append(scratch / f"part{i}.parquet")
        lists = pa.LargeListArray.from_arrays(pa.array([0, half, len(chunk)]), pa.array(chunk, pa.uint64()))
        pq.write_table(pa.table({"keys": lists}), parts[-1])
    ctx = ResolveContext(part_paths=parts, decision_paths=[], scratch_dir=scratch / "exact", seed=0, num_workers=1)

    def removed(method, **kw):
        ctx_m = dataclasses.replace(ctx, scratch_dir=scratch / method)
        plan, _ = repeats.find_removals(ctx_m, "keys", method=method, max_count=max_count, keep_first=keep_first, **kw)
        return np.concatenate([repeats.removed_mask(plan, i) for i in range(len(parts))])

    assert removed("exact").tolist() == want
    got = removed("bloom", fp_rate=0.5, max_bytes=1)
    assert not (np.array(want, bool) & ~got).any()


def test_spill_into_many_partitions_gives_the_same_removals(tmp_path, monkeypatch):
    docs = read_sample(120)
    one = build(tmp_path, docs, 'use = "line_dedup"', out="one")
    monkeypatch.setattr(cluster, "PARTITION_ENTRIES", 64)
    many = build(tmp_path, docs, 'use = "line_dedup"', out="many", workers=2)
    assert global_stats(many)["num_partitions"] > 8 and global_stats(one)["num_partitions"] == 1
    assert kept_text(many) == kept_text(one)


@pytest.mark.parametrize("step", ['use = "line_dedup"', 'use = "line_dedup"\nmethod = "bloom"\nmax_count = 2',
                                  'use = "paragraph_dedup"\nkeep = "none"'])
def test_one_and_two_workers_give_identical_shards(tmp_path, step):
    docs = read_sample(150)
    one = build(tmp_path, docs, step, out="w1", files=4)
    two = build(tmp_path, docs, step, out="w2", files=4, workers=2)
    shards = sorted(p.name for p in (one.root / "shards").glob("*.parquet"))
    assert shards and shards == sorted(p.name for p in (two.root / "shards").glob("*.parquet"))
    for name in shards:
        assert (one.root / "shards" / name).read_bytes() == (two.root / "shards" / name).read_bytes()
    assert global_stats(one) == global_stats(two)


def test_segments_round_trip_and_drop():
    text = pa.array(["a\nb\nc", "", "x\n", "p1\n\np2\n\n\np3"], pa.large_string())
    pieces, offsets = split_segments(text, "line")
    assert offsets.tolist() == [0, 3, 4, 6, 12]
    assert drop_segments(pieces, offsets, np.zeros(len(pieces), bool), "line").to_pylist() == text.to_pylist()
    gone = np.zeros(len(pieces), bool)
    gone[[1, 5, 6]] = True
    assert drop_segments(pieces, offsets, gone, "line").to_pylist() == ["a\nc", "", "x", "\np2\n\n\np3"]
    paras, p_off = split_segments(text, "paragraph")
    assert paras.to_pylist()[-3:] == ["p1", "p2", "\np3"] and p_off.tolist() == [0, 1, 2, 3, 6]
    keys = segment_keys(pa.array(["  Hi  ", "Hi", "", "   ", "!!", "Hi!"], pa.large_string()), min_chars=2,
                        normalize=False)
    assert keys[0] == keys[1] != 0 and keys[2] == keys[3] == 0 and keys[4] != 0 and keys[5] != keys[1]
    norm = segment_keys(pa.array(["Hi!", "hi", "!!", "Year 1999", "year 2024"], pa.large_string()), min_chars=1,
                        normalize=True)
    assert norm[0] == norm[1] and norm[2] == 0 and norm[3] == norm[4] != 0


def test_bloom_sizing_follows_the_formula():
    size = bloom.bloom_size(1000, 0.01, 1 << 30, counting=False)
    assert (size.num_slots, size.num_hashes, size.num_bytes) == (9600, 7, 1200)
    assert 0.009 < size.fp_rate < 0.01
    capped = bloom.bloom_size(10**6, 0.001, 1024, counting=True)
    assert capped.num_bytes == 1024 and capped.num_hashes == 1 and capped.fp_rate > 0.99


def test_recipe_errors_name_the_key(tmp_path):
    for body, words in [('use = "line_dedup"\nmax_count = 0', "max_count=0 is out of range"),
                        ('use = "line_dedup"\nmethod = "bloom"\nmax_count = 300', "max_count=300 is above 254"),
                        ('use = "paragraph_dedup"\nkeep = "last"', "keep: got 'last'"),
                        ('use = "line_dedup"\nbloom_fp_rate = 0.9', "bloom_fp_rate=0.9")]:
        with pytest.raises(RecipeError, match=words):
            build(tmp_path, TINY, body)


RESUME_STEPS = {
    "line_exact": '[[steps]]\nuse = "line_dedup"\nmin_chars = 5',
    "line_bloom": '[[steps]]\nuse = "line_dedup"\nmethod = "bloom"\nkeep = "none"\nmax_count = 2',
    "paragraph": '[[steps]]\nuse = "paragraph_dedup"',
}


@pytest.mark.parametrize("step,workers", [("line_exact", 1), ("line_bloom", 2), ("paragraph", 1)])
def test_killed_and_resumed_equals_uninterrupted(tmp_path, step, workers):
    from tests.test_resume import (FAULTS, killed_build, make_inputs, make_recipe, stats_without_timings,
                                   tree_bytes)

    make_inputs(tmp_path)
    reference_build = curate.build(make_recipe(tmp_path, RESUME_STEPS[step], out="ref"))
    recipe = make_recipe(tmp_path, RESUME_STEPS[step])
    for fault in FAULTS:
        ended = killed_build(recipe, fault, workers, tmp_path)
        assert ended == "SIGKILL" or "was killed by the kernel" in ended
        assert not (tmp_path / "out" / "manifest.json").exists()
    resumed = curate.build(load_recipe(recipe), workers=workers)
    assert tree_bytes(resumed.root) == tree_bytes(reference_build.root)
    assert stats_without_timings(resumed.root) == stats_without_timings(reference_build.root)
    assert global_stats(resumed)["num_removed"] > 0


def test_a_corpus_emptied_before_the_steps_builds(tmp_path):
    m = build(tmp_path, TINY, 'use = "length"\nmin_words = 1000\n[[steps]]\nuse = "line_dedup"\n'
                              '[[steps]]\nuse = "url_dedup"')
    stats = json.loads((m.root / "stats.json").read_text())
    assert stats["total"]["kept"] == 0 and stats["total"]["steps"][0]["dropped"] == {"too_few_words": 4}
    line, url = stats["global_steps"].values()
    assert (line["num_segments"], line["num_removed"], url["num_docs"], url["num_duplicates"]) == (0, 0, 0, 0)
