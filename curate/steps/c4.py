"""C4 line and document rules (Raffel et al. 2020, Sec. 2.2), as datatrove 0.10.1's ``C4QualityFilter``
applies them, in one compiled pass per batch
(``curate/kernels/c4.py``).

Like datatrove, this step *rewrites* the text: it is an annotator that replaces ``text`` of kept
documents by their kept lines (``"\\n".join(lines).strip()``; dropped documents keep their original
text, so ``rejected/`` shows what was judged) and a filter that drops documents. Per line of
``text.splitlines()``, stripped, in order:

1. drop the line if a whitespace-separated word is longer than ``max_word_length`` (1000);
2. remove citations ``[12]``, ``[edit]``, ``[citation needed]``;
3. drop it unless it ends in ``. ? ! " '`` (and not in ``...``);
4. drop it if it has fewer than ``min_words_per_line`` (3) words (counted before step 2);
5. drop the **document** if the line contains "lorem ipsum" (reason ``lorem_ipsum``);
6. drop the line if it contains "javascript";
7. drop the **document** if the line contains ``{`` (``curly_bracket``);
8. drop the line if it contains a policy phrase ("terms of use", "privacy policy", "cookie policy",
   "uses cookies", "use of cookies", "use cookies").

Finally the document is dropped (``too_few_sentences``) when its kept lines hold fewer than
``min_num_sentences`` (5) sentences (spaCy sentencizer, ``curate/kernels/sentences.py``). Matching is
case-insensitive for ASCII letters (datatrove lower-cases with ``str.lower``).

``language`` (as datatrove's ``language`` argument): which sentence splitter counts the sentences
for ``min_num_sentences``. ``en`` (default) is the compiled port of spaCy-English's sentencizer;
another language (ISO 639-1 ``de``, 639-3 ``deu`` or FineWeb-2's ``deu_Latn``, resolved as for
gopher/fineweb by ``curate/text/lang_words.py``) counts each kept line's sentences with
``spacy.blank(code)`` + ``sentencizer``, as datatrove's spaCy tokenizers do (same decisions,
tested against datatrove). Fallback: where datatrove uses Stanza, IndicNLP, jieba, SudachiPy or
pythainlp, the blank spaCy tokenizer of that language (or ``xx``) stands in; its sentencizer
still ends sentences at 。！？ and the other scripts' marks. Words stay whitespace-separated (C4's
and datatrove's ``line.split()``, for ``min_words_per_line`` and ``max_word_length``): for scripts
written without spaces (zh, ja, th) a line is one "word", so set ``min_words_per_line = 0``
there. FineWeb-2 did not use the C4 filter, so there are no published per-language C4 values
(no ``thresholds`` option). ``remove_lines = false``
keeps the text unchanged and only drops documents. datatrove's ``split_paragraph = False`` (rules over
sentences instead of lines) is not offered.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import kernels
from curate.config import check_range, param
from curate.schema import TEXT
from curate.steps.doc_kernel import codes_to_reasons, text_buffers
from curate.steps.step import with_columns
from curate.text.lang_words import check_language_params, resolve_language, sentence_counts
from curate.text.words import word_tables

REASONS = ["lorem_ipsum", "curly_bracket", "too_few_sentences"]
REASON_COLUMN = "_c4_reason"


@dataclasses.dataclass(frozen=True, kw_only=True)
class C4:
    """C4 rules (datatrove C4QualityFilter): removes lines without terminal punctuation, short,
    javascript and policy lines, citations; drops documents with lorem ipsum, curly brackets or too
    few sentences. Rewrites ``text``."""

    name: ClassVar[str] = "c4"
    remove_citations: bool = param(True, doc="remove [1], [edit], [citation needed]")
    filter_no_terminal_punct: bool = param(True, doc="remove lines not ending in . ? ! \" '")
    min_num_sentences: int | None = param(5, doc="min sentences in the kept lines; none = off")
    min_words_per_line: int | None = param(3, doc="remove lines with fewer words; none = off")
    max_word_length: int | None = param(1000, doc="remove lines with a longer word; none = off")
    filter_lorem_ipsum: bool = param(True, doc="drop documents containing 'lorem ipsum'")
    filter_javascript: bool = param(True, doc="remove lines containing 'javascript'")
    filter_curly_bracket: bool = param(True, doc="drop documents containing '{' in a kept line")
    filter_policy: bool = param(True, doc="remove lines with terms-of-use / privacy / cookie phrases")
    remove_lines: bool = param(True, doc="rewrite text to the kept lines (false: only drop documents)")
    language: str = param("en", doc="sentence splitting for min_num_sentences (curate/text/lang_words.py): en, de, deu_Latn")

    def __post_init__(self) -> None:
        check_language_params(self.language, None)
        for key in ("min_num_sentences", "min_words_per_line", "max_word_length"):
            if getattr(self, key) is not None:
                check_range(key, getattr(self, key), 0)

    def _opts(self) -> np.ndarray:
        off = -1
        return np.array([
            self.remove_citations, self.filter_no_terminal_punct,
            off if self.min_num_sentences is None else self.min_num_sentences,
            off if self.min_words_per_line is None else self.min_words_per_line,
            off if self.max_word_length is None else self.max_word_length,
            self.filter_lorem_ipsum, self.filter_javascript, self.filter_curly_bracket,
            self.filter_policy, self.remove_lines,
        ], np.int64)

    def _run(self, text: pa.Array) -> tuple[pa.Array, pa.Array]:
        splitter = resolve_language(self.language)
        spacy_sentences = splitter.kind != "en" and self.min_num_sentences is not None
        opts = self._opts()
        if spacy_sentences:  # the kernel keeps lines; spaCy counts their sentences below
            opts[2], opts[9] = -1, 1
        data, offsets, longest = text_buffers(text)
        n = len(offsets) - 1
        out_data = np.empty(max(len(data), 1), np.uint8)
        out_offsets = np.empty(n + 1, np.int64)
        codes = np.empty(n, np.int32)
        kernels.load("c4").c4_kernel(data, offsets, longest, *word_tables(), opts, out_data, out_offsets, codes)
        new_text = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(out_offsets), pa.py_buffer(out_data[: out_offsets[-1]]))
        if spacy_sentences:
            rows = np.flatnonzero(codes < 0)
            kept = new_text.take(pa.array(rows)).to_pylist()
            lines = [doc.split("\n") if doc else [] for doc in kept]  # the kept lines of each document
            counts = sentence_counts([x for doc in lines for x in doc], splitter)
            doc_of_line = np.repeat(np.arange(len(rows)), [len(x) for x in lines])
            per_doc = np.bincount(doc_of_line, weights=counts, minlength=len(rows))
            codes[rows[per_doc < self.min_num_sentences]] = 2
            original = text.cast(pa.large_string())
            new_text = pc.if_else(pa.array(codes < 0), new_text, original) if self.remove_lines else original
        return new_text, codes_to_reasons(codes, REASONS)

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text, reasons = self._run(batch.column(TEXT))
        return with_columns(batch, {TEXT: text, REASON_COLUMN: reasons})

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        if REASON_COLUMN in batch.schema.names:
            return batch.column(REASON_COLUMN)
        return self._run(batch.column(TEXT))[1]
