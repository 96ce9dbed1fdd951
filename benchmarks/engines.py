"""Engines side by side: the same build on the local process pool and on Ray, same cores, one run.

Recipe: the quality chain (gopher_repetition, gopher_quality, c4, fineweb_quality) -> minhash_dedup
-> tokenize (a 4096-token BPE trained once, up front, on 2,000 documents). Input: ``--copies``
copies of ``../shared/data/bench_corpus.jsonl.zst`` (120 MB of text, 17,360 documents) with
distinct ids, each copy split into ``--files-per-copy`` JSONL files (the fragments). The copies are
near-duplicates of each other by construction, so ``minhash_dedup`` clusters every document with
its copies: the connected components do real work.

Each configuration runs ``python -m curate build`` in a child process; a sampler walks that
process's tree in /proc every 0.2 s and keeps, per process, its CPU time and peak RSS (VmHWM).
Per-stage and per-phase wall times and shuffle bytes come from ``$CURATE_TIMINGS``.
"Driver" is the ``curate build`` process; "workers" are all its descendants (forked pool workers;
for Ray, the raylet, GCS and worker processes it starts). Also checked: every configuration writes
the same shards (sha256).

    python benchmarks/engines.py [--copies 4] [--workers 2] [--engines local,ray] [--also-1x]
    python benchmarks/engines.py --s3        # also Ray reading from and writing to a local S3 server
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
TICKS = os.sysconf("SC_CLK_TCK")


def write_copies(root: Path, copies: int, files_per_copy: int, limit: int | None) -> int:
    """``copies`` x the corpus (its first ``limit`` documents) as ``files_per_copy`` JSONL files
    each; returns the documents."""
    with open(CORPUS, "rb") as f:
        lines = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8").readlines()
    lines = lines[:limit] if limit else lines
    root.mkdir(parents=True, exist_ok=True)
    for k in range(copies):
        for j in range(files_per_copy):
            part = lines[j * len(lines) // files_per_copy:(j + 1) * len(lines) // files_per_copy]
            with open(root / f"c{k}-{j:02d}.jsonl", "w", encoding="utf-8") as out:
                for line in part:
                    doc = json.loads(line)
                    doc["id"] = f"c{k}/{doc['id']}"
                    out.write(json.dumps(doc) + "\n")
    return copies * len(lines)


def train_tokenizer(path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from curate.tokens.bpe import train_bpe

    with open(CORPUS, "rb") as f:
        reader = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8")
        texts = [json.loads(next(reader))["text"][:20000] for _ in range(2000)]
    train_bpe(texts, vocab_size=4096, special_tokens=["<|endoftext|>"], num_texts=len(texts)).save(str(path))


def write_recipe(path: Path, inputs: str, out: str, tokenizer: Path) -> None:
    path.write_text(f'''[recipe]
name = "engines_bench"
[[sources]]
name = "bench"
paths = ["{inputs}"]
[[steps]]
use = "gopher_repetition"
[[steps]]
use = "gopher_quality"
[[steps]]
use = "c4"
[[steps]]
use = "fineweb_quality"
[[steps]]
use = "minhash_dedup"
[[steps]]
use = "tokenize"
tokenizer = "{tokenizer}"
[output]
dir = "{out}"
''')


def _proc(pid: int) -> tuple[int, float, int, str] | None:
    """(ppid, CPU seconds, peak RSS bytes, name) of a live process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
        name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:80]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    hwm = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, hwm, name


