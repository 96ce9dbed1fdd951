"""MinHash signatures, band keys, LSH parameter choice and the clustering primitives."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.dedup.cluster import (key_edges, kept_of_groups, partition_bits, size_histogram, star_roots,
                                  star_round)
from curate.dedup.lsh_params import candidate_probability, optimal_bands
from curate.dedup.minhash import band_keys, estimate_jaccard, signatures

LETTERS = "abcdefghijklmnopqrst"
VOCAB = [a + b for a in LETTERS for b in LETTERS]  # no digits: they normalise to 0
NUM_PERM = 256
# The estimate's standard deviation is sqrt(J(1-J)/NUM_PERM) <= 0.031; 0.15 is ~4.8 of them.
TOLERANCE = 0.15


def shingle_set(words: list[str], n: int = 5) -> set[tuple[str, ...]]:
    """Reference word n-grams (fewer words than n: the whole document is one shingle)."""
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def true_jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = shingle_set(a), shingle_set(b)
    return len(sa & sb) / len(sa | sb)


pairs = st.tuples(
    st.lists(st.sampled_from(VOCAB), min_size=30, max_size=200),
    st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(VOCAB)), max_size=40),
)


def edited(words: list[str], edits: list[tuple[int, str]]) -> list[str]:
    out = list(words)
    for pos, word in edits:
        out[pos % len(out)] = word
    return out


@settings(max_examples=200, deadline=None, derandomize=True)  # fixed examples: CI-stable
@given(pairs)
def test_estimate_is_within_tolerance_of_true_jaccard(pair):
    words, edits = pair
    other = edited(words, edits)
    sigs, _ = signatures(pa.array([" ".join(words), " ".join(other)]), num_perm=NUM_PERM, seed=3)
    assert abs(estimate_jaccard(sigs[0], sigs[1]) - true_jaccard(words, other)) <= TOLERANCE


def test_estimate_is_unbiased_over_many_pairs():
    rng = np.random.default_rng(0)
    texts, truth = [], []
    for _ in range(300):
        words = list(rng.choice(VOCAB, size=int(rng.integers(50, 150))))
        other = edited(words, [(int(rng.integers(0, 10**6)), str(rng.choice(VOCAB)))
                               for _ in range(int(rng.integers(0, 12)))])
        texts += [" ".join(words), " ".join(other)]
        truth.append(true_jaccard(words, other))
    sigs, _ = signatures(pa.array(texts), num_perm=NUM_PERM)
    est = (sigs[0::2] == sigs[1::2]).mean(axis=1)
    # the mean of 300 errors has standard deviation <= 0.031 / sqrt(300) = 0.0018
    assert abs(float(np.mean(est - np.array(truth)))) < 0.01


def test_normalisation_ignores_case_punctuation_spacing_and_digits():
    texts = pa.array(["Hello, World! It's 42 o'clock — «now».",
                      "hello world it s 17 o clock now",
                      "hello world it is 17 o clock now"])
    sigs, counts = signatures(texts, num_perm=64)
    assert (sigs[0] == sigs[1]).all() and not (sigs[1] == sigs[2]).all()
    assert counts.tolist() == [4, 4, 4]
    raw, _ = signatures(texts, num_perm=64, normalize=False)
    assert not (raw[0] == raw[1]).all()


def test_short_and_empty_documents():
    sigs, counts = signatures(pa.array(["one two", "", "  ,. ", None, "one two"]), num_perm=16)
    assert counts.tolist() == [1, 0, 0, 0, 1]
    assert (sigs[0] == sigs[4]).all()


def test_char_shingles_collapse_separators():
    texts = pa.array(["ab  cd", "ab cd", "ab,cd!", "abcd"])
    sigs, counts = signatures(texts, num_perm=32, unit="char", ngram_size=3)
    assert counts.tolist() == [3, 3, 3, 2]
    assert (sigs[0] == sigs[1]).all() and (sigs[1] == sigs[2]).all()


def test_seed_changes_signatures_and_band_keys_depend_on_band():
    text = pa.array(["the quick brown fox jumps over the lazy dog"])
    a, _ = signatures(text, num_perm=32, seed=0)
    b, _ = signatures(text, num_perm=32, seed=1)
    assert not (a == b).all()
    same = np.tile(a[:, :4], (1, 8))  # every band holds the same values
    keys = band_keys(same, 8, 4)
    assert len(set(keys[0].tolist())) == 8


def test_optimal_bands_equals_datasketch():
    from datasketch.lsh import _optimal_param

    for threshold in (0.5, 0.7, 0.8, 0.9):
        for num_perm in (64, 128):
            expect = _optimal_param(threshold, num_perm, 0.5, 0.5)
            assert optimal_bands(threshold, num_perm) == expect


def test_candidate_probability_is_an_s_curve():
    p = candidate_probability(np.array([0.0, 0.5, 0.7, 0.85, 1.0]), 14, 9)
    assert p[0] == 0 and p[-1] == 1 and (np.diff(p) > 0).all()
    assert p[3] == pytest.approx(1 - (1 - 0.85**9) ** 14)


def _reference_components(n: int, keys: np.ndarray, docs: np.ndarray) -> list[int]:
    root = list(range(n))

    def find(x):
        while root[x] != x:
            x = root[x]
        return x

    by_key: dict[int, list[int]] = {}
    for k, d in zip(keys.tolist(), docs.tolist()):
        by_key.setdefault(k, []).append(d)
    for members in by_key.values():
        for d in members[1:]:
            a, b = find(members[0]), find(d)
            root[max(a, b)] = min(a, b)
    return [find(i) for i in range(n)]


def _star_components(n: int, a: np.ndarray, b: np.ndarray, num_ranges: int) -> tuple[list[int], int]:
    """Roots by star rounds, run as the engine runs them: nodes split into ``num_ranges`` ranges,
    each range's round computed from its own directed edges only."""
    u, v = np.concatenate([a, b]), np.concatenate([b, a])
    for rounds in range(200):
        which = u * num_ranges // max(n, 1)
        outs, violations = [], 0
        for q in range(num_ranges):
            x, y, bad, _ = star_round(u[which == q], v[which == q], large=rounds % 2 == 0)
            outs.append((x, y))
            violations += bad
        if violations == 0:
            break
        x = np.concatenate([o[0] for o in outs])
        y = np.concatenate([o[1] for o in outs])
        u, v = np.concatenate([x, y]), np.concatenate([y, x])
    root = np.arange(n)
    node, r = star_roots(u, v)
    root[node] = r
    return root.tolist(), rounds


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.integers(0, 30), min_size=3, max_size=3), min_size=1, max_size=60),
       st.integers(1, 5))
