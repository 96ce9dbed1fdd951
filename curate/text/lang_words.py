"""Per-language word splitting for the quality rules, as FineWeb-2 assigns tokenizers (datatrove 0.10.1's
``load_word_tokenizer``), with offline fallbacks.

A ``language`` is an ISO 639-1 code (``de``, what ``lang_id``'s lid.176 writes), an ISO 639-3 code
(``deu``) or a FineWeb-2 ``language_script`` key (``deu_Latn``); :func:`resolve_language` maps it
through the vendored FineWeb-2 table (``curate/text/fineweb2.py``) to a :class:`WordSplitter`:

| FineWeb-2 / datatrove tokenizer | here | same words as datatrove? |
|---|---|---|
| spaCy ``en`` | the compiled port of spaCy-English (``curate/kernels/words.py``), the fast path | yes (tested) |
| spaCy blank tokenizer ``xx`` (de, fr, ru, ar, ...) | ``spacy.blank(code)`` tokenizer, offline | yes (tested) |
| ``WhitespaceTokenizer`` | ``spacy.blank("xx")``, as datatrove | yes |
| Stanza / IndicNLP (needs a model download / extra package) | ``spacy.blank(code)`` if spaCy has the language, else ``xx`` | no: a documented fallback |
| spaCy ``vi`` (needs pyvi) | ``spacy.blank("vi")`` without pyvi: syllables | no |
| Kiwi (Korean) | ``spacy.blank("xx")``: Korean writes spaces between words | no |
| spaCy ``zh`` + jieba, ``ja`` + SudachiPy, pythainlp, Khmer, Lao, Tibetan, Burmese segmenters | ``chars``: ``xx`` tokens, then every character of a script written without spaces is a word | no: character-based rules |

``chars`` scripts: Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tibetan. The spaCy paths call
spaCy per document (~0.3-1 MB/s, like datatrove); only English runs in compiled code. Words are
datatrove's: spaCy tokens stripped of surrounding whitespace, blank ones dropped; they reach the
compiled kernels as codepoint spans (``given_spans``), so every rule is the one implementation the
English path uses. With a per-row language column (``step_spans``), rows are grouped by language,
each group split by its splitter (English through the compiled tokenizer's ``english_spans``), and
the spans merged back in row order.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
import pyarrow as pa

from curate.text import fineweb2

NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
CHARS_TOKENIZERS = {"ThaiTokenizer", "KhmerTokenizer", "LaoTokenizer", "TibetanTokenizer", "BurmeseTokenizer"}
CHARS_SPACY = {"zh", "ja", "th"}


@dataclasses.dataclass(frozen=True)
class WordSplitter:
    """How one language is split into words: ``kind`` is ``en`` (numba), ``spacy`` (blank tokenizer
    ``code``) or ``chars`` (``xx`` + one word per no-space-script character)."""

    kind: str
    code: str


def _spacy_has(code: str) -> bool:
    try:
        import spacy.util

        spacy.util.get_lang_class(code)
        return True
    except ImportError:  # no spaCy, or no such language in it
        return False


def resolve_language(language: str) -> WordSplitter:
    """The word splitter of ``language``; ``ValueError`` (one line) for an unknown code."""
    if language in ("en", "eng", "eng_Latn"):
        return WordSplitter("en", "en")
    key = fineweb2.language_key(language)
    if key is None:
        if _spacy_has(language):
            return WordSplitter("spacy", language)
        raise ValueError(f"language={language!r}: not a FineWeb-2 language nor a spaCy language code; "
                         "give an ISO 639-1 code (de), ISO 639-3 (deu) or language_script (deu_Latn)")
    tok_class, code = fineweb2.tokenizer_of(key)
    if tok_class in CHARS_TOKENIZERS or (tok_class == "SpaCyTokenizer" and code in CHARS_SPACY):
        return WordSplitter("chars", "xx")
    if tok_class == "SpaCyTokenizer" and code == "en":
        return WordSplitter("en", "en")
    if tok_class in ("SpaCyTokenizer", "StanzaTokenizer", "IndicNLPTokenizer") and code and _spacy_has(code):
        return WordSplitter("spacy", code)
    return WordSplitter("spacy", "xx")


def check_language_params(language: str, thresholds: str | None, lang_column: str | None = None) -> None:
    """Check a step's ``language`` and ``thresholds`` parameters (``ValueError``, one line)."""
    if resolve_language(language).kind != "en" or lang_column is not None:
        try:
            import regex  # noqa: F401
            import spacy  # noqa: F401
        except ImportError:
            raise ValueError(f"language={language!r} / lang_column needs spaCy and regex: "
                             "pip install 'curate[multilingual]'") from None
    if thresholds not in (None, "fineweb2"):
        raise ValueError(f"thresholds={thresholds!r}: allowed: \"fineweb2\" or none")
    if thresholds is not None:
        fineweb2.config_of(language)


