"""Near-duplicate removal, side by side on the same data: datatrove's 4-stage MinHash pipeline,
datasketch MinHash + MinHashLSH, rensa RMinHash + RMinHashLSH, and curate's ``minhash_dedup``.

All use the same slice of ``../shared/data/bench_corpus.jsonl.zst`` (plus planted near-duplicates of
some of its documents), the same number of bands, rows per band and word n-gram size. Each tool runs
as its own process, from reading the slice to the set of removed ids ("end to end"); wall and CPU
seconds are those of the whole process as the parent sees it (interpreter start-up and imports
included): curate is the ``python -m curate build`` command a user runs, into a fresh output
directory, the peers a child of this script. The peers get the same connected-components semantics
(a document is removed when LSH links it to an earlier one). Each tool first runs ``--warmup``
untimed times (file cache, byte-compiled modules, curate's compiled kernels: what any second run
on a machine finds); children write byte code under ``--work`` (``PYTHONPYCACHEPREFIX``) even where
``PYTHONDONTWRITEBYTECODE`` is set, as an installed package has it.

Printed per tool: MB/s per core (text bytes / wall seconds / cores; and per CPU-second of the
tool's processes, steadier on a shared machine), peak RSS of its largest process, documents
removed, recall on planted pairs with true Jaccard >= 0.85 and precision (removed planted variants
whose true Jaccard to their original is >= --threshold, over all removed planted variants);
then the pairwise agreement (Jaccard of removed-id sets) and curate's 2-worker speedup.

Run:  python benchmarks/dedup.py --mb 20
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
TOOLS = ("datatrove", "datasketch", "rensa", "curate", "curate_2w")
EDIT_RATES = (0.005, 0.01, 0.02, 0.03, 0.1, 0.3)
BOILERPLATE = ("Subscribe to our newsletter to get the latest stories delivered to your inbox every "
               "week. We respect your privacy and you can unsubscribe at any time.")
NUM_FILES = 8


# ---------------------------------------------------------------- the data


def words_of(text: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", text.lower()) if w]


def true_jaccard(a: str, b: str, n: int) -> float:
    wa, wb = words_of(a), words_of(b)
    sa = {tuple(wa[i:i + n]) for i in range(max(1, len(wa) - n + 1))}
    sb = {tuple(wb[i:i + n]) for i in range(max(1, len(wb) - n + 1))}
    return len(sa & sb) / max(1, len(sa | sb))


def plant(doc: dict, rng: random.Random) -> list[tuple[str, str]]:
    words = doc["text"].split(" ")
    out = []
    for rate in EDIT_RATES:
        edited = list(words)
        for pos in rng.sample(range(len(words)), max(1, int(rate * len(words)))):
            edited[pos] = rng.choice(words)
        out.append((f"edit{rate}", " ".join(edited)))
    paragraphs = doc["text"].split("\n")
    cut = rng.randrange(len(paragraphs) + 1)
    out.append(("boilerplate", "\n".join(paragraphs[:cut] + [BOILERPLATE] + paragraphs[cut:])))
    if len(paragraphs) >= 2:
        i, j = rng.sample(range(len(paragraphs)), 2)
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
        out.append(("swap", "\n".join(paragraphs)))
    return out


def make_slice(work: Path, mb: float, num_planted: int, ngram: int, copies: int = 1) -> dict:
    """Write the slice (one file and NUM_FILES parts per copy) and the planted pairs with their
    Jaccard. ``copies`` > 1 appends that many exact copies of the slice (ids prefixed ``c<k>/``),
    for scaling runs beyond the corpus size; the copies are duplicates every tool removes."""
    import numpy as np
    import zstandard

    reader = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(CORPUS.open("rb")), "utf-8")
    docs, size = [], 0
    for line in reader:
        d = json.loads(line)
        docs.append({"id": d["id"], "text": d["text"]})
        size += len(d["text"].encode())
        if size >= mb * 1e6:
            break
    rng = random.Random(0)
    candidates = [d for d in docs[: len(docs) // 2] if 150 <= len(d["text"].split()) <= 1500]
    planted, pairs = [], []
    for base in rng.sample(candidates, min(num_planted, len(candidates))):
        for k, (kind, text) in enumerate(plant(base, rng)):
            pid = f"planted/{base['id']}/{k}"
            planted.append({"id": pid, "text": text})
            pairs.append({"base": base["id"], "id": pid, "kind": kind,
                          "jaccard": true_jaccard(base["text"], text, ngram)})
    size += sum(len(d["text"].encode()) for d in planted)
    first_half = len(docs) // 2  # where the planted originals come from
    while size > mb * 1e6 and len(docs) > first_half:  # make room: drop the corpus's last documents
        size -= len(docs.pop()["text"].encode())
    docs += planted
    docs += [{"id": f"c{k}/{d['id']}", "text": d["text"]} for k in range(1, copies) for d in docs]
    with open(work / "slice.jsonl", "w") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    shutil.rmtree(work / "parts", ignore_errors=True)
    (work / "parts").mkdir()
    sizes = [len(d["text"].encode()) for d in docs]  # contiguous files of about equal bytes
    num_files = NUM_FILES * copies
    cuts = np.arange(1, num_files) * sum(sizes) / num_files
    ends = [0] + [int(x) for x in np.searchsorted(np.cumsum(sizes), cuts)]
    for p in range(num_files):
        stop = ends[p + 1] if p + 1 < num_files else len(docs)
        with open(work / "parts" / f"part{p:03d}.jsonl", "w") as f:
            for d in docs[ends[p]:stop]:
                f.write(json.dumps(d) + "\n")
    info = {"num_docs": len(docs), "text_mb": sum(len(d["text"].encode()) for d in docs) / 1e6,
            "pairs": pairs}
    (work / "slice.json").write_text(json.dumps(info))
    return info


# ---------------------------------------------------------------- the tools (one per process)


def python_shingles(text: str, ngram: int) -> list[bytes]:
    words = words_of(text)
    if len(words) < ngram:
        return [" ".join(words).encode()]
    return [" ".join(words[i:i + ngram]).encode() for i in range(len(words) - ngram + 1)]


def components_removed(ids: list[str], links: list[tuple[int, int]]) -> list[str]:
    """Removed ids under connected components, keeping each component's earliest document."""
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return [ids[i] for i in range(len(ids)) if find(i) != i]


