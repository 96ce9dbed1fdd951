"""curate show and curate diff on tiny builds: exact terminal output, seeded samples, lineage re-reads."""

from __future__ import annotations

import os

import pytest

from curate.cli import main
from curate.inspect import locate
from curate.inspect.render import side_by_side
from tests.inspect_fixtures import tiny_build


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect")
    tiny_build(root, "a")
    tiny_build(root, "b", min_words=40, minhash=False)
    return root


def show(capsys, *args) -> tuple[int, list[str]]:
    code = main(["show", *map(str, args)])
    return code, capsys.readouterr().out.splitlines()


def test_show_near_duplicate_beside_its_original(builds, capsys):
    code, out = show(capsys, builds / "a", "--id", "b", "--width", "100", "--context", "1")
    assert code == 0
    assert out[0] == "=== b: dropped by step minhash_dedup: minhash_duplicate (rejected/part-00000-s2.parquet row 0)"
    assert "  duplicate_of  a" in out and "  input_row     1" in out
    assert out[7] == ("--- text (507 chars; text re-read from the input, in.jsonl row 1 (before any rewriting "
                      "step)): beside its original below")
    assert out[8] == ("--- duplicate of a: kept (shards/part-00000-0000.parquet row 0); "
                      "lines 88% similar, 1 differ here, 1 there")
    assert out[9:] == [
        "this document (dropped)                            the document it duplicates",
        "                                                   ... 4 equal lines ...",
        "engine bridge valley orchard engine morning        engine bridge valley orchard engine morning",
        "engine mirror engine.                              engine mirror engine.",
        "a completely different line about nothing in     | bridge forest river letter orchard lantern",
        "particular here.                                 | garden winter lantern.",
        "forest garden silver candle letter candle mirror   forest garden silver candle letter candle mirror",
        "paper forest.                                      paper forest.",
        "forest meadow valley candle harbour meadow stone   forest meadow valley candle harbour meadow stone",
        "valley engine.                                     valley engine.",
    ]


def test_show_kept_document_columns_and_text(builds, capsys):
    code, out = show(capsys, builds / "a", "--id", "f", "--max-chars", "20")
    assert code == 0
    assert out[0] == "=== f: kept (shards/part-00000-0000.parquet row 2)"
    assert out[1:4] == ["  source            web", "  url               https://example.net/f", "  timestamp         null"]
    assert "  dup_cluster_size  1" in out
    assert out[-2:] == ["--- text (522 chars)", "engine meadow orchar [... 502 more chars]"]


def test_show_rejected_text_from_full_rows_after_an_annotator(tmp_path, capsys):
    """rejected = "full" with an annotator (domain) between two filters of one stage: one schema per
    file (the rows length drops have no `domain` column, those score_filter drops have one)."""
    tiny_build(tmp_path, "full", rejected="full", minhash=False,
               extra_steps=('[[steps]]\nuse = "domain"\n',
                            '[[steps]]\nuse = "score_filter"\ncolumn = "input_row"\nmax_score = 4.0\n'))
    (tmp_path / "in.jsonl").unlink()  # the text must come from rejected/, not from the input
    code, out = show(capsys, tmp_path / "full", "--rejected", "too_few_words")
    assert code == 0
    assert out[0] == "=== d: dropped by step length: too_few_words (rejected/part-00000-s0.parquet row 0)"
    assert out[-2:] == ["--- text (17 chars)", "too short to keep"]
    code, out = show(capsys, tmp_path / "full", "--rejected", "score_filter")
    assert out[0] == "=== f: dropped by step score_filter: input_row_above_max (rejected/part-00000-s1.parquet row 1)"


def test_show_does_not_reread_a_changed_input(tmp_path, capsys):
    tiny_build(tmp_path, "ids")
    st = (tmp_path / "in.jsonl").stat()
    os.utime(tmp_path / "in.jsonl", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    code, out = show(capsys, tmp_path / "ids", "--rejected", "length")
    assert code == 0
    assert out[-1] == '--- text: not available: text not kept (rejected = "ids") and in.jsonl changed since the build'


def test_sample_is_seeded_nested_and_filtered(builds):
    root = builds / "a"
    three = locate.select(root, sample=3, seed=7)
    assert locate.select(root, sample=3, seed=7) == three
    assert locate.select(root, sample=2, seed=7) == three[:2]
    ids = {f.values["id"] for f in locate.fetch(locate.select(root, sample=10, seed=1))}
    assert ids == {"a", "e", "f"}
    dropped = locate.fetch(locate.select(root, reason="any", sample=10))
    assert sorted(f.values["id"] for f in dropped) == ["b", "c", "d"]
    assert [f.values["id"] for f in locate.fetch(locate.select(root, reason="exact_dedup"))] == ["c"]
    assert locate.select(root, source="nope", sample=3) == []


def test_show_errors_are_one_line(builds, capsys):
    assert main(["show", str(builds / "a"), "--id", "zzz"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("curate show: error: no document with id 'zzz' in its shards or rejected/ in ")
    assert err.count("\n") == 1
    assert main(["show", str(builds / "a"), "--sample", "0"]) == 2
    assert main(["show", str(builds / "a"), "--id", "a", "--rejected", "any"]) == 2  # a was kept
    assert "no document with id 'a' dropped with 'any' in " in capsys.readouterr().err
    assert main(["show", str(builds / "a"), "--rejected", "no_such_reason"]) == 1
    assert capsys.readouterr().out == f"no documents dropped with 'no_such_reason' in {builds / 'a'}\n"


def test_side_by_side_marks_inserted_and_deleted_lines():
    rows = side_by_side("same\nonly left\nsame 2", "same\nsame 2\nonly right", width=23, context=5)
    assert rows == ["same         same", "only left  <", "same 2       same 2", " " * 11 + "> only right"]


def test_diff_groups_by_step_and_reason(builds, capsys):
    assert main(["diff", str(builds / "a"), str(builds / "b")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"A: {builds / 'a'} (3 kept)",
        f"B: {builds / 'b'} (3 kept)",
        "kept by both: 2",
        "kept by A, not by B: 1",
        "  B length: too_few_words                          web                 1  e.g. e",
        "kept by B, not by A: 1",
        "  A minhash_dedup: minhash_duplicate               web                 1  e.g. b",
    ]


def test_diff_names_documents_the_other_build_never_read(builds, tmp_path, capsys):
    from tests.conftest import write_jsonl
    from tests.inspect_fixtures import documents

    write_jsonl(tmp_path / "in.jsonl", documents()[:4])
    tiny_build(tmp_path, "few")
    assert main(["diff", str(builds / "a"), str(tmp_path / "few")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[3:6] == ["kept by A, not by B: 2", "  (not in B)                                       web                 2  e.g. e, f",
                        "kept by B, not by A: 0"]
