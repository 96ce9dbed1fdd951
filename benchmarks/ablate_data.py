"""Training inputs and fixed eval sets of the recipes/ablate/ experiments, cut from ../shared/data.

    python benchmarks/ablate_data.py [--out out/ablate-data]

Every eval document is held out of every training file (each source's every 10th row by id order is
held out), and eval sets are cut to their first ``EVAL_CHARS`` characters so that one tiny-model
scoring pass stays short. Files (JSONL.zst, fields id/text/url/source):

- ``dedup/train``: Debian handbook pages of 8 languages (most are untranslated English copies: natural
  near-duplicates), all package copyright files (81 files, 34 distinct texts) and kernel docs;
  ``eval/unique_docs``: held-out kernel docs and man pages whose text occurs once in the corpus.
- ``quality/web``: the real, unfiltered web sample (CC WET pages, ~20 languages, boilerplate);
  ``eval/clean``: held-out Wikipedia excerpts and Lee news articles.
- ``anneal/general``: man pages, kernel docs, handbook, Wikipedia, news, Shakespeare; ``anneal/python``:
  the Python docs; ``eval/python`` and ``eval/general``: their held-out rows.
- ``meco/web`` is the web sample itself (URLs present); ``eval/web_urls``: its held-out rows;
  ``eval/web_urls_head``: the same rows cut to their first ``HEAD_CHARS`` characters (prefix + page fit
  one 128-token window) with ``true_prefix`` (the prefix step's ``url_domain`` text, ``URL: host\n\n``)
  and ``wrong_prefix`` (the next row's: another site), read by the eval sets' ``prefix_field``.
- ``eval/lego_skill<k>.jsonl``: 100 LEGO problems of skill k (seed 1; ``curate lego`` trains on seed 0)
  as multiple choice: context = the question, choices = the asked variable ``=+1`` / ``=-1``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import orjson
import polars as pl
import zstandard

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"
EVAL_CHARS = 2000
EVAL_DOCS = 60
HEAD_CHARS = 300
HANDBOOK_LANGS = ["en", "de", "fr", "es", "it", "ja", "zh", "pt-BR"]
GENERAL = ["debian/manpages", "debian/linux_docs", "debian/debian_handbook", "pypi/gensim-test-data/lee",
           "karpathy/tinyshakespeare"]


def read(name: str) -> pl.DataFrame:
    raw = zstandard.ZstdDecompressor().stream_reader((DATA / name).open("rb")).read()
    df = pl.read_ndjson(io.BytesIO(raw), infer_schema_length=None)
    lang = pl.col("lang") if "lang" in df.columns else pl.lit(None, pl.Utf8).alias("lang")
    return df.select("id", "text", "url", "source", lang).sort("id")


def split(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, held out): every 10th row of each source (in id order) is held out."""
    df = df.with_columns((pl.int_range(pl.len()).over("source") % 10 == 0).alias("_held"))
    return df.filter(~pl.col("_held")).drop("_held"), df.filter(pl.col("_held")).drop("_held")


def write(df: pl.DataFrame, path: Path) -> None:
    df = df.drop("lang")
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    df.write_ndjson(buf)
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(buf.getvalue()))
    print(f"{path}: {df.height} docs, {df['text'].str.len_bytes().sum():,} bytes")


def eval_set(df: pl.DataFrame, n: int = EVAL_DOCS) -> pl.DataFrame:
    df = df.filter(pl.col("text").str.len_chars() >= 500)
    step = max(1, df.height // n)
    return df[::step].head(n).with_columns(pl.col("text").str.slice(0, EVAL_CHARS))


def url_prefixed(df: pl.DataFrame) -> pl.DataFrame:
    """The rows cut to ``HEAD_CHARS``, with their own MeCo URL prefix and the next row's (a wrong site)."""
    import pyarrow as pa

    from curate.steps.prefix import Prefix

    urls = pa.RecordBatch.from_pydict({"url": pa.array(df["url"].to_list(), pa.string())})
    true = Prefix(kind="url_domain").annotate(urls).column("prefix_text").to_pylist()
    return df.with_columns(pl.col("text").str.slice(0, HEAD_CHARS), pl.Series("true_prefix", true),
                           pl.Series("wrong_prefix", true[1:] + true[:1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/ablate-data"))
    out = ap.parse_args().out
    corpus = read("bench_corpus.jsonl.zst")
    train, held = split(corpus)
    src = lambda df, *names: df.filter(pl.col("source").is_in(list(names)))  # noqa: E731

    handbook = src(train, "debian/debian_handbook").filter(pl.col("lang").is_in(HANDBOOK_LANGS))
    write(pl.concat([handbook, src(train, "debian/copyright_files"), src(train, "debian/linux_docs")[::4]]),
          out / "dedup" / "train.jsonl.zst")
    counts = corpus.group_by("text").len()
    unique = held.join(counts, on="text").filter(pl.col("len") == 1).drop("len")
    write(eval_set(src(unique, "debian/linux_docs", "debian/manpages")), out / "eval" / "unique_docs.jsonl.zst")

    web_train, web_held = split(read("web_sample.jsonl.zst"))
    write(web_train, out / "quality" / "web.jsonl.zst")
    write(web_train, out / "meco" / "web.jsonl.zst")
    web_eval = eval_set(web_held, 60)
    write(web_eval, out / "eval" / "web_urls.jsonl.zst")
    write(url_prefixed(web_eval), out / "eval" / "web_urls_head.jsonl.zst")
    write(eval_set(src(held, "pypi/gensim-test-data/wikipedia", "pypi/gensim-test-data/lee")),
          out / "eval" / "clean.jsonl.zst")

    general = src(train, *GENERAL, "pypi/gensim-test-data/wikipedia")
    write(general.filter(pl.col("text").str.len_chars() < 20_000)[::4], out / "anneal" / "general.jsonl.zst")
    write(src(train, "debian/python_docs"), out / "anneal" / "python.jsonl.zst")
    write(eval_set(src(held, "debian/python_docs")), out / "eval" / "python.jsonl.zst")
    write(eval_set(src(held, *GENERAL)), out / "eval" / "general.jsonl.zst")
    write_lego_mc(out / "eval")


def write_lego_mc(out: Path, num_items: int = 100, num_vars: int = 5) -> None:
    from train.lego import lego_documents

    for k in range(1, num_vars + 1):
        rows = []
        for doc in lego_documents(k, num_items, num_vars, seed=1):
            var, value = doc["text"].strip().split("=")
            rows.append({"context": doc["question"], "choices": [f"{var}=+1", f"{var}=-1"],
                         "gold": 0 if value == "+1" else 1})
        (out / f"lego_skill{k}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    print(f"{out}/lego_skill1..{num_vars}.jsonl: {num_items} problems each")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
