"""WRAP rephrasing: chunking, prompts, cleaning, the local backend, `curate serve` + the HTTP
backend (retries, timeout, cache) and the `rephrase` step in real builds."""

from __future__ import annotations

import threading

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.cli import main
from curate.manifest import Manifest
from curate.rephrase.chunking import chunk_text, pack, split_sentences
from curate.rephrase.http import HttpBackend
from curate.rephrase.local import LocalBackend
from curate.rephrase.params import GenParams
from curate.rephrase.prompts import STYLES, clean, completion_prompt, user_message
from curate.rephrase.server import serve
from tests.conftest import read_sample, run_cli, write_jsonl

GREEDY = GenParams(max_new_tokens=10, temperature=0.0)
SAMPLED = GenParams(max_new_tokens=10, temperature=0.8, top_p=0.95)
PROMPTS = [completion_prompt(STYLES[s], t) for s, t in [
    ("easy", "The cat sat on the mat. It was happy."), ("medium", "Python is a programming language."),
    ("hard", "Rain fell."), ("qa", "A small robot liked to read books about the sea and the stars.")]]


def test_split_sentences_exact():
    assert split_sentences("One. Two!  Three?\n\nFour \"five.\" six") == [
        "One. ", "Two!  ", "Three?\n\n", "Four \"five.\" ", "six"]


@settings(deadline=None, derandomize=True)
@given(st.text(alphabet="ab .!?\n", max_size=200), st.integers(1, 12))
def test_chunks_cover_text_at_sentence_boundaries(text, target):
    sentences = split_sentences(text)
    assert "".join(sentences).strip() == text.strip() or not text.strip()
    lengths = [len(s.split()) for s in sentences]
    runs = pack(lengths, target)
    assert [i for s, e in runs for i in range(s, e)] == list(range(len(sentences)))
    assert all(e - s == 1 or sum(lengths[s:e]) <= target for s, e in runs)


def test_chunk_text_packs_about_target_tokens():
    text = " ".join(f"Sentence number {i} is here." for i in range(10))  # 5 words each
    chunks = chunk_text(text, lambda ss: [len(s.split()) for s in ss], target_tokens=12)
    assert chunks[0] == "Sentence number 0 is here. Sentence number 1 is here."
    assert len(chunks) == 5


def test_prompts_follow_wrap_format():
    p = completion_prompt(STYLES["qa"], "Text.")
    assert p.startswith("A chat between a curious user and an artificial intelligence assistant.")
    assert p.endswith('multiple tags of "Question:" followed by "Answer:":\n\nText. ASSISTANT:')
    assert user_message("Rewrite <<{chunk}>> simply.", "x") == "Rewrite <<x>> simply."


@pytest.mark.parametrize("raw, want", [
    ("Sure! Here is a paraphrase of the paragraph:\nThe cat sat.", "The cat sat."),
    ("  Here's the rewritten text: The cat sat.", "The cat sat."),
    ("Certainly. Paraphrase: The cat sat.", "The cat sat."),
    ("The cat sat. Sure, here is more: x", "The cat sat. Sure, here is more: x"),
    ("Surely the cat sat.", "Surely the cat sat."),
])
def test_clean_removes_leading_boilerplate_only(raw, want):
    assert clean(raw) == want


def test_local_backend_batched_equals_one_by_one(trained_model):
    backend = LocalBackend(trained_model, batch_size=3, num_threads=1)
    for params in (GREEDY, SAMPLED):
        batched = backend.generate(PROMPTS, [1, 2, 3, 4], params)
        single = [backend.generate([p], [s], params)[0] for p, s in zip(PROMPTS, [1, 2, 3, 4])]
        assert batched == single and all(g.text is not None for g in batched)
    a, b = (backend.generate(PROMPTS[:1], [s], SAMPLED)[0].text for s in (1, 2))
    assert a != b  # the seed matters


@pytest.fixture
def server(trained_model, request):
    """An in-process `curate serve` (same code as the CLI) on 127.0.0.1, any free port."""
    kwargs = getattr(request, "param", {})
    httpd = serve(trained_model, "127.0.0.1", 0, model_name="tiny", **kwargs)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()
    httpd.server_close()


def test_http_backend_matches_local_backend(trained_model, server):
    url, _ = server
    local = LocalBackend(trained_model, batch_size=4).generate(PROMPTS, [1, 2, 3, 4], GREEDY)
    remote = HttpBackend(url, "tiny", concurrency=3).generate(PROMPTS, [1, 2, 3, 4], GREEDY)
    assert remote == local
    # chat renders system + user in the same Vicuna format: the same text
    chat = [user_message(STYLES["easy"], "The cat sat on the mat. It was happy.")]
    assert HttpBackend(url, "tiny", api="chat").generate(chat, [1], GREEDY) == local[:1]


@pytest.mark.parametrize("server", [{"fail_first": 2}], indirect=True)
def test_http_backend_retries_injected_failures(server):
    url, _ = server
    assert HttpBackend(url, "tiny", max_retries=0).generate(PROMPTS[:1], [1], GREEDY)[0].error == "http_503"
    retried = HttpBackend(url, "tiny", max_retries=2, backoff_s=0.01).generate(PROMPTS[:1], [1], GREEDY)[0]
    assert retried.text is not None  # failed once more (the 2nd injected 503), then succeeded


@pytest.mark.parametrize("server", [{"delay_s": 1.0}], indirect=True)
def test_http_backend_times_out(server):
    url, _ = server
    got = HttpBackend(url, "tiny", timeout_s=0.2, max_retries=1, backoff_s=0.01).generate(PROMPTS[:1], [1], GREEDY)
    assert got[0].error == "timeout"


