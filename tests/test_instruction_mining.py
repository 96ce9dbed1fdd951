"""Instruction Mining selection: the per-pair indicators (instruction_pair, pair_length, mtld,
lm_score on the response, knn_distance), score_rule, `curate fit-rule` and the shipped recipe.

MTLD is checked against a hand-computed example and against a line-for-line Python port of
lexicalrichness 0.5.1's ``mtld`` (the package pulls textblob, so it is not a dependency); KNN
distances against a brute-force numpy reference on the same TF-IDF vectors; the least-squares fit
against planted coefficients; the recipe builds on the real-text pairs of tests/pair_fixtures.py."""

from __future__ import annotations

import json
import math

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.build import build
from curate.cli import main
from curate.errors import CurateError, RecipeError
from curate.manifest import Manifest
from curate.recipe import load_recipe
from curate.steps.instruction_pair import InstructionPair
from curate.steps.knn_distance import KnnDistance, kth_neighbour_distance
from curate.steps.pair_length import PairLength
from curate.steps.score_rule import ScoreRule, fit_linear_rule
from curate.steps.skill_cluster import tfidf
from curate.text.mtld import mtld
from tests.conftest import REPO
from tests.pair_fixtures import PAIRS, make_pairs


def reference_mtld(words: list[str], threshold: float = 0.72) -> float:
    """lexicalrichness 0.5.1 ``LexicalRichness.mtld``, transcribed (its word list given)."""
    def sub(seq: list[str]) -> float:
        terms, counter, factors, ttr = set(), 0, 0.0, 1.0
        for w in seq:
            counter += 1
            terms.add(w)
            ttr = len(terms) / counter
            if ttr <= threshold:
                counter, terms, factors = 0, set(), factors + 1
        if counter > 0:
            factors += (1 - ttr) / (1 - threshold)
        if factors == 0:
            whole = len(set(words)) / len(words)
            factors += 1 if whole == 1 else (1 - whole) / (1 - threshold)
        return len(words) / factors
    return (sub(words) + sub(words[::-1])) / 2


def test_mtld_hand_computed() -> None:
    # forward: "the cat sat on the mat the" reaches TTR 5/7 <= 0.72 (one factor), "end" is a run with
    # TTR 1 (partial 0): 8 / 1. Backward: "end the mat the on sat cat the" never falls below 0.72 and
    # ends at TTR 6/8: partial (1 - 0.75) / 0.28, so 8 / (0.25 / 0.28) = 8.96. Mean 8.48.
    # "a a a a": factors at every second word, 4 / 2 = 2 both ways. No words: NaN.
    got = mtld(pa.array(["The cat sat on the mat, the END.", "a a a a", "", None, "!!"]))
    assert got[:2] == pytest.approx([8.48, 2.0], abs=1e-12)
    assert np.isnan(got[2:]).all()


@settings(deadline=None, derandomize=True, max_examples=60)
@given(st.lists(st.lists(st.sampled_from("ab cd ef gh ij kl mn op qr st".split()), max_size=80), max_size=6),
       st.sampled_from([0.5, 0.72, 0.9]))
def test_mtld_equals_lexicalrichness_reference(docs: list[list[str]], threshold: float) -> None:
    got = mtld(pa.array([" ".join(d) for d in docs]), threshold)
    want = [reference_mtld(d, threshold) if d else math.nan for d in docs]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _pair_batch(pairs: list[dict]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"text": [p["output"] for p in pairs],
                                       "meta": [orjson.dumps(p).decode() for p in pairs]})