def run_measured(cmd: list[str], env: dict[str, str]) -> dict:
    """Run ``cmd``; wall seconds and, for the driver and its descendants, CPU and peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: dict[int, tuple[float, int, str]] = {}
    while proc.poll() is None:
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (info := _proc(int(entry))) is not None:
                table[int(entry)] = info
        tree, frontier = {proc.pid}, [proc.pid]
        while frontier:
            parent = frontier.pop()
            for pid, info in table.items():
                if info[0] == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        for pid in tree:
            if pid in table:
                _, cpu, hwm, name = table[pid]
                old = seen.get(pid, (0.0, 0, name))
                seen[pid] = (max(cpu, old[0]), max(hwm, old[1]), name)
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    output = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-3000:]}")
    driver = seen.get(proc.pid, (0.0, 0, ""))
    workers = [v for pid, v in seen.items() if pid != proc.pid]
    return {"wall_s": wall, "driver_cpu_s": driver[0], "driver_peak_rss_mb": driver[1] / 1e6,
            "workers_cpu_s": sum(w[0] for w in workers),
            "worker_max_peak_rss_mb": max((w[1] for w in workers), default=0) / 1e6,
            "workers_sum_peak_rss_mb": sum(w[1] for w in workers) / 1e6, "num_processes": len(seen),
            "output_tail": output.strip().splitlines()[-4:]}


def shard_digest(out: str) -> str:
    """sha256 over the shards' names and contents, of a local dir or an s3://curate-bench/ prefix.
    The ``input_file`` lineage column is left out: it names the input as the recipe gave it (a local
    path or an s3:// URI), so it differs by design between local and S3 inputs; every other column
    and the row order must be identical."""
    h = hashlib.sha256()
    if out.startswith("s3://"):
        import boto3

        s3, prefix = boto3.client("s3"), out.removeprefix("s3://curate-bench/") + "/shards/"
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="curate-bench", Prefix=prefix).get("Contents", [])
                      if o["Key"].endswith(".parquet"))
        files = [(k.rsplit("/", 1)[1], s3.get_object(Bucket="curate-bench", Key=k)["Body"].read()) for k in keys]
    else:
        files = [(p.name, p.read_bytes()) for p in sorted((Path(out) / "shards").glob("*.parquet"))]
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, data in files:
        table = pq.read_table(pa.BufferReader(data))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.drop_columns(["input_file"]).schema) as writer:
            writer.write_table(table.drop_columns(["input_file"]))
        h.update(name.encode())
        h.update(hashlib.sha256(sink.getvalue().to_pybytes()).digest())
    return h.hexdigest()[:16]


def scale_model(results: list[dict], text_bytes: float = 10e12, nodes: int = 1000, cores_per_node: int = 16,
                fragment_bytes: float = 256e6, largest_cluster: int = 10**6) -> list[tuple[str, str]]:
    """The 10 TB model from the measured Ray run (largest input): rates per core, bytes per
    document and per phase, rounds. Returns (quantity, value) rows for benchmarks/README.md."""
    import math

    sys.path.insert(0, str(REPO))
    from curate.dedup.cluster import MAX_PARTITION_BITS, PARTITION_ENTRIES, partition_bits
    from curate.engines.shuffle import RANGE_DOCS

    r = max((x for x in results if x["engine"] == "ray"), key=lambda x: x["copies"])
    cpus = r["cpus"]
    phases = {p["name"]: p for p in r["phases"]}
    stage_names = sorted(n for n in phases if n.startswith("stage"))
    mb = r["input_mb"]
    bytes_per_doc = mb * 1e6 / r["docs"]
    docs = text_bytes / bytes_per_doc
    cores = nodes * cores_per_node
    rate = {n: mb / (phases[n]["seconds"] * cpus) for n in stage_names}  # MB/s per core
    cc = [p for n, p in phases.items() if ".cc" in n]
    shuffle_per_doc = {n.split(".", 1)[1]: p["bytes"] / r["docs"] for n, p in phases.items()
                       if "." in n and p["bytes"]}
    rounds_measured = max(len(cc) - 1, 1)
    rounds = math.ceil(rounds_measured * math.log2(largest_cluster) / math.log2(max(r.get("largest", 32), 2)))
    total_entries = shuffle_per_doc.get("bands", 0) * docs / 16  # 16 bytes per (key, doc) entry
    bits = partition_bits(int(total_entries))
    entries = total_entries / 2**bits
    ranges = math.ceil(docs / RANGE_DOCS)
    fragments = math.ceil(text_bytes / fragment_bytes)
    resolve_s = sum(p["seconds"] for n, p in phases.items() if n.startswith("scratch"))
    resolve_rate = mb / (resolve_s * cpus)  # MB of input per second per core, all resolve phases
    t_stage = {n: text_bytes / 1e6 / (rate[n] * cores) for n in stage_names}
    t_resolve = text_bytes / 1e6 / (resolve_rate * cores) * rounds / rounds_measured
    rows = [("documents (at the benchmark's bytes per document)", f"{docs:.3g} ({bytes_per_doc:,.0f} B each)"),
            ("fragment tasks per stage (256 MB fragments)", f"{fragments:,}")]
    for n in stage_names:
        rows.append((f"{n}: measured MB/s per core -> wall", f"{rate[n]:.2f} -> {t_stage[n] / 60:,.1f} min"))
    rows += [
        ("shuffle bytes per input document (measured, per phase)",
         ", ".join(f"{k} {v:,.1f}" for k, v in shuffle_per_doc.items())),
        ("all shuffles, one pass of each phase", f"{sum(shuffle_per_doc.values()) * docs / 1e9:,.0f} GB"),
        ("minhash band-key shuffle", f"{shuffle_per_doc.get('bands', 0) * docs / 1e9:,.0f} GB in "
                                     f"{2**bits} key partitions (cap 2^{MAX_PARTITION_BITS})"),
        ("entries per key partition -> edges task RAM", f"{entries:,.3g} -> ~{entries * 56 / 1e9:,.1f} GB "
                                                        f"(target {PARTITION_ENTRIES:,})"),
        ("shuffle files per map phase (map tasks x partitions)", f"{fragments * 2**bits:,.3g}"),
        ("document ranges (CC / members / clusters tasks per round)", f"{ranges:,}"),
        ("CC rounds (measured -> at a 10^6-document largest cluster)", f"{rounds_measured} -> ~{rounds}"),
        ("resolve phases: measured MB/s per core -> wall", f"{resolve_rate:.1f} -> {t_resolve / 60:,.1f} min"),
        ("driver peak RSS (measured)", f"{r['driver_peak_rss_mb']:.0f} MB, flat in the input; + per-fragment "
                                        f"counts (~2 KB x {fragments:,} x {len(stage_names)} stages)"),
        ("worker peak RSS (measured max)", f"{r['worker_max_peak_rss_mb']:.0f} MB"),
        ("expected wall (stages + resolve, perfect balance)",
         f"{(sum(t_stage.values()) + t_resolve) / 60:,.1f} min"),
    ]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--files-per-copy", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--docs", type=int, default=None, help="use the corpus's first DOCS documents (smoke runs)")
    ap.add_argument("--engines", default="local,ray")
    ap.add_argument("--also-1x", action="store_true", help="also run 1 copy (driver RSS flatness)")
    ap.add_argument("--s3", action="store_true",
                    help="also run Ray reading from and writing to s3://curate-bench/ on a local S3 server "
                         "(moto's ThreadedMotoServer on 127.0.0.1, in this process; tests/s3_server.py)")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--model", type=Path, default=None, help="print the 10 TB scale model of a --json file")
    args = ap.parse_args()
    if args.s3:
        import contextlib

        sys.path.insert(0, str(REPO))
        from tests.s3_server import local_s3_server

        with contextlib.ExitStack() as stack:
            args.s3_endpoint = stack.enter_context(local_s3_server())
            return run(args)
    args.s3_endpoint = None
    return run(args)


def upload(inputs: Path, prefix: str) -> None:
    """Put every input file under s3://curate-bench/PREFIX/ (bucket created if missing)."""
    import boto3

    s3 = boto3.client("s3")
    if "curate-bench" not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket="curate-bench")
    for path in sorted(inputs.iterdir()):
        s3.upload_file(str(path), "curate-bench", f"{prefix}/{path.name}")