def test_http_backend_connection_refused_is_counted():
    got = HttpBackend("http://127.0.0.1:9", "tiny", max_retries=1, backoff_s=0.0).generate(["x"], [0], GREEDY)
    assert got[0].text is None and got[0].error == "connection"


def test_curate_serve_cli_answers_models_and_completions(trained_model):
    import subprocess
    import sys
    import urllib.request

    import orjson

    from tests.conftest import REPO, _env

    proc = subprocess.Popen([sys.executable, "-m", "curate", "serve", str(trained_model), "--port", "0",
                             "--model-name", "tiny"], stdout=subprocess.PIPE, text=True, cwd=REPO, env=_env())
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving ") and "/v1" in line
        base = line.split()[-1]
        models = orjson.loads(urllib.request.urlopen(base + "/models", timeout=30).read())
        assert models["data"][0]["id"] == "tiny"
        remote = HttpBackend(base.removesuffix("/v1"), "tiny").generate(PROMPTS[:2], [1, 2], GREEDY)
        assert remote == LocalBackend(trained_model).generate(PROMPTS[:2], [1, 2], GREEDY)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


RECIPE = """
[recipe]
name = "wrap-test"
seed = 1

[[sources]]
name = "web"
paths = ["docs.jsonl"]

[[steps]]
use = "rephrase"
{backend}
styles = ["easy", "qa"]
chunk_tokens = 64
max_new_tokens = 8
temperature = 0.8
top_p = 0.95
keep_originals = {keep}
cache_dir = "cache"

[output]
dir = "{out}"
rejected = "full"
"""


def build(tmp_path, backend: str, out: str = "out", keep: str = "true", workers: int = 1):
    docs = [{"id": d["id"], "text": d["text"][:500], "url": d.get("url")} for d in read_sample(3)]
    write_jsonl(tmp_path / "docs.jsonl", docs)
    recipe = tmp_path / f"{out}.toml"
    recipe.write_text(RECIPE.format(backend=backend, keep=keep, out=out), encoding="utf-8")
    assert main(["build", str(recipe), "--no-progress", "--workers", str(workers)]) == 0
    manifest = Manifest.load(tmp_path / out)
    table = pq.read_table(tmp_path / out / manifest.shards[0].path) if manifest.shards else None
    import orjson

    return table, orjson.loads((tmp_path / out / "stats.json").read_bytes())["total"]


def test_rephrase_build_columns_ids_accounting_and_resume(trained_model, tmp_path):
    table, stats = build(tmp_path, f'model = "{trained_model}"')
    step = stats["steps"][0]
    assert stats["read"] == 3 and step["generated"] == step["counts"]["chunks"] > 3
    assert stats["read"] + step["generated"] == stats["kept"] + sum(step["dropped"].values())
    rows = table.to_pylist()
    originals = [r for r in rows if r["style"] == "original"]
    synthetic = [r for r in rows if r["style"] != "original"]
    assert len(originals) == 3 and all(r["derived_from"] is None for r in originals)
    assert {r["style"] for r in synthetic} == {"easy", "qa"}
    assert all(r["generator"] == "run/final" and r["id"].startswith(r["derived_from"] + "/wrap:") for r in synthetic)
    assert rows[0]["id"] == originals[0]["id"] and rows[1]["derived_from"] == originals[0]["id"]  # interleaved
    assert len({r["id"] for r in rows}) == len(rows)
    # a second build with the same cache generates nothing and writes the same shard
    again, stats2 = build(tmp_path, f'model = "{trained_model}"', out="again", workers=2)
    assert stats2["steps"][0]["counts"]["cached"] == step["counts"]["chunks"]
    assert stats2["steps"][0]["counts"]["generated_chunks"] == 0
    assert again.drop_columns(["input_file"]).equals(table.drop_columns(["input_file"]))


def test_failed_chunks_are_dropped_with_reason_then_retried(server, tmp_path):
    url, httpd = server
    httpd.model_server.fail_left = 10**6
    backend = f'backend = "http"\nurl = "{url}"\nmodel_name = "tiny"\nmax_retries = 0'
    table, stats = build(tmp_path, backend, keep="false")
    step = stats["steps"][0]
    assert stats["kept"] == 0 and step["dropped"] == {"rephrased": 3, "rephrase_http_503": step["generated"]}
    rejected = pq.read_table(next((tmp_path / "out" / "rejected").glob("*.parquet"))).to_pylist()
    failed = [r for r in rejected if r["reason"] == "rephrase_http_503"]
    assert len(failed) == step["generated"] and all("/wrap:" in r["id"] and r["text"] for r in failed)
    httpd.model_server.fail_left = 0  # the server recovers: the next run generates every chunk again
    table2, stats2 = build(tmp_path, backend, out="retry", keep="false")
    counts = stats2["steps"][0]["counts"]
    assert counts["generated_chunks"] == counts["chunks"] == step["generated"] == table2.num_rows
    assert set(table2.column("style").to_pylist()) == {"easy", "qa"}


def test_bad_style_fails_with_one_line(tmp_path):
    write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "x"}])
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE.format(backend='model = "m"', keep="true", out="o").replace('"qa"', '"poetry"'))
    res = run_cli("build", str(recipe))
    assert res.returncode == 2 and "'poetry' is not a style" in res.stderr and "custom_styles" in res.stderr
