"""Resume equals continue, for every global step and for 1 and 2 workers: a build is SIGKILLed at
named points (``CURATE_FAULT``, curate/faults.py: after a fragment, right after a committed resolve
phase, mid-resolve, mid-shard-write),
run again each time, and its shards, rejected/, quarantine/ and stats.json (minus timings) must be
byte-identical to an uninterrupted build. Also: a resume after the inputs changed is refused.

The killed builds run in forked children of the test process (no interpreter start-up per kill):
the SIGKILL is real, and its point is deterministic.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
from pathlib import Path

import pytest

import curate
from curate.errors import CurateError, OutputError
from curate.recipe import load_recipe
from tests.conftest import read_sample, write_jsonl, write_recipe
from tests.test_readers import bad_jsonl_bytes

NUM_FILES = 4

GLOBAL_STEPS = {
    "exact_dedup": """
[[steps]]
use = "exact_dedup"
""",
    "minhash_dedup": """
[[steps]]
use = "minhash_dedup"
threshold = 0.5
""",
    "train_tokenizer": """
[[steps]]
use = "train_tokenizer"
vocab_size = 300
[[steps]]
use = "tokenize"
""",
    "score_percentile": """
[[steps]]
use = "word_list_score"
words_path = "words.txt"
column = "common"
[[steps]]
use = "score_percentile"
column = "common"
keep_frac = 0.6
""",
    "score_band": """
[[steps]]
use = "word_list_score"
words_path = "words.txt"
column = "common"
[[steps]]
use = "score_band"
column = "common"
drop_bottom_frac = 0.2
drop_top_frac = 0.2
""",
    "domain_balance": """
[[steps]]
use = "domain"
[[steps]]
use = "domain_balance"
max_frac = 0.1
""",
    "skill_cluster": """
[[steps]]
use = "skill_cluster"
num_clusters = 3
num_features = 4096
""",
    "knn_distance": """
[[steps]]
use = "knn_distance"
columns = ["text"]
k = 2
num_features = 4096
""",
    "decontaminate": """
[[steps]]
use = "decontaminate"
action = "spans"
[[steps.eval_sets]]
name = "planted"
paths = ["evals.jsonl"]
""",
    "line_dedup": """
[[steps]]
use = "line_dedup"
min_chars = 10
""",
    "paragraph_dedup": """
[[steps]]
use = "paragraph_dedup"
method = "bloom"
keep = "none"
""",
    "url_dedup": """
[[steps]]
use = "url_dedup"
rule = "longest"
""",
}
#: A kill right after one of the step's resolve phases is committed (mid-resolve, before later phases).
PHASE_FAULTS = {"exact_dedup": "phase:exact_groups", "minhash_dedup": "phase:cc1",
                "decontaminate": "phase:decon_parts", "line_dedup": "phase:seg_repeats",
                "paragraph_dedup": "phase:seg_bloom", "url_dedup": "phase:url_groups"}


def make_inputs(tmp_path: Path, per_file: int = 18) -> None:
    """web_sample split into small files (with exact copies planted across files) and a file of
    bad records, plus a word list for the score steps."""
    docs = read_sample(NUM_FILES * per_file)
    for i in range(NUM_FILES):
        part = docs[i * per_file:(i + 1) * per_file]
        if i:
            part.append({**docs[i], "id": f"copy-{i}"})
        write_jsonl(tmp_path / "data" / f"part-{i}.jsonl", part)
    (tmp_path / "data" / "bad.jsonl").write_bytes(bad_jsonl_bytes())
    (tmp_path / "words.txt").write_text("the\nand\nof\nto\n", encoding="utf-8")
    passages = [" ".join(d["text"].split()[10:40]) for d in (docs[2], docs[20], docs[41])]
    write_jsonl(tmp_path / "evals.jsonl", [{"text": p} for p in passages])  # for decontaminate


def make_recipe(tmp_path: Path, steps: str, out: str = "out") -> Path:
    return write_recipe(tmp_path / f"{out}.toml", f"""
