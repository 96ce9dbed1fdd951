"""HTML main-text extraction for WARC: resiliparse vs trafilatura, same pages, one core, in one run.

Reads every HTML response record of the WARC files (default: ../shared/data/warc/*.warc.gz) through
curate's own framing and payload decoding, then times ``extract_main_text(html, extractor)``
(curate/readers/warc.py, the code the WARC reader runs) for each extractor over all pages, best of
``--repeats``. Prints pages/s and MB/s of HTML per extractor, the speed ratio, and text agreement
per page: the fraction of trafilatura's words (multiset, whitespace-split) that resiliparse also
returns (recall against trafilatura), the reverse (precision), and their F1, with the mean and the
pages with F1 below 0.5. Also the scrapinghub article-extraction benchmark pages when a folder of
``*.html`` files is given with ``--html-dir`` (not shipped here).

Run: python benchmarks/extract.py [--repeats 3] [--warc GLOB ...] [--html-dir DIR]
"""

from __future__ import annotations

import argparse
import collections
import glob
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curate.readers.warc import _record, extract_main_text  # noqa: E402
from curate.readers.warc_frames import frames  # noqa: E402

EXTRACTORS = ("trafilatura", "resiliparse")


def html_pages(patterns: list[str]) -> list[bytes]:
    pages = []
    for path in sorted(p for pat in patterns for p in glob.glob(pat)):
        with open(path, "rb") as f:
            for frame in frames(f):
                if frame.error is not None:
                    continue
                record = _record(frame.raw)
                ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
                if record.rec_type == "response" and "html" in ctype.lower():
                    pages.append(record.content_stream().read())
    return pages


def agreement(reference: str, other: str) -> tuple[float, float, float]:
    """(recall, precision, F1) of ``other``'s words against ``reference``'s (multisets)."""
    a, b = collections.Counter(reference.split()), collections.Counter(other.split())
    common = sum((a & b).values())
    recall = common / sum(a.values()) if a else float(not b)
    precision = common / sum(b.values()) if b else float(not a)
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return recall, precision, f1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warc", nargs="*", default=[str(REPO.parent / "shared" / "data" / "warc" / "*.warc.gz")])
    ap.add_argument("--html-dir", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    pages = html_pages(args.warc)
    if args.html_dir is not None:
        pages += [p.read_bytes() for p in sorted(args.html_dir.glob("*.html"))]
    if not pages:
        sys.exit("no HTML pages found; pass --warc GLOB or --html-dir DIR")
    mb = sum(len(p) for p in pages) / 1e6
    print(f"{len(pages)} HTML pages, {mb:.2f} MB")
    texts, secs = {}, {}
    for name in EXTRACTORS:
        extract_main_text(pages[0], name)  # imports and first-call costs outside the timing
        best = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = [extract_main_text(p, name) for p in pages]
            best = min(best, time.perf_counter() - t0)
        texts[name], secs[name] = out, best
        print(f"{name:12s} {len(pages) / best:8.1f} pages/s {mb / best:7.2f} MB/s  "
              f"{sum(map(len, out)) / 1e3:.0f}k chars out, {sum(not t for t in out)} empty")
    print(f"speed ratio resiliparse / trafilatura: {secs['trafilatura'] / secs['resiliparse']:.1f}x")
    scores = [agreement(t, r) for t, r in zip(texts["trafilatura"], texts["resiliparse"])]
    n = len(scores)
    print(f"agreement (words, trafilatura = reference): recall {sum(s[0] for s in scores) / n:.3f}  "
          f"precision {sum(s[1] for s in scores) / n:.3f}  F1 {sum(s[2] for s in scores) / n:.3f}  "
          f"pages with F1 < 0.5: {sum(s[2] < 0.5 for s in scores)}/{n}")


if __name__ == "__main__":
    main()
