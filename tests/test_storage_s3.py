"""Object storage end to end on a real S3-compatible server (tests/s3_server.py): an s3:// build
equals the local build byte for byte, inputs read from s3:// globs, a SIGKILLed driver resumes on
S3, unreachable endpoints and missing buckets are one-line errors, and stats/export/mix/scan read
s3:// dirs. No filesystem call is mocked: every byte goes over HTTP to the server."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import curate
from curate.build import build
from curate.cli import main
from curate.errors import StorageError
from curate.recipe import load_recipe, parse_recipe
from curate.storage import RemotePath, location
from tests.conftest import REPO, _env, read_sample, run_cli, write_jsonl, write_recipe
from tests.s3_server import (ACCESS_KEY, SECRET_KEY, all_bytes, bucket, s3_endpoint,  # noqa: F401
                             tree_digests, upload_tree)
from tests.test_readers import bad_jsonl_bytes

TIMINGS = ("seconds", "input_mb_per_s")


def shipped(name: str, out: str, tmp_path: Path, workers: int = 1):
    """The shipped recipe ``name`` with its output dir replaced and a second source of bad records
    (so quarantine/ is exercised); a save_index goes to a local tmp dir."""
    path = REPO / "recipes" / f"{name}.toml"
    data = tomllib.loads(path.read_text())
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(bad_jsonl_bytes())
    data["sources"].append({"name": "bad", "paths": [str(bad)]})
    data["output"]["dir"] = out
    for step in data["steps"]:
        if "save_index" in step:
            step["save_index"] = str(tmp_path / f"index-{abs(hash(out))}")
    return build(parse_recipe(data, path), workers=workers)


def comparable_stats(root) -> dict:
    stats = json.loads((root / "stats.json").read_bytes())
    for key in TIMINGS + ("fingerprint",):  # the fingerprint covers output.dir, which differs
        stats.pop(key)
    return stats


def no_local_s3_junk() -> bool:
    """A RemotePath handed to a local file API would create a local 's3:' folder."""
    return not Path("s3:").exists() and not (REPO / "s3:").exists()


@pytest.mark.parametrize("name,workers", [("quickstart", 1), ("web_dedup", 2)])
def test_s3_build_equals_local_build_byte_for_byte(tmp_path, bucket, name, workers):
    local = shipped(name, str(tmp_path / "local"), tmp_path, workers)
    remote = shipped(name, f"s3://{bucket}/builds/{name}", tmp_path, workers)
    assert isinstance(remote.root, RemotePath)
    want = tree_digests(local.root)
    assert {k.split("/")[0] for k in want} == {"shards", "rejected", "quarantine"}
    assert tree_digests(remote.root) == want
    assert comparable_stats(remote.root) == comparable_stats(local.root)
    got_manifest = json.loads((remote.root / "manifest.json").read_bytes())
    want_manifest = json.loads((local.root / "manifest.json").read_bytes())
    for m in (got_manifest, want_manifest):
        m["recipe"].pop("fingerprint")
    assert got_manifest == want_manifest
    assert not (remote.root / "work").exists()  # intermediate work is removed, as on disk
    assert not (remote.root / ".curate.lock").exists()  # the lock object is released
    assert no_local_s3_junk()
    blob = all_bytes(remote.root)
    assert ACCESS_KEY.encode() not in blob and SECRET_KEY.encode() not in blob  # no credentials stored


def test_inputs_read_from_s3_globs(tmp_path, bucket):
    docs = read_sample(120)
    data = tmp_path / "in"
    write_jsonl(data / "a" / "part-0.jsonl", docs[:40])
    write_jsonl(data / "a" / "deeper" / "part-1.jsonl", docs[40:80])
    pq.write_table(pa.Table.from_pylist(docs[80:]), data / "b.parquet", row_group_size=10)
    (data / "a" / "bad.jsonl").write_bytes(bad_jsonl_bytes())
    shutil.copy(REPO / "tests" / "data" / "web_sample.jsonl.zst", data / "a" / "sample.jsonl.zst")
    upload_tree(data, f"s3://{bucket}/in")

    def recipe(paths: list[str], out: str) -> Path:
        body = f"""
