"""curate/kernels/dupes.py against datatrove's definitions written with collections.Counter."""

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.kernels.dupes import dup_stats, top_repeat_chars

segments = st.lists(st.tuples(st.integers(0, 6), st.integers(1, 50)), max_size=60)


def _arrays(segs):
    keys = np.array([np.uint64(k * 0x100000001B3 + 7) for k, _ in segs], np.uint64)
    lens = np.array([length for _, length in segs], np.int64)
    return keys, lens


@settings(max_examples=200, deadline=None, derandomize=True)
@given(segments)
def test_dup_stats_counts_every_copy_after_the_first(segs):
    seen, dups, chars = set(), 0, 0
    for k, length in segs:
        if k in seen:
            dups, chars = dups + 1, chars + length
        seen.add(k)
    keys, lens = _arrays(segs)
    assert dup_stats(keys, lens, len(segs)) == ((dups, chars) if len(segs) >= 2 else (0, 0))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(segments)
def test_top_repeat_chars_is_most_common_first_seen_wins(segs):
    keys, lens = _arrays(segs)
    if not segs:
        assert top_repeat_chars(keys, lens, 0) == 0
        return
    key, count = Counter(k for k, _ in segs).most_common(1)[0]
    first_len = next(length for k, length in segs if k == key)
    assert top_repeat_chars(keys, lens, len(segs)) == first_len * count


def test_top_repeat_chars_tie_goes_to_first_seen():
    keys = np.array([5, 9, 9, 5, 3], np.uint64)
    lens = np.array([2, 7, 7, 2, 1], np.int64)
    assert top_repeat_chars(keys, lens, 5) == 4  # 5 and 9 both twice; 5 seen first (len 2)
