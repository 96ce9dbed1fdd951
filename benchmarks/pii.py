"""PII redaction: curate's ``pii`` step vs datatrove 0.10.1's ``PIIFormatter`` (and Presidio's pattern
recognisers where installed), same texts, one core, in one run.

Like for like: e-mails and IPv4 only, every address (datatrove ``only_remove_public_ips=False``), one
fixed replacement each (datatrove rotates through a tuple; a 1-tuple makes it fixed). Prints MB/s of
each, the ratio, how many documents come out byte-identical, and the timing of curate with all six
kinds. Presidio (``EmailRecognizer`` + ``IpRecognizer``, no NLP engine: pattern recognisers only)
finds spans and does not rewrite text, so it is timed on the same documents for scale only.

Run: python benchmarks/pii.py [--mb 5] [--data PATH] [--presidio-docs 500]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.corpus import read_texts  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "bench_corpus.jsonl.zst"
BATCH_ROWS = 1024


def ours(texts: list[str], kinds: tuple[str, ...]) -> tuple[list[str], float]:
    from curate.steps.pii import Pii

    step = Pii(kinds=kinds)
    step.redact(pa.array(texts[:10], pa.large_string()))
    batches = [pa.array(texts[i:i + BATCH_ROWS], pa.large_string()) for i in range(0, len(texts), BATCH_ROWS)]
    start = time.perf_counter()
    out = [step.redact(b)[0] for b in batches]
    seconds = time.perf_counter() - start
    return [t for b in out for t in b.to_pylist()], seconds


def datatrove(texts: list[str]) -> tuple[list[str], float]:
    from datatrove.pipeline.formatters.pii import PIIFormatter

    fmt = PIIFormatter(only_remove_public_ips=False, email_replacement=("email@example.com",),
                       ip_replacement=("192.0.2.1",))
    start = time.perf_counter()
    out = [fmt.format(t) for t in texts]
    return out, time.perf_counter() - start


def presidio(texts: list[str]) -> float | None:
    try:
        from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer
    except ImportError:
        return None
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    recs = [(EmailRecognizer(), ["EMAIL_ADDRESS"]), (IpRecognizer(), ["IP_ADDRESS"])]
    for rec, ents in recs:
        rec.analyze("warm up a@b.co 1.2.3.4", ents, None)
    start = time.perf_counter()
    for t in texts:
        for rec, ents in recs:
            rec.analyze(t, ents, None)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--presidio-docs", type=int, default=500)
    args = ap.parse_args()
    texts = read_texts(args.data, args.mb)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts):,} documents, {mb:.1f} MB of {args.data.name}")
    dt_out, dt_s = datatrove(texts)
    our_out, our_s = ours(texts, ("email", "ipv4"))
    same = sum(a == b for a, b in zip(dt_out, our_out))
    print(f"datatrove PIIFormatter (email+ipv4): {mb / dt_s:8.2f} MB/s")
    print(f"curate pii (email+ipv4):             {mb / our_s:8.2f} MB/s   ratio {dt_s / our_s:.2f}x")
    print(f"identical output: {same:,} of {len(texts):,} documents")
    for a, b in [(a, b) for a, b in zip(dt_out, our_out) if a != b][:3]:
        i = next(k for k in range(min(len(a), len(b))) if a[k] != b[k])
        print(f"  differs: datatrove {a[max(0, i - 20):i + 30]!r} / curate {b[max(0, i - 20):i + 30]!r}")
    _, all_s = ours(texts, ("email", "ipv4", "ipv6", "phone", "credit_card", "iban"))
    print(f"curate pii (all six kinds):          {mb / all_s:8.2f} MB/s")
    sub = texts[:args.presidio_docs]
    p_s = presidio(sub)
    if p_s is None:
        print("presidio-analyzer not installed: skipped")
    else:
        sub_mb = sum(len(t.encode()) for t in sub) / 1e6
        print(f"presidio Email+Ip recognisers ({len(sub)} docs, spans only): {sub_mb / p_s:8.2f} MB/s")


if __name__ == "__main__":
    main()
