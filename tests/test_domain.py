"""Registered domains (offline PSL) and domain_balance: exact caps, exact down-sampling, repeat
column, per-domain stats, determinism for a seed and for any worker count."""

from __future__ import annotations

import collections
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.build import build
from curate.manifest import Manifest
from curate.recipe import load_recipe
from curate.steps.domain import registered_domains
from curate.text.urls import url_host
from curate.steps.domain_balance import keep_lowest_hash

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "tests" / "data" / "web_sample.jsonl.zst"


def test_registered_domains() -> None:
    urls = pa.array(["https://news.bbc.co.uk/x?y", "http://user:pw@WWW.Example.COM.:8080/a", "example.org/p",
                     "http://127.0.0.1/x", "http://localhost/", None, "", "https://foo.blogspot.com/"])
    assert url_host(urls).to_pylist()[:3] == ["news.bbc.co.uk", "www.example.com", "example.org"]
    assert registered_domains(urls).to_pylist() == [
        "bbc.co.uk", "example.com", "example.org", "127.0.0.1", None, None, None, "blogspot.com"]
    assert registered_domains(urls, private_suffixes=True).to_pylist()[-1] == "foo.blogspot.com"


def test_keep_lowest_hash_is_exact_and_nested() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 5, 400)
    hashes = rng.integers(0, 2**63, 400).astype(np.uint64)
    small = keep_lowest_hash(codes, hashes, np.array([0, 3, 10, 1000, 5]))
    large = keep_lowest_hash(codes, hashes, np.array([1, 6, 20, 1000, 5]))
    for c, limit in enumerate([0, 3, 10, 1000, 5]):
        assert small[codes == c].sum() == min(limit, (codes == c).sum())
    assert small[codes < 0].all() and not (small & ~large).any()


def _recipe(tmp_path: Path, steps: str, seed: int = 0, name: str = "r") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
[recipe]
name = "{name}"
seed = {seed}
[[sources]]
name = "web"
paths = ["{WEB}"]
[[steps]]
use = "domain"
{steps}
[output]
dir = "{tmp_path / ('out-' + name)}"
""")
    return path


def _rows(out: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted((out / "shards").glob("*.parquet"))])


BALANCE = """
[[steps]]
use = "domain_balance"
max_docs = 3
downsample = {"wikipedia.org" = 0.5}
upsample = {"stackexchange.com" = 3}
"""


def test_domain_balance_caps_downsample_repeat(tmp_path) -> None:
    manifest = build(load_recipe(_recipe(tmp_path, BALANCE)))
    rows = _rows(manifest.root)
    counts = collections.Counter(rows.column("domain").to_pylist())
    assert counts["wikipedia.org"] == 3  # 27 docs: min(round(0.5 * 27) = 14, cap 3)
    assert counts["blogspot.com"] == 3 and counts["stackexchange.com"] == 3
    assert max(n for d, n in counts.items() if d is not None) == 3
    repeat = dict(zip(rows.column("domain").to_pylist(), rows.column("repeat").to_pylist()))
    assert repeat["stackexchange.com"] == 3 and repeat["blogspot.com"] == 1
    assert manifest.repeat_column == "repeat" == Manifest.load(manifest.root).repeat_column
    import orjson

    stats = orjson.loads((manifest.root / "stats.json").read_bytes())
    (balance,) = [v for k, v in stats["global_steps"].items() if k.endswith("domain_balance")]
    assert balance["domains"]["wikipedia.org"] == {"in": 27, "kept": 3, "repeat": 1}
    dropped = stats["total"]["steps"][1]["dropped"]
    assert dropped["domain_downsampled"] == 27 - 14
    assert dropped["domain_cap"] == sum(max(0, n - 3) for n in input_domain_counts().values()) - 13


def input_domain_counts() -> collections.Counter:
    import io

    import polars as pl
    import zstandard

    df = pl.read_ndjson(io.BytesIO(zstandard.ZstdDecompressor().stream_reader(WEB.open("rb")).read()))
    return collections.Counter(d for d in registered_domains(pa.array(df["url"].to_list())).to_pylist() if d)


def test_downsample_fraction_is_exact(tmp_path) -> None:
    steps = '[[steps]]\nuse = "domain_balance"\ndownsample = {"wikipedia.org" = 0.25, "blogspot.com" = 0.5}\n'
    rows = _rows(build(load_recipe(_recipe(tmp_path, steps))).root)
    counts = collections.Counter(rows.column("domain").to_pylist())
    assert counts["wikipedia.org"] == 7 and counts["blogspot.com"] == 6  # floor(27/4+.5), floor(11/2+.5)
    assert "repeat" not in rows.column_names


def test_seeded_and_worker_independent(tmp_path) -> None:
    a = _rows(build(load_recipe(_recipe(tmp_path, BALANCE, seed=1, name="a"))).root)
    b = _rows(build(load_recipe(_recipe(tmp_path, BALANCE, seed=1, name="b")), workers=2).root)
    c = _rows(build(load_recipe(_recipe(tmp_path, BALANCE, seed=2, name="c"))).root)
    assert a.column("id").to_pylist() == b.column("id").to_pylist()
    assert a.column("id").to_pylist() != c.column("id").to_pylist()


def test_max_frac_cap(tmp_path) -> None:
    steps = '[[steps]]\nuse = "domain_balance"\nmax_frac = 0.02\n'  # 306 docs -> at most 6 per domain
    rows = _rows(build(load_recipe(_recipe(tmp_path, steps))).root)
    counts = collections.Counter(d for d in rows.column("domain").to_pylist() if d)
    assert max(counts.values()) == 6 and counts["blogspot.com"] == 6


def test_missing_domain_column_is_a_recipe_error(tmp_path) -> None:
    from curate.errors import RecipeError
    from curate.steps.domain_balance import DomainBalance

    with pytest.raises(RecipeError, match="domain"):
        DomainBalance(column="nope").prepare(pa.RecordBatch.from_pylist([{"id": "a"}]))
