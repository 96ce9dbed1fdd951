"""`curate stats` and `curate export` on damaged builds and unusable export dirs: one error line
naming the file and what to do, never a traceback; a failed export leaves nothing behind."""

from __future__ import annotations

import shutil

import orjson
import pytest

import curate.commands.export as export_command
from curate.cli import main
from tests.test_export import make_build


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return make_build(tmp_path_factory.mktemp("build") / "out").root


@pytest.fixture
def build_dir(pristine, tmp_path):
    """A private copy of the build, free to damage."""
    return shutil.copytree(pristine, tmp_path / "build")


def one_error_line(capsys, argv: list[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"curate {argv[0]}: error: "), err
    for needle in needles:
        assert needle in err, err
    return err


def _edit(path, change) -> None:
    data = orjson.loads(path.read_bytes())
    change(data)
    path.write_bytes(orjson.dumps(data))


def _truncate(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


MANIFEST_DAMAGE = {
    "truncated": _truncate,
    "not_an_object": lambda p: p.write_text("[1, 2]"),
    "shards_not_a_list": lambda p: _edit(p, lambda d: d.update(shards={"a": 1})),
    "shard_without_path": lambda p: _edit(p, lambda d: d["shards"][0].pop("path")),
    "num_docs_a_string": lambda p: _edit(p, lambda d: d["shards"][1].update(num_docs="12")),
    "recipe_null": lambda p: _edit(p, lambda d: d.update(recipe=None)),
}


@pytest.mark.parametrize("damage", sorted(MANIFEST_DAMAGE))
def test_export_of_a_damaged_manifest_is_one_line(build_dir, tmp_path, capsys, damage):
    MANIFEST_DAMAGE[damage](build_dir / "manifest.json")
    one_error_line(capsys, ["export", str(build_dir), "--format", "nanogpt", "--out", str(tmp_path / "x")],
                   "manifest.json")
    assert not (tmp_path / "x").exists()


STATS_DAMAGE = {
    "truncated": _truncate,
    "not_an_object": lambda p: p.write_text('"stats"'),
    "sources_a_list": lambda p: _edit(p, lambda d: d.update(sources=[1])),
    "step_in_a_string": lambda p: _edit(p, lambda d: d["sources"]["web"]["steps"][0].update({"in": "9"})),
    "fewer_steps": lambda p: _edit(p, lambda d: d["total"]["steps"].pop()),
    "dropped_a_list": lambda p: _edit(p, lambda d: d["total"]["steps"][0].update(dropped=[])),
    "no_seconds": lambda p: _edit(p, lambda d: d.pop("seconds")),
    "global_step_a_number": lambda p: _edit(p, lambda d: d.update(global_steps={"3:train_tokenizer": 5})),
}


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("damage", sorted(STATS_DAMAGE))
def test_stats_of_a_damaged_stats_json_is_one_line(build_dir, capsys, damage, as_json):
    STATS_DAMAGE[damage](build_dir / "stats.json")
    one_error_line(capsys, ["stats", str(build_dir)] + ["--json"] * as_json, "stats.json", "curate build")


def test_stats_of_the_intact_build_prints_the_funnel(build_dir, capsys):
    assert main(["stats", str(build_dir)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[0] == "read" and "kept" in out


def _missing(path) -> None:
    path.unlink()


def _garbage(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3: 2 * len(data) // 3] = bytes(len(data) // 3 + 1)[: len(data) // 3]
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_missing, _truncate, _garbage], ids=["missing", "truncated", "zeroed"])
@pytest.mark.parametrize("fmt", ["megatron", "nanogpt", "mds", "hf"])
def test_export_of_a_missing_or_corrupt_shard_is_one_line_and_leaves_nothing(build_dir, tmp_path, capsys,
                                                                             damage, fmt):
    shard = sorted((build_dir / "shards").glob("*.parquet"))[-1]  # the last: earlier ones are written first
    damage(shard)
    out = tmp_path / "x"
    one_error_line(capsys, ["export", str(build_dir), "--format", fmt, "--out", str(out)],
                   shard.name, "curate build --overwrite")
    assert not out.exists()
    (tmp_path / "empty").mkdir()  # an existing empty dir is left empty, not deleted
    one_error_line(capsys, ["export", str(build_dir), "--format", fmt, "--out", str(tmp_path / "empty")])
    assert list((tmp_path / "empty").iterdir()) == []


def test_export_out_that_is_a_file_is_one_line(build_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    one_error_line(capsys, ["export", str(build_dir), "--format", "hf", "--out", str(tmp_path / "file")],
                   "is a file", "choose another --out")
    assert (tmp_path / "file").read_text() == "mine"


def test_a_killed_export_is_recognised_and_overwrite_replaces_it(build_dir, tmp_path, capsys, monkeypatch):
    """A kill skips the cleanup: the partial dir holds the marker, so --overwrite may delete it."""
    good = sorted((build_dir / "shards").glob("*.parquet"))[-1]
    saved = good.read_bytes()
    _truncate(good)
    out = tmp_path / "x"
    with monkeypatch.context() as m:
        m.setattr(export_command, "_remove_written", lambda out, created: None)  # as if SIGKILLed
        one_error_line(capsys, ["export", str(build_dir), "--format", "megatron", "--out", str(out)])
    assert (out / "data.bin").is_file() and not (out / "export.json").exists()
    good.write_bytes(saved)
    one_error_line(capsys, ["export", str(build_dir), "--format", "megatron", "--out", str(out)],
                   "unfinished export", "--overwrite")
    assert main(["export", str(build_dir), "--format", "megatron", "--out", str(out), "--overwrite"]) == 0
    assert orjson.loads((out / "export.json").read_bytes())["num_docs"] > 0
    assert main(["export", str(build_dir), "--format", "megatron", "--out", str(out), "--overwrite"]) == 0


def test_overwrite_never_deletes_a_dir_curate_did_not_write(build_dir, tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    one_error_line(capsys, ["export", str(build_dir), "--format", "hf", "--out", str(tmp_path / "x"),
                            "--overwrite"], "was not written by curate export")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


def test_a_full_disk_mid_export_is_one_line_and_leaves_nothing(build_dir, tmp_path, capsys, monkeypatch):
    """Failure injection at the I/O boundary: the index write fails with ENOSPC after data.bin."""
    import errno
    import os

    import curate.export.megatron as megatron

    def full_disk(path, lengths, dtype):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(megatron, "write_index", full_disk)
    out = tmp_path / "x"
    one_error_line(capsys, ["export", str(build_dir), "--format", "megatron", "--out", str(out)],
                   "data.idx: No space left on device", "run the export again")
    assert not out.exists()


@pytest.mark.parametrize("where", ["/proc/curate-export-test", "/sys/curate-export-test"])
def test_export_into_proc_or_sys_is_one_line(build_dir, capsys, where):
    one_error_line(capsys, ["export", str(build_dir), "--format", "nanogpt", "--out", where], where)
