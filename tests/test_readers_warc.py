"""WARC reader on broken files: truncation, wrong Content-Length, corrupt gzip, stray bytes.

tests/data/warc_sample.warc.gz holds 10 real records cut (gzip member by member) from
shared/data/warc/sample-0000.warc.gz: warcinfo, 4 request/response pairs, a wget-log resource.
"""

from __future__ import annotations

import gzip
import re
import zlib

import pytest

from curate.readers.warc_frames import frames
from tests.conftest import SHARED_DATA, TEST_DATA
from tests.test_readers import read_all

SAMPLE = TEST_DATA / "warc_sample.warc.gz"
RESPONSES = [2, 4, 6, 8]  # record indices of the four HTML responses


def members(blob: bytes) -> list[bytes]:
    """The gzip members of ``blob``, each as its compressed bytes."""
    out, pos = [], 0
    while pos < len(blob):
        d = zlib.decompressobj(31)
        d.decompress(blob[pos:])
        size = len(blob) - pos - len(d.unused_data)
        out.append(blob[pos:pos + size])
        pos += size
    return out


def with_length(member: bytes, delta: int) -> bytes:
    """The member with its WARC Content-Length changed by ``delta`` (block untouched)."""
    data = gzip.decompress(member)
    head, sep, rest = data.partition(b"\r\n\r\n")
    n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    return gzip.compress(head.replace(b"Content-Length: %d" % n, b"Content-Length: %d" % (n + delta)) + sep + rest)


def good_and_bad(blob: bytes, tmp_path, name: str = "f.warc.gz"):
    path = tmp_path / name
    path.write_bytes(blob)
    with path.open("rb") as f:
        got = list(frames(f))
    assert [f.index for f in got] == list(range(len(got)))
    return [f for f in got if f.error is None], [f for f in got if f.error is not None]


def whole_frames():
    with SAMPLE.open("rb") as f:
        return list(frames(f))


def test_sample_reads_four_documents_with_record_index_lineage():
    table, bad, _ = read_all(SAMPLE, batch_rows=100)
    assert bad == []
    assert table.column("input_row").to_pylist() == RESPONSES
    assert table.column("url").to_pylist()[0] == "https://soldaini.net/facts/"
    assert all(len(t) > 100 for t in table.column("text").to_pylist())


def test_every_cut_keeps_whole_records_and_counts_the_cut_one(tmp_path):
    full = whole_frames()
    blob = SAMPLE.read_bytes()
    starts = {f.offset for f in full}
    for cut in range(2, len(blob), 211):  # from 2 bytes on, the file is recognisably gzip
        good, bad = good_and_bad(blob[:cut], tmp_path)
        k = len(good)
        assert [g.raw for g in good] == [f.raw for f in full[:k]]
        if not bad:  # cut at a record boundary, or inside the 8-byte gzip trailer of record k - 1
            end = full[k].offset if k < len(full) else len(blob)
            assert cut in starts or 0 < end - cut <= 8
        else:
            assert len(bad) == 1 and bad[0].index == k and bad[0].offset == full[k].offset
            assert bad[0].error.startswith("truncated")


def test_truncated_file_quarantines_the_cut_record_with_its_offset(tmp_path):
    full = whole_frames()
    cut = full[6].offset + 1500  # inside the third response
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(SAMPLE.read_bytes()[:cut])
    table, bad, _ = read_all(path, batch_rows=100)
    assert table.column("input_row").to_pylist() == [2, 4]
    assert [(q["line"], q["byte_offset"]) for q in bad] == [(6, full[6].offset)]
    assert bad[0]["error"].startswith("lost WARC record: truncated")