def _blank(code: str):
    import spacy

    if code == "vi":  # spaCy's Vietnamese tokenizer needs pyvi unless told not to use it
        return spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": False}}})
    try:
        return spacy.blank(code)
    except ImportError:  # a language whose spaCy tokenizer needs an extra package
        return spacy.blank("xx")


@lru_cache(maxsize=None)
def _spacy_nlp(code: str):
    return _blank(code)


@lru_cache(maxsize=None)
def _sentencizer(code: str):
    nlp = _blank(code)
    nlp.add_pipe("sentencizer")
    return nlp


def sentence_counts(lines: list[str], splitter: WordSplitter) -> np.ndarray:
    """Sentences in each line as datatrove's ``split_into_sentences`` counts them with a spaCy
    tokenizer (``spacy.blank(code)`` + ``sentencizer``; a line without a sentence counts 1), for a
    ``spacy`` or ``chars`` splitter (``chars``: the sentencizer over the chars splitter's words, one
    per CJK/Thai character, so 。！？ end sentences as jieba's or SudachiPy's tokens would let them).
    Per-line Python through spaCy (~0.5 MB/s); English uses the compiled port in ``sentences.py``."""
    nlp = _sentencizer(splitter.code)
    nlp.max_length = max([len(t) for t in lines] + [nlp.max_length]) + 10
    if splitter.kind == "chars":  # the tokens are the chars splitter's words (one per CJK/Thai character)
        from spacy.tokens import Doc

        off, s, e = given_spans(pa.array(lines, pa.large_string()), splitter)
        sentencizer = nlp.get_pipe("sentencizer")
        counts = []
        for i, text in enumerate(lines):
            words = [text[a:b] for a, b in zip(s[off[i]:off[i + 1]].tolist(), e[off[i]:off[i + 1]].tolist())]
            counts.append(max(1, sum(1 for _ in sentencizer(Doc(nlp.vocab, words=words)).sents)) if words else 1)
        return np.array(counts, np.int64)
    with nlp.memory_zone():
        return np.array([max(1, sum(1 for _ in doc.sents)) for doc in nlp.pipe(lines)], np.int64)


@lru_cache(maxsize=1)
def _no_space_run():
    import regex

    return regex.compile(rf"[{NO_SPACE_SCRIPTS}]|[^{NO_SPACE_SCRIPTS}]+")


def _strip_span(text: str, s: int, e: int) -> tuple[int, int]:
    tok = text[s:e]
    stripped = tok.strip()
    if len(stripped) == len(tok):
        return s, e
    if not stripped:
        return s, s
    lead = len(tok) - len(tok.lstrip())
    return s + lead, s + lead + len(stripped)


