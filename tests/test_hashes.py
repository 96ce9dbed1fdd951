"""One of each: a single splitmix64 and a single holdout split, shared by every seeded choice."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.text.hashing import holdout_mask, splitmix64, splitmix64_array, splitmix64_stream
from tests.conftest import REPO

MULTIPLIER = re.compile(r"0x[bB][fF]58476[dD]1[cC][eE]4[eE]5[bB]9")  # splitmix64's first multiplier


def test_splitmix64_is_defined_once_in_curate_text_hashing():
    homes = sorted(str(p.relative_to(REPO)) for pkg in ("curate", "mixers", "train")
                   for p in (REPO / pkg).rglob("*.py") if MULTIPLIER.search(p.read_text(encoding="utf-8")))
    assert homes == ["curate/text/hashing.py"]


def test_splitmix64_reference_values_and_stream():
    # the published C code's outputs for state 0 (x += golden; mix)
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4
    assert splitmix64(-1) == splitmix64(2**64 - 1)
    assert splitmix64_stream(0, 3).tolist() == [splitmix64(0), splitmix64(0x9E3779B97F4A7C15),
                                                splitmix64((2 * 0x9E3779B97F4A7C15) % 2**64)]
    x = np.array([0, 1, 2**63, 2**64 - 1], np.uint64)
    assert splitmix64_array(x).tolist() == [splitmix64(int(v)) for v in x]


def test_minhash_permutations_are_unchanged_by_the_move():
    """Saved MinHash indexes outlive runs: the permutation parameters must not change."""
    from curate.dedup.minhash import permutations

    a, b = permutations(2, seed=0)
    assert a.tolist() == [splitmix64(0) | 1, splitmix64(0x9E3779B97F4A7C15) | 1]
    assert b.tolist() == splitmix64_stream(0, 4)[2:].tolist()


def test_classifier_and_mixers_hold_out_the_same_documents():
    """One holdout hash: a document held out of the classifier's training is held out of mixing
    too, for the same seed and holdout_frac."""
    import mixers.index
    from curate.models import classifier

    ids = pa.array([f"web/{i}" for i in range(5000)])
    held = holdout_mask(ids, 3, 0.2)
    assert 900 < held.sum() < 1100
    assert mixers.index.holdout_mask is holdout_mask
    # the classifier imports numba's hashing only when it trains: its split is curate.text.hashing's
    assert "from curate.text.hashing import hash_strings, holdout_mask" in inspect.getsource(classifier.train_classifier)
    assert not hasattr(classifier, "heldout_mask")
    assert holdout_mask(ids, 3, 0.0).sum() == 0


@settings(deadline=None, derandomize=True, max_examples=50)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=50, unique=True),
       st.integers(0, 2**63 - 1), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_holdout_is_nested_and_depends_on_the_id_alone(ids, seed, f1, f2):
    lo, hi = sorted((f1, f2))
    arr = pa.array(ids)
    small, big = holdout_mask(arr, seed, lo), holdout_mask(arr, seed, hi)
    assert not (small & ~big).any()  # a larger fraction holds out a superset
    rev = holdout_mask(pa.array(ids[::-1]), seed, hi)[::-1]
    assert (rev == big).all()  # order and batching do not matter


def test_classifier_spec_key_is_holdout_frac(tmp_path):
    from curate.config import from_table
    from curate.errors import RecipeError
    from curate.models.classifier import ClassifierSpec

    spec = from_table(ClassifierSpec, {"positives": ["a"], "negatives": ["b"], "model_path": "m.bin",
                                       "holdout_frac": 0.3}, "classifier")
    assert spec.holdout_frac == 0.3
    with pytest.raises(RecipeError, match="unknown key 'heldout_frac'"):  # the old name
        from_table(ClassifierSpec, {"positives": ["a"], "negatives": ["b"], "model_path": "m.bin",
                                    "heldout_frac": 0.3}, "classifier")
