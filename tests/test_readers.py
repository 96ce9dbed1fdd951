"""Readers: every format streams documents; every bad record is quarantined with file and line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curate import schema
from curate.readers import read_file
from curate.recipe import FieldMap, SourceSpec
from tests.conftest import SHARED_DATA, TEST_DATA, read_sample

SRC = SourceSpec(name="web", paths=("x",))


def read_all(path: Path, source: SourceSpec = SRC, batch_rows: int = 3):
    chunks = list(read_file(source, path, path.name, batch_rows))
    docs = pa.Table.from_batches([c.batch for c in chunks], schema=schema.DOC_SCHEMA)
    bad = [q for c in chunks for q in c.quarantined]
    return docs, bad, chunks


def test_jsonl_plain_gz_zst_give_the_same_documents(tmp_path):
    docs = read_sample(7)
    raw = "".join(json.dumps(d) + "\n" for d in docs).encode()
    (tmp_path / "a.jsonl").write_bytes(raw)
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    tables = [read_all(tmp_path / n)[0] for n in ("a.jsonl", "a.jsonl.gz", "a.jsonl.zst")]
    assert tables[0].column("text").to_pylist() == [d["text"] for d in docs]
    assert tables[0].column("id").to_pylist() == [d["id"] for d in docs]
    assert tables[0].column("input_row").to_pylist() == list(range(7))
    for t in tables[1:]:
        assert t.drop_columns(["input_file"]).equals(tables[0].drop_columns(["input_file"]))


def test_field_mapping_and_meta_pass_through(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"body": "hi there", "link": "http://x.org/a", "lang": "en", "n": 3}) + "\n"
                    + json.dumps({"body": "second"}) + "\n")
    src = SourceSpec(name="s", paths=("x",), fields=FieldMap(text="body", url="link", id=None))
    docs, bad, _ = read_all(path, src)
    assert not bad
    rows = docs.to_pylist()
    assert rows[0]["url"] == "http://x.org/a" and json.loads(rows[0]["meta"]) == {"lang": "en", "n": 3}
    assert rows[1]["id"] == "s/m.jsonl/1" and rows[1]["meta"] is None
    only = SourceSpec(name="s", paths=("x",), fields=FieldMap(text="body", meta=("lang",)))
    assert json.loads(read_all(path, only)[0].to_pylist()[0]["meta"]) == {"lang": "en"}


def bad_jsonl_bytes() -> bytes:
    good = [json.dumps(d) for d in read_sample(3)]
    lines = [
        good[0],
        '{"id": "broken", "text": "no closing brace"',   # line 1: invalid JSON
        b'{"id": "u", "text": "bad \xff byte"}',          # line 2: invalid UTF-8
        '{"id": "m"}',                                     # line 3: missing text
        '{"id": "n", "text": 42}',                         # line 4: text not a string
        '["a", "list"]',                                   # line 5: not an object
        good[1],
        "",                                                # blank: not a record
        good[2],
    ]
    return b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n"


def test_bad_records_are_quarantined_with_line_and_offset(tmp_path):
    data = bad_jsonl_bytes()
    path = tmp_path / "bad.jsonl"
    path.write_bytes(data)
    docs, bad, _ = read_all(path)
    assert docs.num_rows == 3
    assert docs.column("input_row").to_pylist() == [0, 6, 8]  # the blank line 7 is a line, not a record
    assert [q["line"] for q in bad] == [1, 2, 3, 4, 5]  # 0-based physical line index
    errors = [q["error"] for q in bad]
    assert errors[0].startswith("invalid JSON") and errors[1].startswith("invalid UTF-8")
    assert "missing" in errors[2] and "int, not a string" in errors[3] and "not an object" in errors[4]
    offsets = [q["byte_offset"] for q in bad]
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 10][:-1]
    assert offsets == [starts[1], starts[2], starts[3], starts[4], starts[5]]
    assert all(q["input_file"] == "bad.jsonl" and q["source"] == "web" for q in bad)


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_truncated_compressed_file_keeps_rows_before_the_break(tmp_path, suffix):
    docs = read_sample(200)
    raw = "".join(json.dumps(d) + "\n" for d in docs).encode()
    blob = gzip.compress(raw) if suffix == ".gz" else zstandard.ZstdCompressor().compress(raw)
    path = tmp_path / f"t.jsonl{suffix}"
    path.write_bytes(blob[: len(blob) // 2])
    table, bad, _ = read_all(path, batch_rows=1000)
    assert 0 < table.num_rows < 200
    assert table.column("text").to_pylist() == [d["text"] for d in docs[: table.num_rows]]
    assert len(bad) == 1 and "truncated or corrupt" in bad[0]["error"]


def test_empty_file_is_quarantined_once(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    table, bad, _ = read_all(path)
    assert table.num_rows == 0 and [q["error"] for q in bad] == ["empty file: no records"]


def test_parquet_reader_maps_fields_and_quarantines_null_text(tmp_path):
    docs = read_sample(5)
    table = pa.table({"txt": [d["text"] for d in docs[:4]] + [None], "id": [d["id"] for d in docs],
                      "url": [d["url"] for d in docs], "extra": list(range(5))})
    pq.write_table(table, tmp_path / "p.parquet", row_group_size=2)
    src = SourceSpec(name="p", paths=("x",), fields=FieldMap(text="txt", timestamp=None))
    out, bad, _ = read_all(tmp_path / "p.parquet", src)
    assert out.column("text").to_pylist() == [d["text"] for d in docs[:4]]
    assert [json.loads(m)["extra"] for m in out.column("meta").to_pylist()] == [0, 1, 2, 3]
    assert [(q["line"], q["error"]) for q in bad] == [(4, "text column 'txt' is null")]


def test_timestamps_parse_into_utc_and_bad_ones_are_counted(tmp_path):
    rows = [{"text": "a", "timestamp": "2019-07-17T12:15:59.000Z"}, {"text": "b", "timestamp": "not a date"},
            {"text": "c", "timestamp": 1585472650}, {"text": "d"}]
    path = tmp_path / "ts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table, _, chunks = read_all(path, batch_rows=10)
    got = [t.isoformat() if t else None for t in table.column("timestamp").to_pylist()]
    assert got == ["2019-07-17T12:15:59+00:00", None, "2020-03-29T09:04:10+00:00", None]
    assert sum(c.bad_timestamps for c in chunks) == 1


@pytest.mark.parametrize("batch_rows", [1, 10])  # a batch of only objects, and a mixed batch
def test_object_or_list_timestamps_are_null_and_counted_not_fatal(tmp_path, batch_rows):
    rows = [{"text": "a", "timestamp": {"$date": "2020-01-01"}}, {"text": "b", "timestamp": [2020, 1, 1]},
            {"text": "c", "timestamp": "2021-05-06"}, {"text": "d", "timestamp": {}}]
    path = tmp_path / "obj.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table, bad, chunks = read_all(path, batch_rows=batch_rows)
    assert not bad and table.num_rows == 4
    got = [t.isoformat() if t else None for t in table.column("timestamp").to_pylist()]
    assert got == [None, None, "2021-05-06T00:00:00+00:00", None]
    assert sum(c.bad_timestamps for c in chunks) == 3


@pytest.mark.parametrize("values", [pa.array([{"y": 1}, None]), pa.array([[1, 2], [3]]),
                                    pa.array([float("nan"), 1e30]), pa.array([b"\xff", b"\xfe"])])
def test_parse_timestamps_never_raises_on_odd_types(values):
    from curate.timestamps import parse_timestamps

    out, bad = parse_timestamps(values)
    assert out.to_pylist() == [None, None] and bad == len(values) - values.null_count


@pytest.mark.skipif(not (SHARED_DATA / "warc").is_dir(), reason="shared WARC files absent")
def test_warc_reader_extracts_main_text_and_keeps_url_and_date():
    table, bad, _ = read_all(SHARED_DATA / "warc" / "sample-0000.warc.gz", batch_rows=100)
    assert not bad and table.num_rows > 10
    rows = table.to_pylist()
    assert all(r["url"].startswith("http") for r in rows)
    assert all(r["timestamp"] is not None and r["timestamp"].year == 2024 for r in rows)
    assert sum(len(r["text"]) > 200 for r in rows) > table.num_rows // 2
    assert all("<html" not in r["text"].lower() for r in rows)


def test_tiny_fixture_files_exist():
    assert (TEST_DATA / "web_sample.jsonl.zst").is_file()
