"""Line dedup, side by side on the same documents: curate's ``line_dedup`` against datatrove's
``SentenceDedup`` in its line mode and dolma's paragraph Bloom dedup, end to end (JSONL files in,
deduplicated text out), in one run.

Semantics compared (keep the first copy of every line, in input order):

- datatrove 0.10.1 ``SentenceDedupSignature`` -> ``SentenceFindDedups`` -> ``SentenceDedupFilter``
  with ``SentDedupConfig(split_sentences=False, n_sentences=1, min_doc_words=0,
  min_num_sentences=0)``, 64-bit sha1 hashes (its default xxhash raises on ``str`` in 0.10.1): lines
  of ``str.splitlines()``, compared after ``simplify_text``; one task, so its "first" is input
  order. Against curate ``line_dedup`` with ``normalize = true``.
- dolma ``dedupe`` with ``paragraphs`` (split on ``\\n``), ``skip_empty``, a Bloom filter at
  ``--fp-rate``: it writes duplicate spans, which are cut out here. Against curate ``line_dedup``
  with ``method = "bloom"`` at the same rate. dolma runs in its own interpreter (``--dolma-python``,
  a venv with ``pip install --no-deps dolma`` plus its light dependencies; its Rust entry point is
  loaded straight from the wheel), since its pinned dependencies do not install beside curate's.

Printed: MB/s of text per tool (wall; one process each, except dolma's own threads), ratios, and
the agreement: documents whose output text is the same (compared after ``strip()``), with the
reasons for the differences counted where they are known.

Run:  python benchmarks/subdedup.py --docs 3000 [--dolma-python /tmp/dolmavenv/bin/python]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
FALLBACK = REPO / "tests" / "data" / "web_sample.jsonl.zst"
NUM_FILES = 4


def load_docs(limit: int) -> list[dict]:
    import zstandard

    path = CORPUS if CORPUS.exists() else FALLBACK
    raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"))
    docs = []
    for line in io.TextIOWrapper(raw, encoding="utf-8"):
        d = json.loads(line)
        docs.append({"id": str(d["id"]), "text": d["text"], "source": "bench"})
        if len(docs) == limit:
            break
    print(f"{len(docs)} documents of {path.name}, {sum(len(d['text'].encode()) for d in docs) / 1e6:.1f} MB")
    return docs


def write_inputs(root: Path, docs: list[dict]) -> list[Path]:
    """NUM_FILES JSONL files of consecutive slices (input order = file order, then line order)."""
    step = -(-len(docs) // NUM_FILES)
    paths = []
    for i in range(NUM_FILES):
        path = root / "documents" / f"part-{i}.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8") as f:
            for d in docs[i * step:(i + 1) * step]:
                f.write(json.dumps(d) + "\n")
        paths.append(path)
    return paths


def run_curate(root: Path, step: str, out: str) -> tuple[float, dict[str, str]]:
    import curate
    from curate.recipe import load_recipe

    recipe = root / f"{out}.toml"
    recipe.write_text(f"""