def read_slice(work: Path) -> list[dict]:
    with open(work / "slice.jsonl") as f:
        return [json.loads(line) for line in f]


def run_datasketch(work: Path, args) -> list[str]:
    from datasketch import MinHash, MinHashLSH

    num_perm = args.num_bands * args.rows_per_band
    lsh = MinHashLSH(num_perm=num_perm, params=(args.num_bands, args.rows_per_band))
    ids, links = [], []
    for i, d in enumerate(read_slice(work)):
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch(python_shingles(d["text"], args.ngram))
        links += [(j, i) for j in lsh.query(m)]
        lsh.insert(i, m)
        ids.append(d["id"])
    return components_removed(ids, links)


def run_rensa(work: Path, args) -> list[str]:
    from rensa import RMinHash, RMinHashLSH

    num_perm = args.num_bands * args.rows_per_band
    lsh = RMinHashLSH(args.threshold, num_perm, args.num_bands)
    ids, links = [], []
    for i, d in enumerate(read_slice(work)):
        m = RMinHash(num_perm, 1)
        m.update([s.decode() for s in python_shingles(d["text"], args.ngram)])
        links += [(j, i) for j in lsh.query(m)]
        lsh.insert(i, m)
        ids.append(d["id"])
    return components_removed(ids, links)


