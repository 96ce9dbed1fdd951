"""Multilingual quality rules: per-language word splitting (curate/text/lang_words.py), FineWeb-2's
per-language thresholds and stop words (curate/text/fineweb2.py), and a differential test against
datatrove 0.10.1's own filters run with FineWeb-2's ``language`` and thresholds on real non-English
pages (../shared/data/bench_corpus: Debian handbook, manuals and man pages in their languages)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pytest

from curate.errors import RecipeError
from curate.steps.fineweb_quality import FineWebQuality
from curate.steps.gopher_quality import GopherQuality
from curate.steps.gopher_repetition import GopherRepetition
from curate.steps.registry import make_step
from curate.text.fineweb2 import fineweb2_values, language_key
from curate.text.lang_words import WordSplitter, resolve_language, split_words

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
GERMAN = ("Der Hund und die Katze spielen im Garten von dem alten Haus, das mit Blumen bedeckt ist. " * 8).strip()


def reasons(step, texts):
    return step.reject(pa.record_batch({"text": pa.array(texts, pa.string())})).to_pylist()


@pytest.mark.parametrize("code, expected", [
    ("en", WordSplitter("en", "en")), ("eng_Latn", WordSplitter("en", "en")),
    ("de", WordSplitter("spacy", "de")), ("deu", WordSplitter("spacy", "de")),
    ("fra_Latn", WordSplitter("spacy", "fr")), ("ru", WordSplitter("spacy", "ru")),
    ("hi", WordSplitter("spacy", "hi")),  # datatrove: IndicNLP; spaCy's blank Hindi here
    ("vi", WordSplitter("spacy", "vi")),  # datatrove: spaCy + pyvi; syllables here
    ("zh", WordSplitter("chars", "xx")), ("ja", WordSplitter("chars", "xx")), ("th", WordSplitter("chars", "xx")),
    ("ko", WordSplitter("spacy", "xx")),  # datatrove: Kiwi
])
def test_language_resolution(code, expected):
    assert resolve_language(code) == expected


def test_unknown_language_is_one_line_error():
    with pytest.raises(ValueError, match=r"language='qqq': not a FineWeb-2 language"):
        resolve_language("qqq")
    with pytest.raises(RecipeError, match=r"steps\[0\] \(gopher_quality\): language='qqq'"):
        make_step({"use": "gopher_quality", "language": "qqq"}, "steps[0]")


def test_chars_splitting_exact():
    chars = resolve_language("zh")
    assert split_words("你好, world! ภาษาไทย 3.5 カタカナ", chars) == [
        "你", "好", ",", "world", "!", "ภ", "า", "ษ", "า", "ไ", "ท", "ย", "3.5", "カ", "タ", "カ", "ナ"]
    assert split_words("Straße, z.B. im Haus.", resolve_language("de")) == ["Straße", ",", "z.B.", "im", "Haus", "."]


def test_fineweb2_values_for_german():
    assert language_key("de") == "deu_Latn" and language_key("zh") == "cmn_Hani" and language_key("en") is None
    values = fineweb2_values("gopher_repetition", "de")
    assert values["dup_line_frac"] == 0.263 and values["dup_para_frac"] is None
    assert values["top_ngram_sizes"] == [2, 3, 4] and values["top_ngram_max_fracs"] == [0.169, 0.153, 0.137]
    assert values["dup_ngram_max_fracs"] == [0.141, 0.134, 0.126, 0.117, 0.108, 0.098]
    assert fineweb2_values("fineweb_quality", "deu_Latn") == {
        "line_punct_thr": 0.0, "new_line_ratio": 0.152, "char_duplicates_ratio": 0.1, "short_line_thr": 1.0}
    gq = fineweb2_values("gopher_quality", "de")
    assert (gq["min_avg_word_length"], gq["max_avg_word_length"], gq["min_alpha_words_ratio"]) == (0, 15, 0.774)
    assert gq["stop_words"][:3] == ["der", "und", "die"] and "für" in gq["stop_words"]


def test_recipe_thresholds_fineweb2_fill_unset_keys_only():
    step = make_step({"use": "gopher_repetition", "language": "de", "thresholds": "fineweb2",
                      "dup_line_frac": 0.5}, "steps[0]")
    assert step.dup_line_frac == 0.5 and step.top_ngram_max_fracs == (0.169, 0.153, 0.137)
    assert step.dup_para_frac is None
    with pytest.raises(RecipeError, match=r"thresholds: language='en': FineWeb-2 publishes no thresholds"):
        make_step({"use": "fineweb_quality", "thresholds": "fineweb2"}, "steps[0]")
    with pytest.raises(RecipeError, match=r"thresholds='gopher': allowed"):
        make_step({"use": "fineweb_quality", "thresholds": "gopher"}, "steps[0]")


def test_german_stop_words_follow_the_language():
    assert reasons(GopherQuality(), [GERMAN]) == ["gopher_enough_stop_words"]  # English stop words
    assert reasons(GopherQuality(language="de"), [GERMAN]) == [None]  # FineWeb-2's German list
    assert reasons(GopherQuality(language="de", stop_words=("the", "of")), [GERMAN]) == ["gopher_enough_stop_words"]


def test_chinese_words_are_characters():
    text = "我们的数据在这里。" * 20  # 180 characters -> 180 one-character words
    # English splitting: one 9-char "word" per sentence -> too few words
    assert reasons(GopherQuality(min_stop_words=None), [text]) == ["gopher_short_doc"]
    zh = GopherQuality(language="zh", max_avg_word_length=5, min_avg_word_length=1)
    assert reasons(zh, [text]) == [None]  # "的" and "在" are FineWeb-2 stop words


def test_repetition_ngrams_use_language_words():
    text = "das ist gut " * 40
    assert reasons(GopherRepetition(language="de", dup_line_frac=None, dup_line_char_frac=None),
                   [text]) == ["top_2_gram"]


BENCH_LANGUAGES = {"de": "deu_Latn", "fr": "fra_Latn", "ru": "rus_Cyrl", "es": "spa_Latn", "pl": "pol_Latn",
                   "ar": "arb_Arab", "cs": "ces_Latn", "it": "ita_Latn"}
PER_LANGUAGE = 12
MAX_DOC_BYTES = 12_000


@pytest.fixture(scope="module")
def bench_docs() -> dict[str, list[tuple[str, str]]]:
    if not (DATA / "bench_corpus.jsonl.zst").is_file():
        pytest.skip(f"{DATA / 'bench_corpus.jsonl.zst'} not present")
    zstandard = pytest.importorskip("zstandard")
    pytest.importorskip("datatrove")
    pytest.importorskip("spacy")
    docs: dict[str, list[tuple[str, str]]] = {lang: [] for lang in BENCH_LANGUAGES}
    with open(DATA / "bench_corpus.jsonl.zst", "rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8"):
            rec = json.loads(line)
            bucket = docs.get(rec.get("lang"))
            if bucket is not None and len(bucket) < PER_LANGUAGE and len(rec["text"].encode()) <= MAX_DOC_BYTES:
                bucket.append((rec["id"], rec["text"]))
    return docs


def datatrove_verdicts(dt_filter, texts):
    from datatrove.data import Document

    out = []
    for i, text in enumerate(texts):
        verdict = dt_filter.filter(Document(text=text, id=str(i)))
        out.append(None if verdict is True else (verdict[1] if isinstance(verdict, tuple) else "dropped"))
    return out


@pytest.mark.parametrize("lang", sorted(BENCH_LANGUAGES))
def test_same_decisions_as_datatrove_with_fineweb2_thresholds(bench_docs, lang):
    """FineWeb-2's three filters, as its pipeline configures them for ``lang``, in curate and datatrove."""
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

    key = BENCH_LANGUAGES[lang]
    cfg = json.loads(json.dumps(fineweb2_values("gopher_quality", key)))
    ids, texts = zip(*bench_docs[lang])
    pairs = [
        (make_step({"use": "gopher_repetition", "language": lang, "thresholds": "fineweb2"}, "s"),
         GopherRepetitionFilter(language=key, dup_para_frac=0, dup_line_char_frac=0, dup_para_char_frac=0,
                                **_repetition_kwargs(key))),
        (make_step({"use": "fineweb_quality", "language": lang, "thresholds": "fineweb2"}, "s"),
         FineWebQualityFilter(language=key, short_line_thr=999, char_duplicates_ratio=0.1,
                              **{k: v for k, v in fineweb2_values("fineweb_quality", key).items()
                                 if k in ("line_punct_thr", "new_line_ratio")})),
        (make_step({"use": "gopher_quality", "language": lang, "thresholds": "fineweb2"}, "s"),
         GopherQualityFilter(language=key, min_avg_word_length=cfg["min_avg_word_length"],
                             max_avg_word_length=cfg["max_avg_word_length"], stop_words=cfg["stop_words"],
                             max_non_alpha_words_ratio=cfg["min_alpha_words_ratio"], min_stop_words=2)),
    ]
    for ours, theirs in pairs:
        got = reasons(ours, list(texts))
        want = datatrove_verdicts(theirs, texts)
        diff = [(i, g, w) for i, g, w in zip(ids, got, want) if g != w]
        assert not diff, f"{ours.name} {lang}: {diff[:3]}"
    assert len(texts) == PER_LANGUAGE


