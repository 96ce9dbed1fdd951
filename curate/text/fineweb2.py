"""FineWeb-2's per-language filter values (Penedo et al. 2025), vendored from its ``configs/*.yml``.

``data/fineweb2_filters.json.gz`` (227 KB, Apache-2.0; regenerate with ``scripts/vendor_fineweb2.py``)
holds, for each of FineWeb-2's 1,929 ``language_script`` keys, the thresholds and stop words its
pipeline passes to datatrove's GopherRepetitionFilter, FineWebQualityFilter and GopherQualityFilter,
plus the word tokenizer datatrove assigns to it, and aliases from ISO 639-1 / 639-3 codes to the
language's default script (``de`` -> ``deu_Latn``, ``zh`` -> ``cmn_Hani``). English has no entry:
FineWeb (English) uses the steps' defaults.

:func:`fineweb2_values` turns one language's entry into step parameters, as FineWeb-2 sets them:

| step | parameters |
|---|---|
| ``gopher_repetition`` | ``dup_line_frac``, top and duplicated n-gram sizes and fractions; paragraph and line-char rules off |
| ``fineweb_quality`` | ``line_punct_thr``, ``new_line_ratio``; ``char_duplicates_ratio`` 0.1; short-line rule off |
| ``gopher_quality`` | min/max mean word length, ``min_alpha_words_ratio`` (their ``max_non_alpha_words_ratio``), stop words, 2 needed |
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("data") / "fineweb2_filters.json.gz"
STEPS = ("gopher_repetition", "fineweb_quality", "gopher_quality")


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return json.loads(gzip.decompress(TABLE.read_bytes()).decode("utf-8"))


def language_key(language: str) -> str | None:
    """FineWeb-2's ``language_script`` key for a code (``de``, ``deu``, ``deu_Latn``), or None."""
    table = _table()
    if language in table["languages"]:
        return language
    return table["aliases"].get(language)


def tokenizer_of(key: str) -> tuple[str, str]:
    """(datatrove tokenizer class, its language argument) FineWeb-2 uses for ``key``."""
    return tuple(_table()["languages"][key].get("tokenizer", ("WhitespaceTokenizer", "")))


def config_of(language: str) -> dict[str, Any]:
    """FineWeb-2's raw config of ``language``; ``ValueError`` (one line) if it has none."""
    key = language_key(language)
    if key is None:
        raise ValueError(f"language={language!r}: FineWeb-2 publishes no thresholds for it (English uses the "
                         "steps' defaults); give a FineWeb-2 language (de, deu or deu_Latn) or set the values")
    return _table()["languages"][key]


def fineweb2_values(step: str, language: str) -> dict[str, Any]:
    """Parameters of ``step`` FineWeb-2 uses for ``language`` (recipe names and TOML-like values)."""
    cfg = config_of(language)
    if step == "gopher_repetition":
        top, dup = cfg["top_n_grams"], cfg["dup_n_grams"]
        return {"dup_para_frac": None, "dup_para_char_frac": None, "dup_line_char_frac": None,
                "dup_line_frac": cfg["dup_line_frac"],
                "top_ngram_sizes": [n for n, _ in top], "top_ngram_max_fracs": [f for _, f in top],
                "dup_ngram_sizes": [n for n, _ in dup], "dup_ngram_max_fracs": [f for _, f in dup]}
    if step == "fineweb_quality":
        return {"line_punct_thr": cfg["line_punct_thr"], "new_line_ratio": cfg["new_line_ratio"],
                "char_duplicates_ratio": 0.1, "short_line_thr": 1.0}
    if step == "gopher_quality":
        return {"min_avg_word_length": cfg["min_avg_word_length"], "max_avg_word_length": cfg["max_avg_word_length"],
                "min_alpha_words_ratio": cfg["max_non_alpha_words_ratio"], "stop_words": list(cfg["stopwords"]),
                "min_stop_words": 2}
    raise ValueError(f"thresholds = \"fineweb2\": FineWeb-2 sets no thresholds for {step}; "
                     f"use it on {', '.join(STEPS)}")


def stop_words_of(language: str) -> tuple[str, ...] | None:
    """FineWeb-2's stop words of ``language`` (None when it has no entry)."""
    key = language_key(language)
    return None if key is None else tuple(_table()["languages"][key]["stopwords"])