def test_star_rounds_give_the_union_find_components(rows, num_ranges):
    keys = np.array(rows, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    flat, docs = keys.reshape(-1), np.repeat(np.arange(len(rows)), 3)
    a, b = key_edges(flat, docs)
    root, _ = _star_components(len(rows), a, b, num_ranges)
    assert root == _reference_components(len(rows), flat, docs)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(2, 400), st.integers(0, 2**32))
def test_star_rounds_on_long_paths_and_random_graphs(n, seed):
    """Long chains in shuffled order (the worst case for label propagation) and random sparse
    graphs: the roots equal scipy's components' smallest members; rounds stay logarithmic."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    a = np.concatenate([perm[:-1], rng.integers(0, n, n // 4)])
    b = np.concatenate([perm[1:], rng.integers(0, n, n // 4)])
    keep = a != b
    a, b = a[keep], b[keep]
    root, rounds = _star_components(n, a, b, 3)
    _, label = connected_components(sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    smallest = np.full(label.max() + 1, n)
    np.minimum.at(smallest, label, np.arange(n))
    assert root == smallest[label].tolist()
    assert rounds <= 4 * int(np.ceil(np.log2(n))) + 4


def test_kept_of_groups_first_max_and_index():
    # members sorted by (root, node); docs 0, 1 are index documents
    root = np.array([0, 0, 1, 1, 4, 4, 4])
    node = np.array([0, 2, 1, 3, 4, 5, 6])
    assert node[kept_of_groups(root, node, None, 2)].tolist() == [0, 0, 1, 1, 4, 4, 4]
    score = np.array([-np.inf, 0.3, -np.inf, 0.9, 0.2, 0.8, 0.8])
    assert node[kept_of_groups(root, node, score, 2)].tolist() == [0, 0, 1, 1, 5, 5, 5]
    nan_first = np.array([-np.inf, 0.3, -np.inf, 0.9, np.nan, 0.8, 0.9])
    assert node[kept_of_groups(root, node, nan_first, 2)].tolist() == [0, 0, 1, 1, 4, 4, 4]


def test_size_histogram_and_partition_bits():
    assert size_histogram({1: 5, 2: 2, 3: 1, 4: 1, 5: 1, 9: 1, 17: 1}) == {
        "2": 2, "3-4": 2, "5-8": 1, "9-16": 1, "17-32": 1}
    assert partition_bits(100, 1000) == 0 and partition_bits(1000, 100) == 4