def _repetition_kwargs(key: str) -> dict:
    v = fineweb2_values("gopher_repetition", key)
    return {"dup_line_frac": v["dup_line_frac"],
            "top_n_grams": tuple(zip(v["top_ngram_sizes"], v["top_ngram_max_fracs"])),
            "dup_n_grams": tuple(zip(v["dup_ngram_sizes"], v["dup_ngram_max_fracs"]))}


ENGLISH = ("The dog and the cat play in the garden of the old house, that is covered with flowers today. " * 8).strip()
CHINESE = "我们的数据在这里。" * 20


def test_lang_column_splits_and_picks_stop_words_per_row():
    b = pa.record_batch({"text": pa.array([GERMAN, ENGLISH, CHINESE, GERMAN], pa.large_string()),
                         "lang": pa.array(["de", "en", "zh", None])})
    assert GopherQuality(lang_column="lang").reject(b).to_pylist() == [
        None, None, "gopher_below_avg_threshold", "gopher_enough_stop_words"]  # null row: language = en
    assert GopherQuality(lang_column="lang", language="de").reject(b).to_pylist() == [
        None, None, "gopher_below_avg_threshold", None]
    assert GopherQuality(lang_column="lang", language="de").reject(
        b.set_column(1, "lang", pa.array(["qq", "en", "zh", "de"]))).to_pylist()[0] is None  # unknown -> language
    with pytest.raises(RecipeError, match=r"lang_column='lang': no such column in the batch; put lang_id"):
        GopherQuality(lang_column="lang").reject(pa.record_batch({"text": pa.array([GERMAN], pa.large_string())}))