def given_spans(text: pa.Array, splitter: WordSplitter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word spans (codepoint offsets) of every document: (per-document offsets into the span arrays,
    starts, ends). For ``en`` three empty arrays: the kernels then tokenize in compiled code.
    spaCy runs inside a memory zone per call, so its tokenizer cache and string store do not grow
    over a run and a batch's words do not depend on the batches a worker saw before (the same
    words for any ``--workers``)."""
    if splitter.kind == "en":
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    nlp = _spacy_nlp(splitter.code)
    with nlp.memory_zone():  # strings and cache entries of this batch are dropped at the end
        return _spacy_spans(text.to_pylist(), nlp.tokenizer, _no_space_run() if splitter.kind == "chars" else None)


def _spacy_spans(texts: list, tokenizer, runs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    off, starts, ends = [0], [], []
    for doc_text in texts:
        doc_text = doc_text or ""
        for tok in tokenizer(doc_text):
            s, e = _strip_span(doc_text, tok.idx, tok.idx + len(tok.text))
            if s == e:
                continue
            if runs is None:
                starts.append(s)
                ends.append(e)
                continue
            for m in runs.finditer(doc_text, s, e):
                a, b = _strip_span(doc_text, m.start(), m.end())
                if a < b:
                    starts.append(a)
                    ends.append(b)
        off.append(len(starts))
    return np.array(off, np.int64), np.array(starts, np.int64), np.array(ends, np.int64)


def _english(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from curate import kernels
    from curate.steps.doc_kernel import text_buffers
    from curate.text.words import word_tables

    data, offsets, longest = text_buffers(text)
    off = np.zeros(len(text) + 1, np.int64)
    starts, ends = np.empty(len(data) + 1, np.int64), np.empty(len(data) + 1, np.int64)
    kernels.load("words").english_spans(data, offsets, longest, *word_tables(), off, starts, ends)
    return off, starts[: off[-1]], ends[: off[-1]]


def row_languages(codes: pa.Array, default: str) -> tuple[list[str], np.ndarray]:
    """(languages, index per row): each row's code from a ``lang`` column, ``default`` where it is
    null or no language :func:`resolve_language` knows."""
    values = codes.to_pylist()
    names = sorted({v for v in values if v is not None} | {default})
    known = {}
    for name in names:
        try:
            resolve_language(name)
            known[name] = name
        except ValueError:
            known[name] = default
    langs = sorted(set(known.values()))
    where = {lang: i for i, lang in enumerate(langs)}
    return langs, np.array([where[known[v] if v is not None else default] for v in values], np.int64)


def spans_by_row(text: pa.Array, langs: list[str], row_lang: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word spans of every row in its own language (``langs[row_lang[r]]``), as :func:`given_spans`
    returns them; three empty arrays when every row is English (the kernels' own fast path)."""
    splitters = [resolve_language(lang) for lang in langs]
    if all(sp.kind == "en" for sp in splitters):
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    counts = np.zeros(len(text), np.int64)
    parts = []
    for code, sp in enumerate(splitters):
        rows = np.flatnonzero(row_lang == code)
        if rows.size == 0:
            continue
        sub = text.take(pa.array(rows))
        off, s, e = _english(sub) if sp.kind == "en" else given_spans(sub, sp)
        counts[rows] = np.diff(off)
        parts.append((rows, off, s, e))
    out_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out_s, out_e = np.empty(out_off[-1], np.int64), np.empty(out_off[-1], np.int64)
    for rows, off, s, e in parts:
        cnt = np.diff(off)
        dest = np.repeat(out_off[rows], cnt) + (np.arange(off[-1]) - np.repeat(off[:-1], cnt))
        out_s[dest], out_e[dest] = s, e
    return out_off, out_s, out_e


def step_spans(batch: pa.RecordBatch, text_column: str, language: str, lang_column: str | None):
    """A quality step's words: ``(spans, langs, row_lang)``; with ``lang_column`` each row in the
    language of that column (``language`` where null or unknown), else every row in ``language``."""
    text = batch.column(text_column)
    if lang_column is None:
        return given_spans(text, resolve_language(language)), [language], np.zeros(len(text), np.int64)
    if lang_column not in batch.schema.names:
        from curate.errors import RecipeError

        raise RecipeError(f"lang_column={lang_column!r}: no such column in the batch; put lang_id (which adds "
                          "`lang`) before this step, or set language instead")
    langs, row_lang = row_languages(batch.column(lang_column), language)
    return spans_by_row(text, langs, row_lang), langs, row_lang


def split_words(text: str, splitter: WordSplitter) -> list[str]:
    """The words of one text (for tests and inspection; the steps use :func:`given_spans`)."""
    if splitter.kind == "en":
        raise ValueError("split_words: English words come from curate.kernels.words.tokenize")
    off, s, e = given_spans(pa.array([text]), splitter)
    return [text[a:b] for a, b in zip(s.tolist(), e.tolist())]