def run(args) -> None:
    if args.model:
        for name, value in scale_model(json.loads(args.model.read_text())):
            print(f"| {name} | {value} |")
        return
    work = Path(tempfile.mkdtemp(prefix="curate-engines-"))
    tok = work / "tokenizer.json"
    train_tokenizer(tok)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    sizes = ([1] if args.also_1x and args.copies != 1 else []) + [args.copies]
    # Warm-up (not measured): compiles and caches the numba kernels, as any second build finds them.
    write_copies(work / "warm", 1, 1, 300)
    write_recipe(work / "warm.toml", f"{work / 'warm'}/*.jsonl", str(work / "out-warm"), tok)
    run_measured([sys.executable, "-m", "curate", "build", str(work / "warm.toml"), "--no-progress"], env)
    results = []
    for copies in sizes:
        inputs = work / f"in{copies}"
        docs = write_copies(inputs, copies, args.files_per_copy, args.docs)
        mb = sum(p.stat().st_size for p in inputs.iterdir()) / 1e6
        configs = [(e, f"{inputs}/*.jsonl", str(work / f"out-{e}-{copies}")) for e in args.engines.split(",")]
        if args.s3_endpoint:
            upload(inputs, f"in{copies}")
            configs.append(("ray+s3", f"s3://curate-bench/in{copies}/*.jsonl", f"s3://curate-bench/out{copies}"))
        for engine, src, out in configs:
            recipe = work / f"{engine}-{copies}.toml"
            write_recipe(recipe, src, out, tok)
            cmd = [sys.executable, "-m", "curate", "build", str(recipe), "--workers", str(args.workers),
                   "--no-progress", "--overwrite", "--engine", engine.split("+")[0]]
            timings = work / f"timings-{engine}-{copies}.jsonl"
            run_env = dict(env, CURATE_TIMINGS=str(timings))
            r = run_measured(cmd, run_env)
            r["phases"] = [json.loads(line) for line in timings.read_text().splitlines()] if timings.exists() else []
            stats = json.loads((Path(out) / "stats.json").read_text()) if not out.startswith("s3://") else {}
            minhash = next((v for k, v in stats.get("global_steps", {}).items() if "minhash" in k), {})
            r.update(engine=engine, copies=copies, docs=docs, input_mb=round(mb, 1), cpus=args.workers,
                     largest=minhash.get("largest_cluster", 0), rounds=minhash.get("cc_rounds", 0),
                     shards=shard_digest(out))
            results.append(r)
            print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()
                              if k != "phases"}), flush=True)
            for p in r["phases"]:
                print(f"    {p['name']}: {p['tasks']} tasks, {p['seconds']:.2f} s, {p['bytes'] / 1e6:.1f} MB shuffled")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print("\n| engine | copies | input MB | wall s | driver CPU s | workers CPU s | driver peak RSS MB "
          "| max worker peak RSS MB | shards sha256 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['engine']} | {r['copies']} | {r['input_mb']:.0f} | {r['wall_s']:.1f} | {r['driver_cpu_s']:.1f} "
              f"| {r['workers_cpu_s']:.1f} | {r['driver_peak_rss_mb']:.0f} | {r['worker_max_peak_rss_mb']:.0f} "
              f"| {r['shards']} |")


if __name__ == "__main__":
    main()