def test_instruction_pair_from_meta_and_from_messages() -> None:
    batch = _pair_batch([{"instruction": "Add 2 and 3.", "input": "Show the sum.", "output": "5"},
                         {"instruction": "Say hi\nloudly", "input": "", "output": "HI"}])
    got = InstructionPair().annotate(batch)
    assert got.column("instruction").to_pylist() == ["Add 2 and 3.\n\nShow the sum.", "Say hi\nloudly"]
    assert got.column("response").to_pylist() == ["5", "HI"]
    chats = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1"},
              {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"},
              {"role": "assistant", "content": "A\n2"}], [{"role": "user", "content": "only"}]]
    batch = pa.RecordBatch.from_pydict({"text": [orjson.dumps(c).decode() for c in chats], "meta": [None, None]})
    got = InstructionPair(pairs_from="messages").annotate(batch)
    assert got.column("instruction").to_pylist() == ["Be brief.\n\nQ1\n\nQ2", "only"]
    assert got.column("response").to_pylist() == ["A1\n\nA\n2", None]
    got = InstructionPair().annotate(pa.RecordBatch.from_pydict({"text": ["x"], "meta": ['{"instruction": "i"}']}))
    assert got.column("response").to_pylist() == [None]  # missing: null, then counted as missing downstream
    with pytest.raises(CurateError, match="instruction"):
        InstructionPair().annotate(pa.RecordBatch.from_pydict({"text": ["x"], "meta": ['{"instruction": 3}']}))


def test_pair_length_words_and_tokens(tmp_path) -> None:
    from tests.train_support import train_tokenizer

    tok = train_tokenizer(["hello world " * 50, "the cat sat"], vocab_size=300)
    tok.save(str(tmp_path / "tokenizer.json"))
    batch = pa.RecordBatch.from_pydict({"instruction": ["say  hello world", None], "response": ["hi", " "]})
    got = PairLength(tokenizer=tmp_path / "tokenizer.json").annotate(batch)
    assert got.column("instruction_words").to_pylist() == [3, 0]
    assert got.column("response_words").to_pylist() == [1, 0]
    want = [len(tok.encode(t, add_special_tokens=False).ids) for t in ["say  hello world", ""]]
    assert got.column("instruction_tokens").to_pylist() == want


def _brute_force_kth(dense: np.ndarray, ref_rows: np.ndarray, k: int) -> np.ndarray:
    sims = dense @ dense[ref_rows].T
    sims[ref_rows, np.arange(len(ref_rows))] = -np.inf
    out = np.full(len(dense), np.nan)
    for i, row in enumerate(sims):
        finite = np.sort(row[np.isfinite(row)])[::-1]
        if len(finite) >= k:
            out[i] = 1.0 - finite[k - 1]
    return out


@pytest.mark.parametrize("k", [1, 6])
def test_knn_distance_equals_brute_force(k) -> None:
    pairs = make_pairs(80)
    batch = InstructionPair().annotate(_pair_batch(pairs))
    step = KnnDistance(k=k, num_features=2**12)
    feats = step.prepare(batch).column("_knn_features")
    x, _ = tfidf(feats, step.num_features)
    dense = x.toarray()
    all_rows = np.arange(len(pairs))
    np.testing.assert_allclose(kth_neighbour_distance(x, x, all_rows, k), _brute_force_kth(dense, all_rows, k),
                               atol=1e-6)
    sample = np.sort(np.random.default_rng(1).choice(len(pairs), 30, replace=False))
    np.testing.assert_allclose(kth_neighbour_distance(x, x[sample], sample, k),
                               _brute_force_kth(dense, sample, k), atol=1e-6)
    if k == 1:  # the planted near-duplicates (every 15th pair) sit next to their original
        near = kth_neighbour_distance(x, x, all_rows, 1)
        assert all(near[i] < 0.05 for i in range(14, 80, 15))


def test_knn_distance_with_too_few_pairs_is_null() -> None:
    x, _ = tfidf(pa.array([[1, 2], [2, 3], [5]], pa.list_(pa.uint32())), 16)
    assert np.isnan(kth_neighbour_distance(x, x, np.arange(3), 3)).all()
    assert not np.isnan(kth_neighbour_distance(x, x, np.arange(3), 2)).any()


