"""Shard writing settings: size vs write time vs read time, measured on the bench corpus.

Reads ``bench_corpus.jsonl.zst`` once with curate's reader (the build's own batches, public
columns), then writes the whole corpus through ``curate.writers.ShardWriter`` (the build's writer)
with each setting: codec and level, row-group size, dictionary encoding (every column, or only
the columns other than the free-text ones: ``id``, ``text``, ``url``, ``meta``). For each it prints
the shard size, the write time and the time to read the shard back (``pq.read_table``), min and
median of ``--repeats`` interleaved runs, in one process on one core (``taskset -c 0``). Times are
CPU seconds of the process (``time.process_time``): on a loaded machine wall time mostly measures
the other jobs, CPU time the work.

Run: taskset -c 0 python benchmarks/write_settings.py [--data PATH] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curate import schema  # noqa: E402
from curate.readers import read_file  # noqa: E402
from curate.recipe import SourceSpec  # noqa: E402
from curate.writers import ShardWriter  # noqa: E402

FREE_TEXT_COLUMNS = ("id", "text", "url", "meta")  # nearly unique values

SETTINGS = [  # (label, codec, level, row_group_rows, dictionary on free-text columns)
    ("zstd-1, 8192 rows, dict all (old default)", "zstd", 1, 8192, True),
    ("zstd-1, 8192 rows, dict non-text", "zstd", 1, 8192, False),
    ("zstd-3, 8192 rows, dict all", "zstd", 3, 8192, True),
    ("zstd-3, 8192 rows, dict non-text", "zstd", 3, 8192, False),
    ("zstd-6, 8192 rows, dict non-text", "zstd", 6, 8192, False),
    ("zstd-1, 1024 rows, dict non-text", "zstd", 1, 1024, False),
    ("zstd-1, 65536 rows, dict non-text", "zstd", 1, 65536, False),
    ("snappy, 8192 rows, dict non-text", "snappy", None, 8192, False),
    ("lz4, 8192 rows, dict non-text", "lz4", None, 8192, False),
    ("none, 8192 rows, dict non-text", "none", None, 8192, False),
]


def read_corpus(path: Path) -> list[pa.RecordBatch]:
    src = SourceSpec(name="bench", paths=(str(path),))
    return [schema.public_columns(c.batch) for c in read_file(src, path, path.name, 2048) if c.batch.num_rows]


def write_once(batches: list[pa.RecordBatch], out: Path, codec: str, level: int | None, rg_rows: int,
               dictionary: bool) -> tuple[float, Path]:
    for old in out.glob("*.parquet"):
        old.unlink()
    writer = ShardWriter(out, "part", max_shard_rows=10**9, max_shard_bytes=2**40, row_group_rows=rg_rows,
                         compression=codec, compression_level=level,
                         use_dictionary=True if dictionary else
                         [n for n in batches[0].schema.names if n not in FREE_TEXT_COLUMNS])
    t0 = time.process_time()
    for b in batches:
        writer.write(b)
    (info,) = writer.close()
    return time.process_time() - t0, out / info.path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    batches = read_corpus(args.data)
    mb = sum(b.nbytes for b in batches) / 1e6
    print(f"{sum(b.num_rows for b in batches)} docs, {mb:.1f} MB of Arrow data; columns not "
          f"dictionary-encoded under 'dict non-text': {', '.join(FREE_TEXT_COLUMNS)}")
    print(f"{'setting':44s} {'size MB':>8s} {'write CPU s min/med':>20s} {'read CPU s min/med':>19s}")
    writes = {s[0]: [] for s in SETTINGS}
    reads = {s[0]: [] for s in SETTINGS}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for _ in range(args.repeats):  # interleaved, so a change in machine load hits every setting
            for label, codec, level, rg_rows, dictionary in SETTINGS:
                seconds, shard = write_once(batches, out, codec, level, rg_rows, dictionary)
                writes[label].append(seconds)
                t0 = time.process_time()
                pq.read_table(shard)
                reads[label].append(time.process_time() - t0)
                sizes[label] = shard.stat().st_size / 1e6
    for label, *_ in SETTINGS:
        w, r = writes[label], reads[label]
        print(f"{label:44s} {sizes[label]:8.1f} {min(w):11.2f}/{statistics.median(w):<8.2f} "
              f"{min(r):10.2f}/{statistics.median(r):.2f}")


if __name__ == "__main__":
    main()