[recipe]
name = "resume"
seed = 3
[[sources]]
name = "web"
paths = ["data/part-*.jsonl"]
[[sources]]
name = "other"
paths = ["data/bad.jsonl"]
[[steps]]
use = "length"
min_words = 30
{steps}
[output]
dir = "{out}"
max_shard_rows = 6
row_group_rows = 4
batch_rows = 5
""")


def killed_build(recipe: Path, fault: str, workers: int, tmp_path: Path) -> str:
    """Run the build in a forked child with ``CURATE_FAULT=fault``; returns how it ended: "SIGKILL"
    (the process itself was killed) or the one-line error it raised (a killed pool worker)."""
    report = tmp_path / "child_error.txt"
    report.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: build until the fault kills it
        code = 1
        try:
            os.environ["CURATE_FAULT"] = fault
            curate.build(load_recipe(recipe), workers=workers)
            code = 0
        except CurateError as exc:
            report.write_text(str(exc))
            code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return "SIGKILL"
    assert os.WEXITSTATUS(status) == 2, f"{fault}: the build was not interrupted (exit {os.WEXITSTATUS(status)})"
    return report.read_text()


def tree_bytes(root: Path) -> dict[str, str]:
    """sha256 of every shard, rejected and quarantine file, and of published artefacts."""
    files = [p for d in ("shards", "rejected", "quarantine") for p in sorted((root / d).glob("*.parquet"))]
    files += sorted(root.glob("tokenizer*")) + sorted(root.glob("contamination.json"))
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def stats_without_timings(root: Path) -> dict:
    stats = json.loads((root / "stats.json").read_text())
    for key in ("seconds", "input_mb_per_s", "fingerprint"):
        stats.pop(key)
    return stats


FAULTS = ["after_fragment:1", "mid_resolve:0", "mid_shard_write:2"]
CASES = [(step, 1) for step in GLOBAL_STEPS] + [(step, 2) for step in ("exact_dedup", "minhash_dedup",
                                                                       "train_tokenizer", "score_band")]


@pytest.mark.parametrize("step,workers", CASES)
def test_killed_at_each_point_and_resumed_equals_uninterrupted(tmp_path, step, workers):
    make_inputs(tmp_path)
    reference = curate.build(make_recipe(tmp_path, GLOBAL_STEPS[step], out="ref"))
    recipe = make_recipe(tmp_path, GLOBAL_STEPS[step])
    faults = FAULTS[:1] + ([PHASE_FAULTS[step]] if step in PHASE_FAULTS else []) + FAULTS[1:]
    for fault in faults:  # each run is killed at its point, then the next one resumes it
        ended = killed_build(recipe, fault, workers, tmp_path)
        in_worker = workers > 1 and not fault.startswith(("mid_resolve", "phase:"))
        if in_worker:
            assert "was killed by the kernel" in ended and "rerun" in ended, ended
        else:
            assert ended == "SIGKILL"
        assert not (tmp_path / "out" / "manifest.json").exists()
    resumed = curate.build(load_recipe(recipe), workers=workers)
    assert tree_bytes(resumed.root) == tree_bytes(reference.root)
    assert len(tree_bytes(reference.root)) > 4
    assert stats_without_timings(resumed.root) == stats_without_timings(reference.root)
    assert [dataclasses.asdict(s) for s in resumed.shards] == [dataclasses.asdict(s) for s in reference.shards]
    assert not (tmp_path / "out" / "work").exists()


def test_resume_after_an_input_was_deleted_is_refused(tmp_path):
    """Bug 0 of issue 11: the rerun used to exit 0 with the deleted file's documents in the shards."""
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, GLOBAL_STEPS["exact_dedup"])
    assert killed_build(recipe, "after_fragment:2", 1, tmp_path) == "SIGKILL"
    (tmp_path / "data" / "part-1.jsonl").unlink()
    with pytest.raises(OutputError) as err:
        curate.build(load_recipe(recipe))
    msg = str(err.value)
    assert "\n" not in msg and "unfinished build" in msg
    assert "input data/part-1.jsonl was removed" in msg and "--overwrite" in msg
    rebuilt = curate.build(load_recipe(recipe), overwrite=True)
    assert "data/part-1.jsonl" not in {i.path for i in rebuilt.inputs}
    assert set(curate.scan(rebuilt.root).collect()["input_file"]) == {
        "data/part-0.jsonl", "data/part-2.jsonl", "data/part-3.jsonl"}