[recipe]
name = "subdedup-bench"
[[sources]]
name = "bench"
paths = ["documents/part-*.jsonl.gz"]
[[steps]]
use = "line_dedup"
{step}
[output]
dir = "{out}"
""")
    t0 = time.perf_counter()
    manifest = curate.build(load_recipe(recipe), overwrite=True)
    seconds = time.perf_counter() - t0
    df = curate.scan(manifest.root).collect()
    return seconds, dict(zip(df["id"], df["text"]))


def run_datatrove(root: Path) -> tuple[float, dict[str, str]]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.sentence_dedup import (SentDedupConfig, SentenceDedupFilter,
                                                         SentenceDedupSignature, SentenceFindDedups)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from datatrove.utils.hashing import HashConfig

    # sha1: datatrove 0.10.1's default xxhash hashes str without encoding it and raises TypeError
    config = SentDedupConfig(split_sentences=False, n_sentences=1, min_doc_words=0, min_num_sentences=0,
                             hash_config=HashConfig(precision=64, hash_fc="sha1"))
    work = root / "datatrove"
    reader = lambda: JsonlReader(str(root / "documents"), glob_pattern="*.jsonl.gz")  # noqa: E731
    stages = [
        [reader(), SentenceDedupSignature(output_folder=str(work / "sigs"), config=config)],
        [SentenceFindDedups(data_folder=str(work / "sigs"), output_folder=str(work / "dups"), config=config)],
        [reader(), SentenceDedupFilter(data_folder=str(work / "dups"), config=config),
         JsonlWriter(str(work / "out"), compression=None)],
    ]
    t0 = time.perf_counter()
    for i, pipeline in enumerate(stages):
        LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1, logging_dir=str(work / f"logs{i}"),
                              skip_completed=False).run()
    seconds = time.perf_counter() - t0
    kept = {}
    for path in sorted((work / "out").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            kept[d["id"]] = d["text"]
    return seconds, kept


DOLMA_CHILD = r"""
import importlib.machinery, importlib.util, json, sys, time, glob, os
so = glob.glob(os.path.join(os.path.dirname(importlib.util.find_spec("dolma").origin), "dolma.*.so"))[0]
loader = importlib.machinery.ExtensionFileLoader("dolma", so)
module = importlib.util.module_from_spec(importlib.util.spec_from_file_location("dolma", so, loader=loader))
loader.exec_module(module)
config = json.loads(sys.argv[1])
t0 = time.perf_counter()
module.deduper_entrypoint(json.dumps(config))
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def run_dolma(python: str, root: Path, paths: list[Path], fp_rate: float, num_lines: int) -> tuple[float, dict]:
    work = root / "dolma"
    for d in ("in", "out"):
        (work / d).mkdir(parents=True, exist_ok=True)
    config = {"documents": [str(p) for p in paths],
              "dedupe": {"name": "dups", "paragraphs": {"attribute_name": "bff", "paragraph_separator": "\n"},
                         "skip_empty": True, "min_length": 0, "min_words": 0, "num_partitions": 1,
                         "partition_index": 0, "file_partition": False, "document_dir": "documents"},
              "bloom_filter": {"file": str(work / "bloom.bin"), "read_only": False, "size_in_bytes": 0,
                               "estimated_doc_count": num_lines, "desired_false_positive_rate": fp_rate},
              "is_s3_volume": False, "work_dir": {"input": str(work / "in"), "output": str(work / "out")},
              "processes": 1, "compression": {"input": None, "output": None}}
    done = subprocess.run([python, "-c", DOLMA_CHILD, json.dumps(config)], capture_output=True, text=True,
                          check=True)
    seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    spans = {}
    for path in paths:
        attrs = root / "attributes" / "dups" / path.name
        with gzip.open(attrs, "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                spans[d["id"]] = d["attributes"]["bff"]
    return seconds, spans


def cut_spans(text: str, spans: list) -> str:
    """dolma's duplicate spans [start, end) (characters, each ending with its newline) removed."""
    out, pos = [], 0
    for start, end, _ in sorted(spans):
        out.append(text[pos:start])
        pos = max(pos, end)
    return "".join(out) + text[pos:]


def agreement(docs: list[dict], ours: dict[str, str], theirs: dict[str, str]) -> tuple[int, int, list[str]]:
    """(documents with the same output, documents compared, ids that differ)."""
    differ = [d["id"] for d in docs if (ours.get(d["id"]) or "").strip() != (theirs.get(d["id"]) or "").strip()]
    return len(docs) - len(differ), len(docs), differ


class Keys:
    """Corpus-wide copy counts and first occurrences of every line under curate's key and a
    peer's, to tell why a line is removed by one tool and kept by the other (keep-the-first-copy:
    a line goes unless it is the first of its key): its key class differs between the tools."""

    def __init__(self, docs: list[dict], peer: str):
        import pyarrow as pa

        from curate.text.normalize import normalize_text

        lines = [line for d in docs for line in d["text"].split("\n")]
        self.peer = peer
        if peer == "datatrove":
            from datatrove.utils.text import simplify_text

            ours = normalize_text(pa.array([x.strip() for x in lines], pa.large_string())).to_pylist()
            self.ours_key = dict(zip(lines, ours))
            self.peer_key = simplify_text
            self.peer_splitlines = Counter(simplify_text(x) for d in docs for x in d["text"].splitlines())
        else:
            self.ours_key = {x: x.strip() for x in lines}
            self.peer_key = lambda x: x
        self.ours, self.theirs = Counter(), Counter()
        self.ours_first: dict = {}
        self.theirs_first: dict = {}
        for i, x in enumerate(lines):
            k, t = self.ours_key[x], self.peer_key(x)
            self.ours[k] += 1
            self.theirs[t] += 1
            self.ours_first.setdefault(k, i)
            self.theirs_first.setdefault(t, i)

    def reason(self, line: str) -> str | None:
        """Why ``line`` (as in one output) may differ; None when neither tool could remove it."""
        ours, theirs = self.ours_key.get(line, line.strip()), self.peer_key(line)
        if not ours and not theirs.strip():
            return None  # never a candidate: only the alignment of the diff
        if (self.ours[ours], self.ours_first.get(ours)) != (self.theirs[theirs], self.theirs_first.get(theirs)):
            if self.peer == "dolma":
                return "surrounding whitespace (curate compares stripped lines, dolma raw ones)"
            if any(c.isdigit() for c in line):
                return "numbers (datatrove folds a digit run with separators into one 0; curate maps each digit to 0)"
            return "normalisation (datatrove also strips diacritics; Unicode punctuation classes differ)"
        if self.peer == "datatrove" and self.theirs[theirs] != self.peer_splitlines[theirs]:
            return LINE_BREAKS
        return "other (a Bloom false positive in one tool)" if self.peer == "dolma" else "other"


LINE_BREAKS = "line breaks other than \\n (datatrove splits with str.splitlines, rejoins with \\n)"
SPLITLINES_ONLY = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def explain(differ: list[str], docs: list[dict], ours: dict[str, str], theirs: dict[str, str],
            keys: Keys) -> Counter:
    """Why the differing documents differ: each line in one output and not the other, classified;
    a document counts under every reason its lines have. A datatrove document with line breaks
    other than ``\\n`` changes layout as a whole (``\\r\\n`` -> ``\\n``) once a line is removed."""
    import difflib

    why: Counter = Counter()
    by_id = {d["id"]: d["text"] for d in docs}
    for doc_id in differ:
        a, b = ours.get(doc_id), theirs.get(doc_id)
        if a is None or b is None:
            why["document dropped by one side only"] += 1
            continue
        la, lb = a.strip().split("\n"), b.strip().split("\n")
        ca, cb = Counter(la), Counter(lb)  # a line as often in both: only the diff's alignment moved it
        found = set()
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
            if tag != "equal":
                found |= {keys.reason(x) for x in la[i1:i2] + lb[j1:j2] if ca[x] != cb[x]} - {None}
        if keys.peer == "datatrove" and any(c in by_id[doc_id] for c in SPLITLINES_ONLY):
            found = (found - {"other"}) | {LINE_BREAKS}
        for r in found or {"other"}:
            why[r] += 1
    return why


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--fp-rate", type=float, default=0.001)
    parser.add_argument("--dolma-python", default=None, help="interpreter of a venv where dolma is installed")
    args = parser.parse_args()
    docs = load_docs(args.docs)
    mb = sum(len(d["text"].encode()) for d in docs) / 1e6
    num_lines = sum(d["text"].count("\n") + 1 for d in docs)
    root = Path(tempfile.mkdtemp(prefix="subdedup-bench-"))
    try:
        paths = write_inputs(root, docs)
        warm = root / "warm"
        write_inputs(warm, docs[:20])
        run_curate(warm, 'method = "bloom"\nmax_count = 2', "warm")  # compile the numba kernels untimed
        rows = []
        t_plain, _ = run_curate(root, "", "curate_plain")
        rows.append(("curate line_dedup (exact)", t_plain))
        t_cur, cur = run_curate(root, "normalize = true", "curate_exact")
        rows.append(("curate line_dedup (exact, normalize)", t_cur))
        t_dt, dt = run_datatrove(root)
        rows.append(("datatrove SentenceDedup (line mode)", t_dt))
        same, total, differ = agreement(docs, cur, dt)
        t_bloom, bloom = run_curate(root, f'method = "bloom"\nbloom_fp_rate = {args.fp_rate}', "curate_bloom")
        rows.append((f"curate line_dedup (bloom {args.fp_rate})", t_bloom))
        dolma_result = None
        if args.dolma_python:
            t_dolma, spans = run_dolma(args.dolma_python, root, paths, args.fp_rate, num_lines)
            rows.append((f"dolma dedupe paragraphs (bloom {args.fp_rate})", t_dolma))
            dolma_text = {d["id"]: cut_spans(d["text"], spans.get(d["id"], [])) for d in docs}
            dolma_result = agreement(docs, bloom, dolma_text)
        print(f"\n{'tool':48} {'seconds':>8} {'MB/s':>8}")
        for name, seconds in rows:
            print(f"{name:48} {seconds:8.2f} {mb / seconds:8.2f}")
        print(f"\ncurate exact normalize / datatrove speed ratio: {t_dt / t_cur:.2f}x")
        print(f"same output text as datatrove: {same}/{total} documents ({100 * same / total:.2f}%)")
        for why, n in explain(differ, docs, cur, dt, Keys(docs, "datatrove")).most_common():
            print(f"  {n:5d} documents: {why}")
        if dolma_result:
            print(f"curate bloom / dolma speed ratio: {t_dolma / t_bloom:.2f}x")
            print(f"same output text as dolma: {dolma_result[0]}/{dolma_result[1]} documents "
                  f"({100 * dolma_result[0] / dolma_result[1]:.2f}%)")
            for why, n in explain(dolma_result[2], docs, bloom, dolma_text, Keys(docs, "dolma")).most_common():
                print(f"  {n:5d} documents: {why}")
        else:
            print("dolma: not run (give --dolma-python; `pip install dolma` does not resolve beside curate's "
                  "dependencies, see benchmarks/README.md)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
