"""Parquet reader on broken files: corrupt row groups, unreadable footers, non-string columns."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.recipe import FieldMap, SourceSpec
from tests.conftest import read_sample, run_cli, write_recipe
from tests.test_readers import read_all

ROWS_PER_GROUP = 5


def write_groups(path, num_groups: int = 4) -> list[dict]:
    """A real snappy Parquet file, ``num_groups`` row groups of ROWS_PER_GROUP documents, plain
    (non-dictionary) pages so a group's text bytes live in its own data page."""
    docs = read_sample(num_groups * ROWS_PER_GROUP)
    table = pa.table({"text": [d["text"] for d in docs], "id": [d["id"] for d in docs],
                      "url": [d["url"] for d in docs]})
    pq.write_table(table, path, row_group_size=ROWS_PER_GROUP, compression="snappy", use_dictionary=False)
    return docs


def corrupt_group(path, group: int) -> int:
    """Overwrite the middle half of ``group``'s text data page with 0xff (invalid snappy copy
    tags); return the page's offset."""
    col = pq.ParquetFile(path).metadata.row_group(group).column(0)
    data = bytearray(path.read_bytes())
    start = col.data_page_offset + col.total_compressed_size // 4
    stop = col.data_page_offset + 3 * col.total_compressed_size // 4
    data[start:stop] = b"\xff" * (stop - start)
    path.write_bytes(bytes(data))
    return col.data_page_offset


def test_corrupt_row_group_is_quarantined_and_the_rest_of_the_file_is_read(tmp_path):
    path = tmp_path / "c.parquet"
    docs = write_groups(path)
    offset = corrupt_group(path, 1)
    with pytest.raises(OSError):  # the file really is corrupt for pyarrow
        pq.read_table(path)
    table, bad, _ = read_all(path, batch_rows=2)
    kept = docs[:5] + docs[10:]
    assert table.column("id").to_pylist() == [d["id"] for d in kept]
    assert table.column("input_row").to_pylist() == [*range(5), *range(10, 20)]
    assert len(bad) == 1
    q = bad[0]
    assert (q["input_file"], q["line"], q["byte_offset"]) == ("c.parquet", 5, offset)
    assert q["error"].startswith("corrupt row group 1 (rows 5-9 not read): OSError: ")
    assert "snappy" in q["error"].lower()


def test_corrupt_row_group_under_strict_stops_with_one_line(tmp_path):
    path = tmp_path / "c.parquet"
    write_groups(path)
    corrupt_group(path, 2)
    recipe = write_recipe(tmp_path / "r.toml", f"""
[recipe]
name = "corrupt"
[[sources]]
name = "pq"
paths = ["{path.name}"]
[output]
dir = "out"
""")
    strict = run_cli("build", str(recipe), "--strict")
    assert strict.returncode != 0 and "Traceback" not in strict.stderr
    err = [line for line in strict.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "c.parquet" in err[0] and "corrupt row group 2" in err[0] and "--strict" in err[0]
    loose = run_cli("build", str(recipe))
    assert loose.returncode == 0, loose.stderr
    total = json.loads((tmp_path / "out" / "stats.json").read_text())["total"]
    assert (total["read"], total["quarantined"], total["kept"]) == (16, 1, 15)
    quarantine = pq.read_table(tmp_path / "out" / "quarantine").to_pylist()
    assert [(q["line"], q["error"][:20]) for q in quarantine] == [(10, "corrupt row group 2 ")]


def test_unreadable_footer_is_one_file_record(tmp_path):
    path = tmp_path / "f.parquet"
    write_groups(path)
    data = bytearray(path.read_bytes())
    data[-100:-8] = b"\x07" * 92  # the footer's thrift bytes; length and magic intact
    path.write_bytes(bytes(data))
    table, bad, _ = read_all(path)
    assert table.num_rows == 0
    assert [(q["line"], q["byte_offset"]) for q in bad] == [(None, 0)]
    assert bad[0]["error"].startswith("unreadable Parquet file (footer): OSError: ")


def test_list_text_column_quarantines_the_file_not_the_build(tmp_path):
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"text": [["a", "b"], ["c"]], "id": ["x", "y"]}), path)
    table, bad, _ = read_all(path)
    assert table.num_rows == 0
    assert [q["error"] for q in bad] == [
        "text column 'text' is list<element: string>, not a string: no document can be read from this file"]


def test_uncastable_id_url_and_timestamp_columns_do_not_abort(tmp_path):
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"text": ["one", "two"], "id": [{"a": 1}, {"a": 2}], "url": [[1], [2]],
                             "ts": [{"y": 2020}, None]}), path)
    src = SourceSpec(name="s", paths=("x",), fields=FieldMap(timestamp="ts"))
    table, bad, chunks = read_all(path, src)
    assert not bad
    assert table.column("id").to_pylist() == ["s/s.parquet/0", "s/s.parquet/1"]
    assert table.column("url").to_pylist() == [None, None]
    assert table.column("timestamp").to_pylist() == [None, None]
    assert sum(c.bad_timestamps for c in chunks) == 1


def test_binary_pass_through_columns_become_text_or_base64_in_meta(tmp_path):
    path = tmp_path / "b.parquet"
    pq.write_table(pa.table({"text": ["one", "two"], "utf8": [b"hi", None], "raw": pa.array([b"\xff\xfe", b"ok"]),
                             "nested": pa.array([[b"x"], None], pa.list_(pa.binary()))}), path)
    table, bad, _ = read_all(path)
    assert not bad
    metas = [json.loads(m) for m in table.column("meta").to_pylist()]
    assert metas == [{"utf8": "hi", "raw": "//4=", "nested": ["b'x'"]}, {"utf8": None, "raw": "ok", "nested": None}]