def test_score_rule_applies_the_linear_rule() -> None:
    batch = pa.RecordBatch.from_pydict({"a": pa.array([1.0, 2.0, None, 4.0]), "b": pa.array([10, 20, 30, 40]),
                                        "c": pa.array([0.5, float("nan"), 1.0, 2.0])})
    got = ScoreRule(coefficients={"a": 2.0, "b": -0.1}, intercept=1.0).annotate(batch).column("rule_score")
    assert got.to_pylist() == [2.0, 3.0, None, 5.0]
    got = ScoreRule(coefficients={"c": 1.0}, column="s").annotate(batch).column("s")
    assert got.to_pylist() == [0.5, None, 1.0, 2.0]
    with pytest.raises(RecipeError, match="column 'd' is missing"):
        ScoreRule(coefficients={"d": 1.0}).annotate(batch)
    with pytest.raises(ValueError, match="coefficients: empty"):
        ScoreRule(coefficients={})


def test_least_squares_recovers_planted_coefficients() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)) * [1.0, 100.0, 0.1]
    planted = np.array([-0.15, 8.0e-5, -0.93])
    y = 1.07 + x @ planted
    fit = fit_linear_rule(x, y, ["reward", "output_len", "knn6"])
    assert fit.intercept == pytest.approx(1.07, abs=1e-10)
    np.testing.assert_allclose(list(fit.coefficients.values()), planted, atol=1e-10)
    assert fit.r2 == pytest.approx(1.0) and fit.num_rows == 400
    noisy = fit_linear_rule(x, y + rng.normal(scale=0.01, size=400), ["a", "b", "c"])
    errors = np.abs(np.array(list(noisy.coefficients.values())) - planted) * [1.0, 100.0, 0.1]  # per unit x
    assert (errors < 5e-3).all()
    x[3, 1] = np.nan  # incomplete rows are left out
    assert fit_linear_rule(x, y, ["a", "b", "c"]).num_rows == 399
    with pytest.raises(RecipeError, match="need at least 4"):
        fit_linear_rule(x[:3], y[:3], ["a", "b", "c"])


def test_fit_rule_command_prints_a_recipe_table(tmp_path, capsys) -> None:
    rng = np.random.default_rng(1)
    rows = [{"len": float(v), "mtld": float(m), "loss": float(math.exp(0.5 + 0.002 * v - 0.01 * m))}
            for v, m in zip(rng.uniform(10, 500, 30), rng.uniform(5, 100, 30))]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["fit-rule", str(labels), "--columns", "len", "mtld", "--log-target"]) == 0
    out = capsys.readouterr().out
    import tomllib

    table = tomllib.loads(out)["steps"][0]
    assert table["use"] == "score_rule" and table["intercept"] == pytest.approx(0.5)
    assert table["coefficients"] == pytest.approx({"len": 0.002, "mtld": -0.01})
    ScoreRule(coefficients=table["coefficients"], intercept=table["intercept"])  # pastes as a valid step
    assert main(["fit-rule", str(labels), "--columns", "nope"]) == 2


def test_mtld_ranks_the_repeated_responses_lowest() -> None:
    pairs = make_pairs()
    score = mtld(pa.array([p["output"] for p in pairs]))
    repeated = np.array([int(p["id"].split("-")[1]) % 10 == 9 for p in pairs])
    # most repeated responses score below every real one (a few repeat one long unspaced CJK "word")
    assert (score[repeated] < score[~repeated].min()).mean() > 0.6
    assert np.median(score[~repeated]) > 5 * np.median(score[repeated])


def test_pair_fixture_file_is_the_generator_output() -> None:
    import zstandard

    lines = zstandard.ZstdDecompressor().stream_reader(PAIRS.open("rb")).read().splitlines()
    assert [orjson.loads(line) for line in lines] == make_pairs()