def run_datatrove(work: Path, args) -> list[str]:
    import datatrove.utils.hashes.xxhash as dt_xxhash
    import xxhash
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    # datatrove 0.10.1 passes str to xxhash, which xxhash >= 4 refuses; encode as xxhash 3 did
    dt_xxhash.xxhash64 = lambda data: xxhash.xxh64_intdigest(data.encode() if isinstance(data, str) else data)
    dt = work / "datatrove"
    shutil.rmtree(dt, ignore_errors=True)  # datatrove skips tasks whose logs say they completed
    config = MinhashConfig(n_grams=args.ngram, num_buckets=args.num_bands, hashes_per_bucket=args.rows_per_band)

    def reader():
        return JsonlReader(str(work), glob_pattern="slice.jsonl")

    stages = [
        [reader(), MinhashDedupSignature(output_folder=str(dt / "sigs"), config=config)],
        [MinhashDedupBuckets(input_folder=str(dt / "sigs"), output_folder=str(dt / "buckets"), config=config)],
        [MinhashDedupCluster(input_folder=str(dt / "buckets"), output_folder=str(dt / "remove"), config=config)],
        [reader(), MinhashDedupFilter(input_folder=str(dt / "remove"),
                                      exclusion_writer=JsonlWriter(str(dt / "removed"), compression=None)),
         JsonlWriter(str(dt / "kept"), compression=None)],
    ]
    for k, pipeline in enumerate(stages):
        tasks = args.num_bands if k == 1 else 1
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1,
                              logging_dir=str(dt / f"logs{k}")).run()
    removed = []
    for path in sorted((dt / "removed").glob("*.jsonl")):
        removed += [json.loads(line)["id"] for line in path.open()]
    return removed


def curate_command(work: Path, args, workers: int) -> list[str]:
    """``curate build`` of the slice's 8 parts into a fresh output directory (removed first)."""
    recipe = work / f"curate_{workers}.toml"
    recipe.write_text(
        f'[recipe]\nname = "bench"\n[[sources]]\nname = "bench"\npaths = ["parts/*.jsonl"]\n'
        f'[[steps]]\nuse = "minhash_dedup"\nngram_size = {args.ngram}\nnum_bands = {args.num_bands}\n'
        f'rows_per_band = {args.rows_per_band}\n[output]\ndir = "out_curate_{workers}"\n'
        f'batch_rows = 4096\n')
    shutil.rmtree(work / f"out_curate_{workers}", ignore_errors=True)
    return [sys.executable, "-m", "curate", "build", str(recipe), "--workers", str(workers), "--no-progress"]


def curate_result(work: Path, workers: int) -> dict:
    """The removed ids (the rejected files) and build()'s own seconds (stats.json) of a finished build."""
    import pyarrow.parquet as pq

    out = work / f"out_curate_{workers}"
    removed: list[str] = []
    for path in sorted((out / "rejected").glob("*.parquet")):
        removed += pq.read_table(path, columns=["id"]).column(0).to_pylist()
    return {"removed": removed, "build_seconds": json.loads((out / "stats.json").read_text())["seconds"]}


def child(tool: str, work: Path, args) -> None:
    if tool == "datasketch":
        removed = run_datasketch(work, args)
    elif tool == "rensa":
        removed = run_rensa(work, args)
    else:
        removed = run_datatrove(work, args)
    (work / f"result_{tool}.json").write_text(json.dumps({"removed": removed}))


# ---------------------------------------------------------------- the report


