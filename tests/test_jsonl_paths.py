"""The JSONL reader's two paths (whole windows parsed at once, line by line where a window holds a
bad record) give the same batches and quarantine; byte-range fragments of a plain file give the
rows of the whole file, with file-global lineage."""

from __future__ import annotations

import gzip
import json

import orjson
import pyarrow as pa
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from curate import schema
from curate.plan import line_ranges
from curate.readers import jsonl, read_file
from curate.recipe import SourceSpec
from tests.conftest import read_sample

SRC = SourceSpec(name="web", paths=("x",))
BOM = "\ufeff".encode()


def bad_file_bytes() -> bytes:
    """Every kind of bad or odd line, between real documents."""
    good = [json.dumps(d, ensure_ascii=False).encode() for d in read_sample(6)]
    lines = [
        BOM + good[0],                                        # 0: BOM, skipped
        b'{"id": "t", "text": "truncated',                    # 1: invalid JSON
        b'{"id": "u", "text": "bad \xff byte"}',              # 2: invalid UTF-8
        b'["a", "list"]', b'"a string"', b"42", b"null",      # 3-6: not objects
        b'{"id": "n", "text": 42}', b'{"text": null}', b'{"id": "m"}',  # 7-9: bad text
        b'{"text": "\\ud800 lone surrogate"}',                # 10: invalid JSON escape
        good[1] + b"\r",                                      # 11: CRLF
        b"", b"   \t", b"\r",                                 # 12-14: blank lines
        json.dumps({"text": "x" * 1_500_000, "id": 7, "url": 5, "timestamp": [1]}).encode(),  # 15: huge
        json.dumps({"text": "meta", "z": {"b": [1, 2.5, None]}, "a": True, "id": None}).encode(),
        good[2], good[3], good[4],
        good[5],                                              # last line, no newline
    ]
    return b"\n".join(lines)


def read_chunks(path, batch_rows, **kwargs):
    return list(read_file(SRC, path, path.name, batch_rows, **kwargs))


def line_path_only(monkeypatch):
    monkeypatch.setattr(jsonl, "_fast_path", lambda lines, text_field: None)


def assert_same_chunks(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.batch.equals(y.batch)
        assert (x.quarantined, x.num_bytes, x.bad_timestamps) == (y.quarantined, y.num_bytes, y.bad_timestamps)


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
@pytest.mark.parametrize("batch_rows", [1, 4, 1000])
def test_window_and_line_paths_agree_on_a_file_of_bad_records(tmp_path, monkeypatch, suffix, batch_rows):
    raw = bad_file_bytes()
    blob = {"": raw, ".gz": gzip.compress(raw), ".zst": zstandard.ZstdCompressor().compress(raw)}[suffix]
    path = tmp_path / f"bad.jsonl{suffix}"
    path.write_bytes(blob)
    fast = read_chunks(path, batch_rows)
    line_path_only(monkeypatch)
    slow = read_chunks(path, batch_rows)
    assert_same_chunks(fast, slow)
    docs = pa.Table.from_batches([c.batch for c in fast], schema=schema.DOC_SCHEMA)
    bad = [q for c in fast for q in c.quarantined]
    assert docs.column("input_row").to_pylist() == [0, 11, 15, 16, 17, 18, 19, 20]
    assert [q["line"] for q in bad] == list(range(1, 11))
    starts = [0] + [i + 1 for i, b in enumerate(raw) if b == 10]
    assert [q["byte_offset"] for q in bad] == starts[1:11]
    assert sum(c.num_bytes for c in fast) == len(raw)
    huge, meta = docs.slice(2, 2).to_pylist()
    assert (huge["id"], huge["url"], huge["timestamp"], huge["meta"]) == ("7", None, None, None)
    assert meta["meta"] == '{"a":true,"z":{"b":[1,2.5,null]}}' and meta["id"] == f"web/bad.jsonl{suffix}/16"


LINES = st.one_of(
    st.builds(lambda t, i, extra: orjson.dumps({"text": t, "id": i, **extra}),
              st.text(max_size=30), st.one_of(st.none(), st.text(max_size=5), st.integers()),
              st.dictionaries(st.sampled_from(["lang", "n", "url"]), st.one_of(st.text(max_size=5), st.floats(),
                                                                               st.integers(), st.none()),
                              max_size=2)),
    st.sampled_from([b"", b" ", b"{", b"[1]", b'{"text": 1}', b'{"x": "no text"}', b"\xff", b"{}\r"]),
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(lines=st.lists(LINES, max_size=25), batch_rows=st.integers(1, 7), newline_at_end=st.booleans())
def test_both_paths_agree_on_generated_files(tmp_path_factory, lines, batch_rows, newline_at_end):
    path = tmp_path_factory.mktemp("gen") / "g.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if newline_at_end else b""))
    fast = read_chunks(path, batch_rows)
    with pytest.MonkeyPatch.context() as mp:
        line_path_only(mp)
        slow = read_chunks(path, batch_rows)
    assert_same_chunks(fast, slow)
    n_docs = sum(c.batch.num_rows for c in fast)
    n_bad = sum(len(c.quarantined) for c in fast)
    records = sum(1 for line in (b"\n".join(lines)).split(b"\n") if line.strip())
    assert n_docs + n_bad == max(records, 1)  # an empty file is one quarantine record


@settings(max_examples=60, deadline=None, derandomize=True)
@given(lengths=st.lists(st.integers(0, 40), min_size=1, max_size=40), fragment_bytes=st.integers(1, 120),
       newline_at_end=st.booleans())
def test_line_ranges_cut_at_line_starts_and_count_the_lines_before(tmp_path_factory, lengths, fragment_bytes,
                                                                    newline_at_end):
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if newline_at_end else b"")
    path = tmp_path_factory.mktemp("ranges") / "r.jsonl"
    path.write_bytes(data)
    ranges = line_ranges(path, fragment_bytes)
    if len(data) <= fragment_bytes:
        assert ranges == []
        return
    ranges = ranges or [(0, len(data), 0)]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (start, stop, first), nxt in zip(ranges, ranges[1:] + [None]):
        assert start < stop and (start == 0 or data[start - 1] == 10)
        assert first == data[:start].count(b"\n")
        assert nxt is None or nxt[0] == stop
        assert nxt is None or stop - start >= fragment_bytes  # cut only at or past the target


def test_byte_range_fragments_read_the_rows_of_the_whole_file(tmp_path):
    raw = bad_file_bytes()
    path = tmp_path / "bad.jsonl"
    path.write_bytes(raw)
    whole = read_chunks(path, 3)
    parts = [c for start, stop, first in line_ranges(path, 300)
             for c in read_chunks(path, 3, byte_range=(start, stop), first_row=first)]
    assert len(line_ranges(path, 300)) > 5
    table = lambda chunks: pa.Table.from_batches([c.batch for c in chunks], schema=schema.DOC_SCHEMA)  # noqa: E731
    assert table(parts).equals(table(whole))
    assert [q for c in parts for q in c.quarantined] == [q for c in whole for q in c.quarantined]
    assert sum(c.num_bytes for c in parts) == len(raw)