def test_resume_after_an_input_changed_or_was_added_is_refused(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, GLOBAL_STEPS["exact_dedup"])
    assert killed_build(recipe, "after_fragment:1", 1, tmp_path) == "SIGKILL"
    changed = tmp_path / "data" / "part-0.jsonl"
    changed.write_text(changed.read_text() + json.dumps({"text": "one more document"}) + "\n")
    with pytest.raises(OutputError, match=r"input data/part-0.jsonl changed \(size \d+ -> \d+ bytes"):
        curate.build(load_recipe(recipe))
    (tmp_path / "data" / "part-0.jsonl").unlink()
    write_jsonl(tmp_path / "data" / "part-0.jsonl", read_sample(18))  # same bytes, new mtime
    os.utime(tmp_path / "data" / "part-0.jsonl", ns=(1, 1))
    with pytest.raises(OutputError, match="part-0.jsonl changed"):
        curate.build(load_recipe(recipe))


def test_complete_build_whose_inputs_changed_says_so(tmp_path):
    """A rerun of a complete build used to return the stale build silently."""
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, GLOBAL_STEPS["exact_dedup"])
    first = curate.build(load_recipe(recipe))
    assert curate.build(load_recipe(recipe)) == first  # unchanged: the complete build
    write_jsonl(tmp_path / "data" / "part-4.jsonl", read_sample(3))
    with pytest.raises(OutputError, match="holds a complete build of other inputs: input data/part-4.jsonl "
                                          "was added; use --overwrite"):
        curate.build(load_recipe(recipe))
    assert len(curate.build(load_recipe(recipe), overwrite=True).inputs) == NUM_FILES + 2


def test_done_markers_and_run_file_record_fragment_identity(tmp_path):
    make_inputs(tmp_path)
    recipe = make_recipe(tmp_path, GLOBAL_STEPS["exact_dedup"])
    assert killed_build(recipe, "after_fragment:1", 1, tmp_path) == "SIGKILL"
    path = tmp_path / "data" / "part-1.jsonl"
    marker = json.loads((tmp_path / "out" / "work" / "s0" / "00001.done.json").read_text())
    want = {"path": "data/part-1.jsonl", "size": path.stat().st_size, "mtime_ns": path.stat().st_mtime_ns,
            "row_groups": None, "byte_range": None}
    assert marker["fragment"] == want
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["inputs"][1] == want and len(run["inputs"]) == NUM_FILES + 1


def test_input_change_names_the_first_removed_added_or_changed_file(tmp_path):
    from curate.plan import Fragment, input_change

    def frag(i: int, name: str, size: int = 10, mtime_ns: int = 5, row_groups=None) -> Fragment:
        return Fragment(i, None, tmp_path / name, name, row_groups, 0, size, mtime_ns)

    now = [frag(0, "a.jsonl"), frag(1, "b.parquet", row_groups=(0, 2)), frag(2, "b.parquet", row_groups=(2, 4))]
    recorded = [f.identity() for f in now]
    assert input_change(recorded, now) is None
    assert input_change(recorded[1:], now) == "input a.jsonl was added"
    assert input_change(recorded + [frag(3, "c.jsonl").identity()], now) == "input c.jsonl was removed"
    assert input_change(recorded, [frag(0, "a.jsonl", size=11)] + now[1:]) == (
        "input a.jsonl changed (size 10 -> 11 bytes, mtime_ns 5 -> 5)")
    assert input_change(recorded, now[:1] + [frag(1, "b.parquet", row_groups=(0, 4))]) == (
        "input b.parquet is split into different fragments")