def measure(tool: str, work: Path, args) -> dict:
    """One run of ``tool`` as a whole process: its wall and CPU seconds (its own and its workers'),
    peak RSS of its largest process, and the ids it removed."""
    workers = 2 if tool == "curate_2w" else 1
    if tool.startswith("curate"):
        cmd = curate_command(work, args, workers)
    else:
        cmd = [sys.executable, __file__, "--child", tool, "--work", str(work), "--ngram", str(args.ngram),
               "--num-bands", str(args.num_bands), "--rows-per-band", str(args.rows_per_band),
               "--threshold", str(args.threshold)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
               PYTHONPYCACHEPREFIX=str(work / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{tool} failed:\n{err.decode()[-2000:]}")
    if tool.startswith("curate"):
        result = curate_result(work, workers)
    else:
        result = json.loads((work / f"result_{tool}.json").read_text())
    result["seconds"] = seconds
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # its own and its workers' CPU time
    return result


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def machine_parallelism(n: int = 10_000_000) -> float:
    """Speedup of 2 processes over 1 on a pure-Python loop: what 2 workers can get right now."""
    import multiprocessing as mp

    t0 = time.perf_counter()
    _spin(n), _spin(n)
    serial = time.perf_counter() - t0
    with mp.get_context("fork").Pool(2) as pool:
        t0 = time.perf_counter()
        pool.map(_spin, [n, n])
        parallel = time.perf_counter() - t0
    return serial / parallel


def quality(removed: set[str], pairs: list[dict], threshold: float) -> tuple[float, float]:
    high = [p["id"] in removed for p in pairs if p["jaccard"] >= 0.85]
    hits = [p for p in pairs if p["id"] in removed]
    recall = sum(high) / max(1, len(high))
    precision = sum(p["jaccard"] >= threshold for p in hits) / max(1, len(hits))
    return recall, precision


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mb", type=float, default=20.0, help="MB of text to take from the corpus")
    p.add_argument("--copies", type=int, default=1, help="append exact copies of the slice (scaling runs)")
    p.add_argument("--num-bands", type=int, default=14)
    p.add_argument("--rows-per-band", type=int, default=9)
    p.add_argument("--ngram", type=int, default=5)
    p.add_argument("--threshold", type=float, default=0.7, help="Jaccard of a true near-duplicate")
    p.add_argument("--planted", type=int, default=100, help="documents that get planted variants")
    p.add_argument("--tools", default=",".join(TOOLS))
    p.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported, with the "
                   "min and median wall and CPU seconds")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs per tool before the timed ones")
    p.add_argument("--work", type=Path, default=Path("/tmp/curate_dedup_bench"))
    p.add_argument("--child", choices=TOOLS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.work, args)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    info = make_slice(args.work, args.mb, args.planted, args.ngram, args.copies)
    print(f"slice: {info['num_docs']} docs, {info['text_mb']:.1f} MB of text, {len(info['pairs'])} planted "
          f"variants; bands={args.num_bands} rows={args.rows_per_band} ngram={args.ngram}; cpus={os.cpu_count()}")
    results = {}
    for tool in args.tools.split(","):
        for _ in range(args.warmup):
            measure(tool, args.work, args)
        runs = [measure(tool, args.work, args) for _ in range(args.repeat)]
        results[tool] = r = min(runs, key=lambda x: x["seconds"])
        cpus = sorted(x["cpu_seconds"] for x in runs)
        walls = sorted(x["seconds"] for x in runs)
        r["cpu_min"], r["cpu_median"] = cpus[0], statistics.median(cpus)
        r["wall_median"] = statistics.median(walls)
        cores = 2 if tool == "curate_2w" else 1
        recall, precision = quality(set(r["removed"]), info["pairs"], args.threshold)
        print(f"{tool:11} {r['seconds']:8.1f} s {info['text_mb'] / r['seconds'] / cores:7.2f} MB/s/core "
              f"({info['text_mb'] / r['cpu_seconds']:6.2f} MB per CPU-s) peak RSS {r['peak_rss_mb']:5.0f} MB "
              f"removed {len(r['removed']):6}  "
              f"recall(J>=0.85) {recall:.3f}  precision(J>={args.threshold}) {precision:.3f}  "
              f"wall s min {r['seconds']:.2f} median {r['wall_median']:.2f}  "
              f"CPU s min {r['cpu_min']:.2f} median {r['cpu_median']:.2f}", flush=True)
    names = list(results)
    print("agreement (Jaccard of removed sets):")
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            sa, sb = set(results[a]["removed"]), set(results[b]["removed"])
            print(f"  {a:11} vs {b:11} {len(sa & sb) / max(1, len(sa | sb)):.3f}")
    if "curate" in results:
        base = results["curate"]["seconds"]
        for tool in names:
            if tool not in ("curate", "curate_2w"):
                print(f"curate is {results[tool]['seconds'] / base:6.2f}x faster than {tool} (wall min; "
                      f"median {results[tool]['wall_median'] / results['curate']['wall_median']:.2f}x); "
                      f"CPU min {results[tool]['cpu_min'] / results['curate']['cpu_min']:.2f}x, "
                      f"median {results[tool]['cpu_median'] / results['curate']['cpu_median']:.2f}x")
    if "curate" in results and "curate_2w" in results:
        print(f"control: 2 processes of a pure-Python loop ran {machine_parallelism():.2f}x as fast as "
              "1 just now (2.0x on two idle cores)")
        inner = [results[t]["build_seconds"] for t in ("curate", "curate_2w")]
        print(f"curate 2 workers vs 1: {base / results['curate_2w']['seconds']:.2f}x end to end, "
              f"{inner[0] / inner[1]:.2f}x for build() alone ({inner[0]:.2f} s vs {inner[1]:.2f} s, "
              f"stats.json; without process start-up and imports)")


if __name__ == "__main__":
    main()