@pytest.mark.parametrize("delta", [-500, -1, 1, 40_000])
def test_wrong_content_length_loses_only_that_record(tmp_path, delta):
    parts = members(SAMPLE.read_bytes())
    parts[4] = with_length(parts[4], delta)
    path = tmp_path / "cl.warc.gz"
    path.write_bytes(b"".join(parts))
    table, bad, _ = read_all(path, batch_rows=100)
    assert table.column("input_row").to_pylist() == [2, 6, 8]
    assert [(q["line"], q["byte_offset"]) for q in bad] == [(4, sum(map(len, parts[:4])))]
    assert "Content-Length" in bad[0]["error"]


@pytest.mark.parametrize("delta", [-300, 300, 10**6])
def test_wrong_content_length_in_a_plain_warc_resyncs_at_the_next_header(tmp_path, delta):
    parts = members(SAMPLE.read_bytes())
    parts[4] = with_length(parts[4], delta)
    plain = [gzip.decompress(p) for p in parts]
    good, bad = good_and_bad(b"".join(plain), tmp_path, "p.warc")
    assert [g.index for g in good] == [i for i in range(10) if i != 4]
    assert [(b.index, b.offset) for b in bad] == [(4, sum(map(len, plain[:4])))]
    assert [g.raw for g in good] == [f.raw for f in whole_frames() if f.index != 4]


def test_corrupt_gzip_member_resyncs_at_the_next_member(tmp_path):
    parts = members(SAMPLE.read_bytes())
    broken = bytearray(parts[6])
    broken[40:240] = bytes(200)
    parts[6] = bytes(broken)
    good, bad = good_and_bad(b"".join(parts), tmp_path)
    assert [g.index for g in good] == [0, 1, 2, 3, 4, 5, 7, 8, 9]
    assert len(bad) == 1 and bad[0].index == 6 and bad[0].offset == sum(map(len, parts[:6]))
    assert bad[0].error.startswith("corrupt gzip data")


def test_stray_bytes_are_one_lost_record(tmp_path):
    plain = [gzip.decompress(p) for p in members(SAMPLE.read_bytes())]
    junk = b"junk that is not a record\r\n"
    good, bad = good_and_bad(junk + b"".join(plain), tmp_path, "g.warc")
    assert len(good) == 10 and [(b.index, b.offset) for b in bad] == [(0, 0)]
    assert bad[0].error.startswith("not a WARC record")
    # between records the bytes cannot be told from the tail of a block whose Content-Length is
    # too short, so the record before them is the one lost
    good, bad = good_and_bad(b"".join(plain[:3]) + junk + b"".join(plain[3:]), tmp_path, "h.warc")
    assert [g.index for g in good] == [0, 1, 3, 4, 5, 6, 7, 8, 9]
    assert [(b.index, b.offset) for b in bad] == [(2, sum(map(len, plain[:2])))]
    assert "Content-Length" in bad[0].error


shared_warc = pytest.mark.skipif(not (SHARED_DATA / "warc").is_dir(), reason="shared WARC files absent")


@shared_warc
def test_shared_warc_truncated_mid_record_loses_one_counted_record(tmp_path):
    src = SHARED_DATA / "warc" / "sample-0001.warc.gz"
    with src.open("rb") as f:
        full = list(frames(f))
    victim = full[len(full) // 2]
    path = tmp_path / "t.warc.gz"
    path.write_bytes(src.read_bytes()[:victim.offset + 200])
    good, bad = good_and_bad(path.read_bytes(), tmp_path)
    assert [g.raw for g in good] == [f.raw for f in full[:victim.index]]
    assert [(b.index, b.offset) for b in bad] == [(victim.index, victim.offset)]


@shared_warc
def test_shared_warc_with_one_wrong_content_length_keeps_every_other_page(tmp_path):
    src = SHARED_DATA / "warc" / "sample-0000.warc.gz"
    parts = members(src.read_bytes())
    parts[2] = with_length(parts[2], 5000)  # the first response
    path = tmp_path / "w.warc.gz"
    path.write_bytes(b"".join(parts))
    table, bad, _ = read_all(path, batch_rows=100)
    assert table.num_rows == 21 and [q["line"] for q in bad] == [2]