@pytest.mark.parametrize("step", [GopherQuality, GopherRepetition, FineWebQuality])
def test_lang_column_equals_one_language_per_row(bench_docs, step):
    """Per-row languages give every row the decision of the step run with that row's language
    alone: the grouping and span merging lose nothing (English rows go through the compiled
    tokenizer's span path here, so this also checks it against the default English path)."""
    rows = [(lang, text) for lang in ("de", "fr", "ru") for _, text in bench_docs[lang][:6]]
    rows += [("en", ENGLISH), ("en", GERMAN), ("zh", CHINESE), ("en", "Hello there. " * 30)]
    langs, texts = zip(*rows)
    batch = pa.record_batch({"text": pa.array(texts, pa.large_string()), "lang": pa.array(langs)})
    kwargs = {"min_doc_words": 10} if step is GopherQuality else {}
    got = step(lang_column="lang", **kwargs).reject(batch).to_pylist()
    want = [reasons(step(language=lang, **kwargs), [text])[0] for lang, text in rows]
    assert got == want
    assert len(set(want)) > 1


def test_words_do_not_depend_on_earlier_batches(bench_docs):
    """spaCy runs in a memory zone per batch: a batch's words are the same fresh or after others."""
    from curate.text.lang_words import given_spans

    de = resolve_language("de")
    first = pa.array([t for _, t in bench_docs["de"][:6]])
    second = pa.array([t for _, t in bench_docs["de"][6:]] + [GERMAN])
    fresh = [a.tolist() for a in given_spans(second, de)]
    given_spans(first, de)
    again = [a.tolist() for a in given_spans(second, de)]
    assert fresh == again and len(fresh[1]) > 1000


# ---------------------------------------------------------------- c4 with a language


def c4_run(step, texts):
    batch = step.annotate(pa.record_batch({"text": pa.array(texts, pa.large_string())}))
    return step.reject(batch).to_pylist(), batch.column("text").to_pylist()


def test_c4_counts_sentences_with_the_languages_splitter_exactly():
    from curate.steps.c4 import C4

    de = ("Das ist ein guter Satz. Und noch einer hier.\nHier steht die dritte Zeile.\nkurz\n"
          "Die vierte Zeile ist auch da.\nDie fünfte Zeile endet so.")
    short = de.replace(" Und noch einer hier.", "")  # 4 sentences left
    assert c4_run(C4(language="de"), [de, short]) == (
        [None, "too_few_sentences"], [de.replace("kurz\n", ""), short])  # the short line is cut from kept text
    zh = "我们的数据在这里。今天天气很好！你好吗？我们走吧。好的。"  # 5 sentences, no spaces
    cjk = {"min_words_per_line": None, "filter_no_terminal_punct": False}
    assert c4_run(C4(language="zh", **cjk), [zh, zh[:16]])[0] == [None, "too_few_sentences"]
    assert c4_run(C4(**cjk), [zh])[0] == ["too_few_sentences"]  # English splitting sees one sentence
    with pytest.raises(ValueError, match="language='klingon'"):
        C4(language="klingon")


@pytest.mark.parametrize("lang", ["de", "fr", "ru"])
def test_c4_language_same_decisions_and_text_as_datatrove(bench_docs, lang):
    from datatrove.data import Document
    from datatrove.pipeline.filters import C4QualityFilter

    from curate.steps.c4 import C4

    ids, texts = zip(*bench_docs[lang])
    outcomes = set()
    for min_sentences in (5, 20):  # datatrove's default, and one that drops some of these pages
        theirs, their_texts = [], []
        dt = C4QualityFilter(language=BENCH_LANGUAGES[lang], min_num_sentences=min_sentences)
        for i, text in enumerate(texts):
            doc = Document(text=text, id=str(i))
            verdict = dt.filter(doc)
            theirs.append(None if verdict is True else verdict[1])
            their_texts.append(doc.text)
        ours, our_texts = c4_run(C4(language=lang, min_num_sentences=min_sentences), list(texts))
        assert ours == theirs
        assert [t for t, v in zip(our_texts, ours) if v is None] == [t for t, v in zip(their_texts, theirs)
                                                                      if v is None]
        outcomes |= set(ours)
    assert None in outcomes and "too_few_sentences" in outcomes
