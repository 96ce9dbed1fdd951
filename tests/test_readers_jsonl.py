"""JSONL edge cases: byte-order mark, lines longer than many read blocks, lineage numbering."""

from __future__ import annotations

import gzip
import json

import pyarrow.parquet as pq
import pytest
import zstandard

from curate.readers.jsonl import READ_BYTES
from tests.conftest import read_sample, run_cli, write_recipe
from tests.test_readers import read_all

BOM = "\ufeff".encode()


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_utf8_bom_is_stripped_not_quarantined(tmp_path, suffix):
    docs = read_sample(3)
    raw = BOM + "".join(json.dumps(d) + "\n" for d in docs).encode()
    path = tmp_path / f"bom.jsonl{suffix}"
    path.write_bytes(gzip.compress(raw) if suffix else raw)
    table, bad, chunks = read_all(path)
    assert bad == []
    assert table.column("id").to_pylist() == [d["id"] for d in docs]
    assert table.column("input_row").to_pylist() == [0, 1, 2]
    assert sum(c.num_bytes for c in chunks) == len(raw)


def test_bom_offset_of_a_bad_first_record_points_past_the_mark(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_bytes(BOM + b'{"text": 1}\n{"text": "ok"}\n')
    table, bad, _ = read_all(path)
    assert [(q["line"], q["byte_offset"], q["excerpt"]) for q in bad] == [(0, 3, '{"text": 1}\n')]
    assert table.column("input_row").to_pylist() == [1]


@pytest.mark.parametrize("suffix", ["", ".zst"])
def test_a_line_of_several_megabytes_is_read_whole(tmp_path, suffix):
    long_text = "".join(f"word{i} " for i in range(700_000))  # ~6 MB, several read blocks
    assert len(long_text) > 4 * READ_BYTES
    rows = [{"id": "a", "text": "short"}, {"id": "b", "text": long_text}, {"id": "c", "text": "tail"}]
    raw = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path = tmp_path / f"long.jsonl{suffix}"
    path.write_bytes(zstandard.ZstdCompressor().compress(raw) if suffix else raw)
    table, bad, chunks = read_all(path, batch_rows=10)
    assert bad == []
    assert table.column("text").to_pylist() == ["short", long_text, "tail"]
    assert sum(c.num_bytes for c in chunks) == len(raw)


def test_lineage_is_the_zero_based_physical_line_for_docs_and_quarantine(tmp_path):
    """input_row of a kept document and line of a quarantined record number the same thing."""
    path = tmp_path / "l.jsonl"
    path.write_bytes(b'{"text": "zero"}\n\n{"text": 2}\n   \n{"text": "four"}\n{"text": "five"}')
    table, bad, _ = read_all(path)
    assert table.column("input_row").to_pylist() == [0, 4, 5]
    assert table.column("id").to_pylist() == ["web/l.jsonl/0", "web/l.jsonl/4", "web/l.jsonl/5"]
    assert [(q["line"], q["byte_offset"]) for q in bad] == [(2, 18)]
    lines = path.read_bytes().split(b"\n")
    assert json.loads(lines[4])["text"] == "four" and lines[2].startswith(b'{"text": 2}')


def test_truncated_stream_record_names_the_line_it_broke_in(tmp_path):
    docs = read_sample(50)
    raw = "".join(json.dumps(d) + "\n" for d in docs).encode()
    blob = gzip.compress(raw)
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    table, bad, _ = read_all(path, batch_rows=1000)
    n = table.num_rows
    assert table.column("input_row").to_pylist() == list(range(n))
    starts = [0] + [i + 1 for i, b in enumerate(raw) if b == 10]
    assert [(q["line"], q["byte_offset"]) for q in bad] == [(n, starts[n])]


def test_built_quarantine_and_rejected_share_the_numbering(tmp_path):
    """Through a real build: quarantine `line` and rejected `input_row` are both physical lines."""
    (tmp_path / "in.jsonl").write_bytes(b'{"text": "keep me please"}\n\n{"bad json\n{"text": "x"}\n')
    recipe = write_recipe(tmp_path / "r.toml", """
[recipe]
name = "lineage"
[[sources]]
name = "s"
paths = ["in.jsonl"]
[[steps]]
use = "length"
min_chars = 5
[output]
dir = "out"
""")
    done = run_cli("build", str(recipe))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    assert pq.read_table(out / "shards").column("input_row").to_pylist() == [0]
    assert pq.read_table(out / "quarantine").column("line").to_pylist() == [2]
    assert pq.read_table(out / "rejected").column("input_row").to_pylist() == [3]
