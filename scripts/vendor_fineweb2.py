"""Regenerate ``curate/text/data/fineweb2_filters.json.gz`` from FineWeb-2's per-language filter configs.

Sources (both Apache-2.0):
- ``configs/*.yml`` of github.com/huggingface/fineweb-2 (commit d0defb24f193bb9a5a11b8b14524a03c4858e1b6):
  per language_script thresholds and stop words, as FineWeb-2's pipeline passes them to datatrove's
  GopherRepetitionFilter, FineWebQualityFilter and GopherQualityFilter;
- datatrove 0.10.1's ``assets/tokenizer_assignment.csv``: the word tokenizer (class, spaCy code) each
  language_script uses, and which ISO 639-1 / 639-3 codes default to which script.

Usage: ``python scripts/vendor_fineweb2.py FINEWEB2_CONFIGS_DIR`` (datatrove must be installed).
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "curate" / "text" / "data" / "fineweb2_filters.json.gz"
SOURCE = "huggingface/fineweb-2@d0defb24f193bb9a5a11b8b14524a03c4858e1b6 configs/ + datatrove 0.10.1 tokenizer_assignment.csv"


def main(configs_dir: str) -> None:
    from datatrove.utils._import_utils import ASSETS_PATH

    languages = {}
    for path in sorted(Path(configs_dir).glob("*.yml")):
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
        languages[path.stem] = {k: cfg[k] for k in sorted(cfg)}
    aliases: dict[str, str] = {}
    with open(Path(ASSETS_PATH) / "tokenizer_assignment.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = f"{row['code_3']}_{row['script']}"
            if key in languages and row["type"]:
                languages[key]["tokenizer"] = [row["type"], row["tok_code"]]
            if row["default_script"] != "TRUE" or key not in languages:
                continue
            aliases.setdefault(row["code_3"], key)
            if row["code_1"] and row["default_code_1"] == "TRUE":
                aliases.setdefault(row["code_1"], key)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"source": SOURCE, "license": "Apache-2.0", "aliases": aliases, "languages": languages},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    OUT.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{OUT}: {len(languages)} languages, {len(aliases)} aliases, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
