"""Decontamination: curate's ``decontaminate`` step vs datatrove 0.10.1's n-gram decontamination
(``datatrove.pipeline.decont.NGramsDecontFilter``), same documents and eval items, one core, one run.

Eval items: ``--items`` passages of 40 words (question = 25 words, answer = 15) from the last 10%
of the documents (held out); ``--plant`` of them are inserted, with case, punctuation and spacing
edits, into random training documents (the other 90%). Both sides use 13-grams and flag a document
on one matching n-gram. datatrove's indexer needs ``lighteval`` to load its tasks; its hashing is
reproduced here with its own functions (``simplify_text``, its English word tokenizer, ``ngrams``,
``create_hash_func``: ``NGramsDecontIndexer.compute_hashes``) and written as its ``.index.hashes``
file, which its filter loads. Prints index and scan times, MB/s, the ratio, the planted documents
each finds, and where the two disagree.

datatrove 0.10.1 with xxhash >= 4 raises ``TypeError: Strings must be encoded before hashing`` in
both its indexer and filter (it hashes ``str``); this script hashes the UTF-8 bytes, as xxhash 3 did.

Known differences: datatrove's default normalisation also folds digits to 0 and strips
diacritics, and splits words with its spaCy-based tokenizer; curate keeps digits and diacritics
and splits at any non-word character (``curate/decon/ngrams.py``).

Run: python benchmarks/decon.py [--mb 3] [--items 300] [--plant 50] [--data PATH]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.corpus import read_texts  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
BATCH_ROWS = 1024
N = 13


def make_data(texts: list[str], items: int, plant: int, seed: int = 0):
    rng = random.Random(seed)
    cut = int(len(texts) * 0.9)
    train, held = list(texts[:cut]), texts[cut:]
    passages = []
    for t in held:
        w = t.split()
        for start in range(0, len(w) - 40, 200):
            passages.append(w[start:start + 40])
    rng.shuffle(passages)
    qa = [{"id": f"q{i}", "question": " ".join(p[:25]), "answer": " ".join(p[25:])}
          for i, p in enumerate(passages[:items])]
    planted = {}
    for i in range(min(plant, len(qa))):
        d = rng.randrange(len(train))
        words = [w.upper() if rng.random() < 0.2 else w for w in (qa[i]["question"] + " " + qa[i]["answer"]).split()]
        text = "".join(w + rng.choice([" ", ", ", "\n", "  "]) for w in words)
        at = len(train[d]) // 2
        train[d] = train[d][:at] + "\n" + text + "\n" + train[d][at:]
        planted[d] = i
    return train, qa, planted


def ours(train: list[str], eval_path: Path):
    from curate.decon.evalsets import EvalSet
    from curate.steps.decontaminate import ITEMS_COLUMN, Decontaminate

    step = Decontaminate(eval_sets=(EvalSet(name="bench", paths=(eval_path,), fields=("question", "answer")),))
    from curate import kernels

    kernels.load("ngrams")  # a first run compiles them: not part of the index time
    start = time.perf_counter()
    step._index()
    index_s = time.perf_counter() - start
    batches = [pa.record_batch({"text": pa.array(train[i:i + BATCH_ROWS], pa.large_string())})
               for i in range(0, len(train), BATCH_ROWS)]
    start = time.perf_counter()
    flagged = []
    for b in batches:
        lengths = pa.compute.list_value_length(step.prepare(b).column(ITEMS_COLUMN)).to_numpy(zero_copy_only=False)
        flagged.append(lengths > 0)
    return np.concatenate(flagged), index_s, time.perf_counter() - start


def datatrove(train: list[str], qa: list[dict]):
    from datatrove.data import Document
    from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter
    from datatrove.utils.hashing import create_hash_func
    from datatrove.utils.text import ngrams, simplify_text
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    config = NGramsDecontConfig(n_grams=N, find_query_ngrams=True)
    tok = load_word_tokenizer("en")
    raw_hash = create_hash_func(config.hash_config)

    def hash_func(text: str) -> int:  # xxhash >= 4 hashes bytes only; xxhash 3 took str as UTF-8
        return raw_hash(text.encode("utf-8"))

    folder = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    hashes = set()
    for item in qa:  # NGramsDecontIndexer.compute_hashes(answer, question): answer, question, overlap
        label = tok.word_tokenize(simplify_text(item["answer"], config.norm_config))
        query = tok.word_tokenize(simplify_text(item["question"], config.norm_config))
        grams = list(ngrams(label, N)) + list(ngrams(query, N))
        grams += [query[-N + 1 + i:] + label[:i + 1] for i in range(N - 1)
                  if len(query) >= N - 1 - i and len(label) >= i + 1]
        hashes.update(map(hash_func, map(" ".join, grams)))
    np.array(sorted(hashes), dtype=config.hash_config.np_descr).tofile(folder / "bench.index.hashes")
    index_s = time.perf_counter() - start
    filt = NGramsDecontFilter(str(folder), config=config)
    filt.hash_func = hash_func  # the same fix for its filter (it hashes str n-grams)
    filt.filter(Document(text="warm up", id="w"))
    start = time.perf_counter()
    flagged = np.array([filt.filter(Document(text=t, id=str(i))) is not True for i, t in enumerate(train)])
    return flagged, index_s, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=3.0)
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--plant", type=int, default=50)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    train, qa, planted = make_data(read_texts(args.data, args.mb), args.items, args.plant)
    eval_path = Path(tempfile.mkdtemp()) / "bench.jsonl"
    eval_path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in qa))
    mb = sum(len(t.encode()) for t in train) / 1e6
    print(f"{len(train):,} training documents ({mb:.1f} MB), {len(qa)} eval items, {len(planted)} planted")
    dt, dt_index, dt_s = datatrove(train, qa)
    cu, cu_index, cu_s = ours(train, eval_path)
    print(f"datatrove: index {dt_index:.3f} s, scan {mb / dt_s:8.2f} MB/s")
    print(f"curate:    index {cu_index:.3f} s, scan {mb / cu_s:8.2f} MB/s   ratio {dt_s / cu_s:.1f}x")
    p = np.zeros(len(train), bool)
    p[list(planted)] = True
    print(f"planted found: datatrove {int((dt & p).sum())}/{len(planted)}, curate {int((cu & p).sum())}/{len(planted)}")
    print(f"flagged: datatrove {int(dt.sum())}, curate {int(cu.sum())}, same decision on "
          f"{int((dt == cu).sum()):,} of {len(train):,} documents")
    for d in np.flatnonzero(dt != cu)[:5]:
        print(f"  disagree on doc {d}: datatrove {bool(dt[d])}, curate {bool(cu[d])}, planted {bool(p[d])}")


if __name__ == "__main__":
    main()