[recipe]
name = "s3-in"
[[sources]]
name = "web"
paths = {json.dumps(paths)}
fragment_rows = 15
[[steps]]
use = "length"
min_words = 50
[[steps]]
use = "exact_dedup"
[output]
dir = "{out}"
max_shard_rows = 30
"""
        return write_recipe(tmp_path / f"{out.replace('/', '_')}.toml", body)

    patterns = ["a/**/*.jsonl*", "b.parquet"]
    ref = build(load_recipe(recipe([str(data / p) for p in patterns], "ref")))
    got = build(load_recipe(recipe([f"s3://{bucket}/in/{p}" for p in patterns], "got")), workers=2)

    def table(root: Path, prefix: str) -> pl.DataFrame:
        df = pl.read_parquet(root / "shards" / "*.parquet")
        return df.with_columns(pl.col("input_file").str.replace(prefix, "", literal=True))

    a, b = table(ref.root, "in/"), table(got.root, f"s3://{bucket}/in/")
    assert a.height > 100 and a.equals(b)
    assert [i.path for i in got.inputs] == [f"s3://{bucket}/in/{p}" for p in
                                                        ("a/bad.jsonl", "a/deeper/part-1.jsonl", "a/part-0.jsonl",
                                                         "a/sample.jsonl.zst", "b.parquet")]
    assert json.loads((got.root / "stats.json").read_text())["total"]["quarantined"] == 5


@pytest.mark.parametrize("fault", ["mid_resolve:0", "mid_shard_write:2"])
def test_driver_sigkilled_on_s3_resumes_to_identical_output(tmp_path, bucket, fault):
    """The driver dies (SIGKILL, at a named point: curate/faults.py) between a resolve's decisions
    and its marker, and between a shard upload and its fragment's marker (a complete object that
    no marker vouches for); the same command run again gives exactly the local build's bytes."""
    data = tmp_path / "data"
    docs = read_sample(240)
    for i in range(6):
        write_jsonl(data / f"part-{i}.jsonl", docs[i * 40:(i + 1) * 40] + [{**docs[i], "id": f"copy-{i}"}])
    body = """
[recipe]
name = "kill"
[[sources]]
name = "web"
paths = ["data/part-*.jsonl"]
[[steps]]
use = "length"
min_words = 50
[[steps]]
use = "exact_dedup"
[output]
dir = "{out}"
max_shard_rows = 15
"""
    ref = build(load_recipe(write_recipe(tmp_path / "ref.toml", body.format(out="ref"))))
    out = f"s3://{bucket}/killed"
    recipe = write_recipe(tmp_path / "s3.toml", body.format(out=out))
    cmd = [sys.executable, "-m", "curate", "build", str(recipe), "--no-progress"]
    killed = subprocess.run(cmd, cwd=REPO, env={**_env(), "CURATE_FAULT": fault}, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    root = location(out)
    assert (root / "run.json").is_file() and not (root / "manifest.json").exists()
    res = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert SECRET_KEY not in res.stdout + res.stderr and ACCESS_KEY not in res.stdout + res.stderr
    assert tree_digests(root) == tree_digests(ref.root)
    assert comparable_stats(root)["sources"] == comparable_stats(ref.root)["sources"]
    assert not (root / "work").exists() and not (root / ".curate.lock").exists()


def _one_line_error(res, uri: str) -> str:
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and uri in lines[0], res.stderr
    return lines[0]


def test_unreachable_endpoint_and_missing_bucket_are_one_line_errors(tmp_path, bucket, s3_endpoint, monkeypatch):
    write_jsonl(tmp_path / "in.jsonl", read_sample(3))
    body = """
[recipe]
name = "err"
[[sources]]
name = "web"
paths = ["{src}"]
[output]
dir = "{out}"
"""
    missing = write_recipe(tmp_path / "m.toml", body.format(src="in.jsonl", out="s3://no-such-bucket-here/out"))
    line = _one_line_error(run_cli("build", str(missing), "--no-progress"), "s3://no-such-bucket-here/out")
    assert "bucket 'no-such-bucket-here' does not exist" in line
    missing_in = write_recipe(tmp_path / "mi.toml", body.format(src="s3://no-such-bucket-here/in/*.jsonl",
                                                                out=str(tmp_path / "o")))
    _one_line_error(run_cli("build", str(missing_in), "--no-progress"), "s3://no-such-bucket-here/in")
    line = _one_line_error(run_cli("stats", f"s3://{bucket}/nothing"), f"s3://{bucket}/nothing")
    assert "no stats.json" in line
    import socket

    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    ok = write_recipe(tmp_path / "u.toml", body.format(src="in.jsonl", out=f"s3://{bucket}/out"))
    line = _one_line_error(run_cli("build", str(ok), "--no-progress"), f"s3://{bucket}/out")
    assert "cannot reach the S3 endpoint" in line and dead in line
    with pytest.raises(StorageError, match="cannot reach"):
        location(f"s3://{bucket}/x").exists()
    assert SECRET_KEY not in line and ACCESS_KEY not in line  # credentials never appear in messages


def test_stats_and_scan_read_an_s3_build(tmp_path, bucket, capsys):
    local = shipped("quickstart", str(tmp_path / "local"), tmp_path)
    uri = f"s3://{bucket}/q"
    upload_tree(local.root, uri)
    assert main(["stats", uri]) == 0
    got = capsys.readouterr().out
    assert main(["stats", str(local.root)]) == 0
    assert got == capsys.readouterr().out and "kept" in got
    assert main(["stats", uri, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((local.root / "stats.json").read_text())
    assert curate.scan(uri).collect().equals(curate.scan(local.root).collect())


def test_tokenized_build_and_export_on_s3(tmp_path, bucket):
    """train_tokenizer publishes tokenizer.json to S3, tokenize reads it back; exports read s3://."""
    from tests.test_export import make_build

    local = make_build(tmp_path / "tok")
    uri = f"s3://{bucket}/tok"
    remote = make_build(uri)
    assert tree_digests(remote.root) == tree_digests(local.root)
    assert (remote.root / "tokenizer.json").read_bytes() == (local.root / "tokenizer.json").read_bytes()
    assert remote.tokenizer.origin == f"{uri}/tokenizer.json"  # where the build read it from
    assert dataclasses.replace(remote.tokenizer, origin=None) == dataclasses.replace(local.tokenizer, origin=None)
    for fmt, out in (("megatron", str(tmp_path / "meg-s3")), ("hf", f"{uri}/export-hf")):
        assert main(["export", uri, "--format", fmt, "--out", out]) == 0
        ref = tmp_path / f"ref-{fmt}"
        assert main(["export", str(local.root), "--format", fmt, "--out", str(ref)]) == 0
        got = location(out)
        names = sorted(p.relative_to(ref).as_posix() for p in ref.rglob("*") if p.is_file())
        for name in names:
            if name == "export.json":  # names its source build (and its fingerprint, which covers output.dir)
                a, b = json.loads((got / name).read_bytes()), json.loads((ref / name).read_bytes())
                assert a.pop("source_build") == uri and b.pop("source_build") == str(local.root)
                assert a.pop("recipe_fingerprint") == remote.fingerprint
                assert b.pop("recipe_fingerprint") == local.fingerprint
                assert a["tokenizer"].pop("origin") == f"{uri}/tokenizer.json"
                assert b["tokenizer"].pop("origin") == str(local.root / "tokenizer.json") and a == b
            elif name == "README.md":  # the dataset card names the build (location, fingerprint)
                def card(text: bytes, manifest) -> bytes:
                    for old in (manifest.fingerprint, str(manifest.root), manifest.fingerprint[:12]):
                        text = text.replace(old.encode(), b"BUILD")
                    return text
                assert card((got / name).read_bytes(), remote) == card((ref / name).read_bytes(), local)
            else:
                assert (got / name).read_bytes() == (ref / name).read_bytes(), name
    assert no_local_s3_junk()


def test_mix_materialises_from_and_to_s3(tmp_path, bucket):
    from tests.mix_fixtures import write_build
    from tests.test_mix_cli import RECIPE

    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n')
    recipe = write_recipe(tmp_path / "r.toml", RECIPE)
    groups = {"web": [100] * 300, "wiki": [300] * 40, "math": [50] * 30}
    write_build(tmp_path / "out", groups, with_prefix=True)
    uri = f"s3://{bucket}/b"
    write_build(location(uri), groups, with_prefix=True)
    for target in (str(tmp_path / "out"), uri):
        assert main(["mix", target, "--phase", "anneal", "--recipe", str(recipe)]) == 0
    ref, got = tmp_path / "out" / "mix" / "anneal", location(uri) / "mix" / "anneal"
    assert tree_digests(got, ("shards",)) == tree_digests(ref, ("shards",)) != {}
    a, b = json.loads((got / "manifest.json").read_bytes()), json.loads((ref / "manifest.json").read_bytes())
    assert a["mix"].pop("from") == uri and a["shards"] == b["shards"]
    assert main(["mix", uri, "--phase", "anneal", "--recipe", str(recipe)]) == 0  # the same mix: a no-op


def test_remote_path_semantics_on_the_server(tmp_path, bucket):
    root = location(f"s3://{bucket}/p")
    assert not root.exists() and list(root.iterdir()) == []
    (root / "a" / "x.jsonl").write_bytes(b"1")
    (root / "a" / "b" / "y.jsonl").write_text("2")
    (root / "z.parquet").write_bytes(b"3")
    assert root.is_dir() and (root / "a" / "x.jsonl").is_file() and (root / "a" / "x.jsonl").stat().st_size == 1
    assert [p.name for p in root.iterdir()] == ["a", "z.parquet"]
    assert [p.uri for p in root.glob("a/*.jsonl")] == [f"s3://{bucket}/p/a/x.jsonl"]
    assert [p.name for p in root.glob("**/*.jsonl")] == ["y.jsonl", "x.jsonl"]  # sorted by key
    assert os.fspath(root / "a") == f"s3://{bucket}/p/a" and (root / "a").parent == root
    (root / "gone").unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError):
        (root / "gone").stat()
    from curate.storage import open_input_file, open_output_file, publish, rmtree, staging_path

    rmtree(root / "a")
    assert [p.name for p in root.iterdir()] == ["z.parquet"]
    import pyarrow.ipc as ipc

    table = pa.table({"x": list(range(10))})
    for where in (root / "p00001" / "t.arrow", tmp_path / "t.arrow"):  # an Arrow IPC shuffle file
        staged = staging_path(where)
        with open_output_file(staged) as sink, ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        publish(staged, where)
        with open_input_file(where) as source:
            assert ipc.open_file(source).read_all().equals(table)


def test_remote_lock_object_rules(tmp_path, bucket):
    import socket

    import orjson

    from curate.errors import OutputError
    from curate.storage.lock import remote_lock

    lock = location(f"s3://{bucket}/out/.curate.lock")
    with remote_lock(lock):
        held = orjson.loads(lock.read_bytes())
        assert held["pid"] == os.getpid() and held["host"] == socket.gethostname() and "token" in held
    assert not lock.exists()  # released
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_bytes(orjson.dumps({"host": socket.gethostname(), "pid": int(dead.stdout), "started_unix_s": 0}))
    with remote_lock(lock):  # a killed build's lock on this host: taken over
        assert orjson.loads(lock.read_bytes())["pid"] == os.getpid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for holder in ({"host": socket.gethostname(), "pid": live.pid}, {"host": "elsewhere", "pid": 1}):
            lock.write_bytes(orjson.dumps({**holder, "started_unix_s": 0}))
            with pytest.raises(OutputError, match=f"is being built by pid {holder['pid']}.*delete {lock}"):
                with remote_lock(lock):
                    pass
            assert orjson.loads(lock.read_bytes())["pid"] == holder["pid"]  # left alone
        write_jsonl(tmp_path / "in.jsonl", read_sample(3))
        recipe = write_recipe(tmp_path / "r.toml", f"""
[recipe]
name = "locked"
[[sources]]
name = "web"
paths = ["in.jsonl"]
[output]
dir = "s3://{bucket}/out"
""")
        res = run_cli("build", str(recipe), "--no-progress")  # the runner takes the same lock object
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert "is being built by pid 1 on host elsewhere" in res.stderr and str(lock) in res.stderr
        assert not (lock.parent / "shards").exists()
    finally:
        live.kill()
        live.wait()


GLOB_FILES = ["a.jsonl", "b.txt", ".hidden.jsonl", "a/x.jsonl", "a/b/y.jsonl", "a/b/c/z.zst", "a/.h/q.jsonl",
              "b/x.jsonl", "c1.txt", "c2.txt", "[x].txt", "a/b/x.jsonl"]
GLOB_PATTERNS = ["*.jsonl", "**/*.jsonl", "a/**/*.jsonl", "a/**", "**", "?.txt", "c[12].txt", "c[!1].txt",
                 "[[]x].txt", "a/*/y.jsonl", ".*", "a/.h/*", "*/x.jsonl", "a/**/x.jsonl", "**/b/*", "a/x.jsonl"]


def test_s3_globs_match_exactly_what_local_globs_match(tmp_path, bucket):
    """Differential: the same tree on disk and on S3, every pattern selects the same files
    (Python's glob rules: * within a segment, ** across, dotfiles only when asked)."""
    from curate.storage import glob_files

    local = tmp_path / "tree"
    for name in GLOB_FILES:
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_text(name)
    upload_tree(local, f"s3://{bucket}/tree")
    for pattern in GLOB_PATTERNS:
        want = [p.relative_to(local).as_posix() for p in glob_files(pattern, local)]
        got = [p.relative_to(location(f"s3://{bucket}/tree")) for p in glob_files(f"s3://{bucket}/tree/{pattern}",
                                                                                   tmp_path)]
        assert got == want and want, pattern


def _warc_gz(path: Path, pages: list[dict]) -> None:
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for i, page in enumerate(pages):
            html = f"<html><body><article><p>{page['text']}</p></article></body></html>".encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(page["url"], "response", payload=BytesIO(html),
                                                          http_headers=http,
                                                          warc_headers_dict={"WARC-Date": "2024-01-0%dT00:00:00Z"
                                                                             % (1 + i % 9)}))


def test_every_reader_reads_an_s3_object_exactly_like_the_local_file(tmp_path, bucket):
    """Differential, through the readers' own code: JSONL (plain, .gz, .zst, a truncated .zst),
    Parquet row-group ranges and WARC, read from disk and from S3, give identical chunks."""
    import gzip

    import zstandard

    from curate.readers import read_file
    from curate.recipe import SourceSpec

    docs = read_sample(30)
    lines = "".join(json.dumps(d) + "\n" for d in docs).encode() + b"{broken\n"
    files = tmp_path / "files"
    files.mkdir()
    (files / "p.jsonl").write_bytes(lines)
    (files / "g.jsonl.gz").write_bytes(gzip.compress(lines))
    zst = zstandard.ZstdCompressor().compress(lines)
    (files / "z.jsonl.zst").write_bytes(zst)
    (files / "cut.jsonl.zst").write_bytes(zst[: len(zst) // 2])
    pq.write_table(pa.Table.from_pylist(docs), files / "t.parquet", row_group_size=7)
    _warc_gz(files / "w.warc.gz", docs[:6])
    upload_tree(files, f"s3://{bucket}/files")
    src = SourceSpec(name="s", paths=("x",))

    def chunks(path, name):
        kwargs = {"row_groups": (1, 3), "first_row": 7} if name.endswith(".parquet") else {}
        return [(c.batch, c.quarantined, c.num_bytes, c.bad_timestamps)
                for c in read_file(src, path, name, 4, **kwargs)]

    got = {}
    for name in sorted(p.name for p in files.iterdir()):
        want, got[name] = chunks(files / name, name), chunks(location(f"s3://{bucket}/files/{name}"), name)
        assert len(want) == len(got[name]) > 0, name
        for (wb, wq, wn, wt), (gb, gq, gn, gt) in zip(want, got[name]):
            assert wb.equals(gb) and wq == gq and wn == gn and wt == gt, name

    def rows(name):
        return sum(c[0].num_rows for c in got[name])

    assert rows("p.jsonl") == rows("g.jsonl.gz") == rows("z.jsonl.zst") == 30 and rows("t.parquet") == 14
    assert rows("w.warc.gz") == 6 and rows("cut.jsonl.zst") < 30
    assert any("truncated" in q["error"] for c in got["cut.jsonl.zst"] for q in c[1])
