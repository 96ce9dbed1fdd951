"""The character-table cache file (``curate/text/table_cache.py``): created on first use, reused,
and rebuilt, never trusted, when damaged; a build over a damaged cache gives the same shards."""

from __future__ import annotations

import numpy as np

import curate
from curate.recipe import load_recipe
from curate.text import charclass as cc
from curate.text.table_cache import MAGIC, cached_table, table_path
from tests.conftest import run_cli, write_jsonl, write_recipe, read_sample
from tests.test_build import shard_bytes

SOURCES = (cc.__name__, cc.ref.__name__)


def counting_build():
    calls = []

    def build():
        calls.append(1)
        return cc.build_char_flags()

    return build, calls


def test_cache_file_is_created_reused_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    reference = cc.build_char_flags()
    build, calls = counting_build()
    first = cached_table("char_flags", build, SOURCES, np.uint32)
    path = table_path("char_flags", np.uint32, SOURCES)
    assert path.is_file() and path.read_bytes().startswith(MAGIC) and calls == [1]
    assert np.array_equal(first, reference)
    assert np.array_equal(cached_table("char_flags", build, SOURCES, np.uint32), reference) and calls == [1]
    blob = path.read_bytes()
    for damaged in (b"garbage", blob[: len(blob) // 2], blob[:100] + b"\x00" * 8 + blob[108:]):
        path.write_bytes(damaged)
        table = cached_table("char_flags", build, SOURCES, np.uint32)
        assert np.array_equal(table, reference) and path.read_bytes() == blob  # rebuilt and rewritten
    assert len(calls) == 4


def test_unwritable_cache_dir_still_gives_the_table(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a dir")
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "file" / "cache"))
    assert np.array_equal(cached_table("char_flags", cc.build_char_flags, SOURCES, np.uint32),
                          cc.build_char_flags())


def test_a_build_over_a_garbage_cache_file_gives_the_same_shards(tmp_path, monkeypatch):
    write_jsonl(tmp_path / "web.jsonl", read_sample(60))
    recipe = write_recipe(tmp_path / "recipe.toml", """
[recipe]
name = "cache"
[[sources]]
name = "web"
paths = ["web.jsonl"]
[[steps]]
use = "gopher_quality"
[[steps]]
use = "fineweb_quality"
[output]
dir = "out"
""")
    expected = shard_bytes(curate.build(load_recipe(recipe)).root)  # this process's table: built or loaded
    cache = tmp_path / "cache"
    monkeypatch.setenv("CURATE_CACHE_DIR", str(cache))
    path = table_path("char_flags", np.uint32, SOURCES)
    path.parent.mkdir(parents=True)
    path.write_bytes(MAGIC + b"\xff" * 4096)
    done = run_cli("build", str(recipe), "--overwrite", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert shard_bytes(tmp_path / "out") == expected
    assert np.array_equal(np.frombuffer(path.read_bytes()[len(MAGIC):-32], np.uint32), cc.build_char_flags())
