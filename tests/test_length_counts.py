"""length.char_word_counts against pyarrow's trim / split-whitespace formulas and str.isspace."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.kernels.length import is_space
from curate.steps.length import char_word_counts

SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\u200b\ufeff"
texts = st.lists(st.text(alphabet=st.sampled_from(list(SPACES) + list("ab.é中😀-")), max_size=40), max_size=20)


def test_is_space_is_str_isspace_on_every_codepoint():
    assert [cp for cp in range(0x110000) if is_space(cp)] == [cp for cp in range(0x110000) if chr(cp).isspace()]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(texts)
def test_counts_equal_pyarrow_trim_and_split(docs):
    arr = pa.array(docs, pa.large_string())
    trimmed = pc.utf8_trim_whitespace(arr)
    chars = pc.utf8_length(trimmed).to_numpy(zero_copy_only=False)
    words = pc.list_value_length(pc.utf8_split_whitespace(trimmed)).to_numpy(zero_copy_only=False)
    words = np.where(pc.equal(trimmed, "").to_numpy(zero_copy_only=False), 0, words)
    got_chars, got_words = char_word_counts(arr)
    assert got_chars.tolist() == chars.tolist()
    assert got_words.tolist() == words.tolist()
    assert got_words.tolist() == [len(d.split()) for d in docs]


def test_counts_exact():
    chars, words = char_word_counts(pa.array(["  two words\n", "", " \u3000 ", "a"]))
    assert chars.tolist() == [9, 0, 0, 1]
    assert words.tolist() == [2, 0, 0, 1]
