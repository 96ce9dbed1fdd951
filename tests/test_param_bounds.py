"""Values that used to pass the recipe check and then crash later are refused at parse time, with
one line naming the key, the value and what is allowed: seeds, sizes, NaN, language codes, files
that are not fastText models."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.errors import CurateError, RecipeError
from curate.recipe import load_recipe
from tests.conftest import REPO, run_cli, write_recipe

DATA = REPO / "tests" / "data" / "web_sample.jsonl.zst"


def recipe(tmp_path: Path, steps: str, seed: str = "0") -> Path:
    return write_recipe(tmp_path / "r.toml", f'[recipe]\nname = "t"\nseed = {seed}\n[[sources]]\n'
                        f'name = "web"\npaths = ["{DATA}"]\n{steps}\n[output]\ndir = "out"\n')


def refused(tmp_path: Path, steps: str, message: str, seed: str = "0") -> str:
    with pytest.raises(RecipeError) as err:
        load_recipe(recipe(tmp_path, steps, seed))
    text = str(err.value)
    assert message in text and "\n" not in text
    return text


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
def test_recipe_seed_out_of_range_is_refused_at_parse_time(tmp_path, seed):
    # -1 used to pass, then train_tokenizer died with OverflowError in seeded_keys
    refused(tmp_path, '[[steps]]\nuse = "train_tokenizer"', f"recipe: seed={seed} is out of range; "
            "allowed: 0 <= seed <= 9223372036854775807", seed=seed)


def test_seed_bound_is_accepted_by_every_seeded_consumer(tmp_path):
    """The largest allowed seed runs through the tokenizer sample, MinHash and the holdout."""
    import numpy as np
    import pyarrow as pa

    from curate.dedup.minhash import permutations
    from curate.steps.train_tokenizer import seeded_keys
    from curate.text.hashing import holdout_mask

    top = 2**63 - 1
    load_recipe(recipe(tmp_path, '[[steps]]\nuse = "train_tokenizer"', seed=str(top)))
    assert seeded_keys(np.arange(3, dtype=np.uint64), top).dtype == np.uint64
    assert len(permutations(4, top)[0]) == 4
    assert holdout_mask(pa.array(["a", "b"]), top, 0.5).dtype == bool


@pytest.mark.parametrize("steps, message", [
    ('[[steps]]\nuse = "train_tokenizer"\nvocab_size = 2000000000',
     "vocab_size=2000000000 is out of range; allowed: 259 <= vocab_size <= 16777216"),
    ('[[steps]]\nuse = "train_tokenizer"\nsample_docs = 1000000000000', "sample_docs=1000000000000 is out of range"),
    ('[[steps]]\nuse = "skill_cluster"\nnum_clusters = 10000\nnum_features = 67108864',
     "num_clusters * num_features=671088640000 is out of range"),
    ('[[steps]]\nuse = "minhash_dedup"\nnum_bands = 600\nrows_per_band = 1', "num_bands=600 is out of range"),
    ('[[steps]]\nuse = "minhash_dedup"\nngram_size = 100000', "ngram_size=100000 is out of range"),
    ('[[steps]]\nuse = "domain_balance"\nupsample = { "a.com" = 1000000000 }',
     "upsample.a.com=1000000000 is out of range"),
    ('[[steps]]\nuse = "minhash_dedup"\nthreshold = nan', "threshold: got nan; expected a number"),
    ('[[steps]]\nuse = "lang_id"\nmin_score = nan', "min_score: got nan"),
    ('[[steps]]\nuse = "score_filter"\ncolumn = "q"\nmin_score = nan', "min_score: got nan"),
    ('[[steps]]\nuse = "gopher_repetition"\ntop_ngram_max_fracs = [0.2, nan, 0.1]', "top_ngram_max_fracs[1]: got nan"),
    ('[[steps]]\nuse = "lang_id"\nlanguages = ["english"]',
     "languages: 'english' is not a language of the model; allowed: af, als, am,"),
])
def test_values_that_cannot_run_are_refused_at_parse_time(tmp_path, steps, message):
    refused(tmp_path, steps, message)


def test_lang_id_accepts_every_lid176_code(tmp_path):
    from curate.models.fasttext_model import lid176_path, model_labels

    codes = model_labels(lid176_path())
    assert len(codes) == 176 and "en" in codes and "zh" in codes
    listed = ", ".join(f'"{c}"' for c in codes)
    step = load_recipe(recipe(tmp_path, f'[[steps]]\nuse = "lang_id"\nlanguages = [{listed}]')).steps[0]
    assert set(step.languages) == set(codes)


def test_lm_score_settings_the_model_cannot_run_are_one_line():
    from curate.steps.lm_score import check_fits

    check_fits(512, 512, 4096, 2048)
    with pytest.raises(CurateError, match="max_tokens=4096 exceeds the model's max_position_embeddings=2048"):
        check_fits(4096, 512, 4096, 2048)
    with pytest.raises(CurateError, match="lower batch_tokens or max_tokens"):
        check_fits(512, 2**24, 150_000, None)


@pytest.mark.parametrize("use", ["lang_id", "skill_fasttext", "fasttext_score"])
def test_a_file_that_is_not_a_fasttext_model_is_one_line(tmp_path, use):
    fake = tmp_path / "model.bin"
    fake.write_text("this is a README, not a model\n")
    extra = '\nlabel = "hq"' if use == "fasttext_score" else ""
    text = refused(tmp_path, f'[[steps]]\nuse = "{use}"\nmodel_path = "{fake}"{extra}',
                   "is not a fastText model (no fastText header)")
    assert text.startswith("steps[0]")


def test_not_a_fasttext_model_through_the_cli_prints_no_traceback(tmp_path):
    fake = tmp_path / "model.bin"
    fake.write_bytes(b"\x00\x01binary junk" * 10)
    path = recipe(tmp_path, f'[[steps]]\nuse = "skill_fasttext"\nmodel_path = "{fake}"')
    result = run_cli("build", str(path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "is not a fastText model" in result.stderr


def test_loading_a_non_fasttext_file_at_run_time_is_a_curate_error(tmp_path):
    from curate.models.fasttext_model import load_fasttext

    fake = tmp_path / "x.ftz"
    fake.write_text("url,domain\n")
    with pytest.raises(CurateError) as err:
        load_fasttext(fake)
    assert "\n" not in str(err.value)