def test_shipped_recipe_builds_and_keeps_the_best_half(tmp_path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from curate.steps.lm_score import LmScore
    from tests.lm_helpers import tiny_model_dir

    model = tiny_model_dir(tmp_path / "model")
    out = tmp_path / "out"
    argv = ["build", str(REPO / "recipes" / "instruction_mining.toml"), "--no-progress"]
    for item in (f"output.dir={out}", f"steps.lm_score.model={model}", "steps.lm_score.num_threads=1",
                 "steps.lm_score.max_tokens=64"):
        argv += ["--set", item]
    assert main(argv) == 0
    manifest = Manifest.load(out)
    kept = pa.concat_tables([pq.read_table(p) for p in manifest.shard_paths()])
    pairs = make_pairs()
    stats = json.loads((out / "stats.json").read_text())
    scored = stats["global_steps"]["6:score_percentile"]["num_scored"]
    assert kept.num_rows == math.floor(0.5 * scored + 0.5)
    # every indicator is there, and the rule is what score_rule's formula gives on them
    rule = kept.column("rule_score").to_numpy()
    col = {c: kept.column(c).to_numpy().astype(np.float64) for c in ("response_loss", "response_mtld", "knn6_distance")}
    want = 1.0 + 0.1 * col["response_loss"] - 0.005 * col["response_mtld"] - 0.9 * col["knn6_distance"]
    np.testing.assert_array_equal(rule, want.astype(np.float32))
    assert rule.max() <= stats["global_steps"]["6:score_percentile"]["groups"]["all"]["cut_score"]
    # the response loss is lm_score's loss of the response text (here the document text)
    by_id = {p["id"]: p for p in pairs}
    texts = [by_id[i]["output"] for i in kept.column("id").to_pylist()]
    ref = LmScore(model=model, max_tokens=64).scores(pa.RecordBatch.from_pydict({"text": texts}))
    np.testing.assert_allclose(kept.column("response_loss").to_numpy(), ref, rtol=1e-4)


def test_chat_source_pairs_equal_meta_pairs(tmp_path) -> None:
    """The same Alpaca file read as a chat source (``pairs_from = "messages"``) and as plain JSONL
    (``pairs_from = "meta"``) gives the same instruction and response columns."""
    def run_build(name: str, source: str, pair: str) -> pa.Table:
        recipe = tmp_path / f"{name}.toml"
        recipe.write_text(f'[recipe]\nname = "{name}"\n[[sources]]\nname = "pairs"\npaths = ["{PAIRS}"]\n{source}\n'
                          f'[[steps]]\nuse = "instruction_pair"\n{pair}\n[output]\ndir = "{tmp_path / name}"\n')
        manifest = build(load_recipe(recipe))
        return pa.concat_tables([pq.read_table(p) for p in manifest.shard_paths()]).sort_by("id")

    chat = run_build("chat", 'format = "chat"', 'pairs_from = "messages"')
    meta = run_build("meta", '[sources.fields]\ntext = "output"\nmeta = ["instruction", "input", "output"]', "")
    assert chat.num_rows == meta.num_rows == len(make_pairs())
    for column in ("id", "instruction", "response"):
        assert chat.column(column).to_pylist() == meta.column(column).to_pylist()


def test_indicator_build_is_the_same_bytes_for_any_workers(tmp_path) -> None:
    from tests.test_resume import tree_bytes

    pairs = make_pairs(120)
    paths = []
    for i in range(3):  # three input files, so two workers split the work
        path = tmp_path / f"pairs{i}.jsonl"
        path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in pairs[i::3]))
        paths.append(str(path))
    recipe = tmp_path / "r.toml"

    def run_build(workers: int) -> dict[str, str]:
        out = tmp_path / f"out{workers}"
        recipe.write_text(f'[recipe]\nname = "w"\n[[sources]]\nname = "pairs"\npaths = {json.dumps(paths)}\n'
                          '[sources.fields]\ntext = "output"\nmeta = ["instruction", "input", "output"]\n'
                          '[[steps]]\nuse = "instruction_pair"\n[[steps]]\nuse = "mtld"\n'
                          '[[steps]]\nuse = "knn_distance"\nnum_features = 4096\n'
                          '[[steps]]\nuse = "score_rule"\ncoefficients = { response_mtld = -0.01, knn6_distance = 1.0 }\n'
                          '[[steps]]\nuse = "score_percentile"\ncolumn = "rule_score"\nkeep_frac = 0.5\n'
                          f'keep = "bottom"\ngroup_by = "all"\n[output]\ndir = "{out}"\nmax_shard_rows = 20\n')
        return tree_bytes(build(load_recipe(recipe), workers=workers).root)

    one = run_build(1)
    assert len(one) > 2 and run_build(2) == one
