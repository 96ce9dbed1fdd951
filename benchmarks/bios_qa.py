"""Physics of LMs 3.1 at small scale: QA accuracy on held-out people, bioS with vs without
knowledge augmentation (recipes/bios.toml vs recipes/bios_augment.toml), in one run.

    python benchmarks/bios_qa.py [--people 20] [--pretrain-steps 150] [--qa-steps 40] [--out out/bios-qa]

Steps: ``curate bios`` (P people, 6 attributes each); for each recipe: ``curate build`` and
``curate train`` (pretrain on every biography, then QA fine-tune on the first half of the people,
same token budgets for both arms; a run whose ``final/`` exists is reused); then greedy decoding of the answer to every question of the
*other* half (``qa_test.jsonl``; the question as the prompt, exactly as it was the masked prefix in
training) and of the training half; exact match of the stripped answer. Chance level: the most
frequent answer of each attribute.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's curate

from curate.cli import main as curate
from curate.rephrase.local import LocalBackend
from curate.rephrase.params import GenParams


def read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def accuracy(model_dir: Path, qa: list[dict]) -> float:
    gens = LocalBackend(model_dir, batch_size=32).generate([q["question"] for q in qa], [0] * len(qa),
                                                           GenParams(max_new_tokens=16))
    return sum((g.text or "").strip() == q["text"].strip() for g, q in zip(gens, qa)) / len(qa)


def chance(qa_train: list[dict], qa_test: list[dict]) -> float:
    """Accuracy of always answering each attribute's most frequent training answer."""
    top = {a: collections.Counter(q["text"] for q in qa_train if q["attribute"] == a).most_common(1)[0][0]
           for a in {q["attribute"] for q in qa_train}}
    return sum(top[q["attribute"]] == q["text"] for q in qa_test) / len(qa_test)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=20)
    ap.add_argument("--pretrain-steps", type=int, default=150)
    ap.add_argument("--qa-steps", type=int, default=40)
    ap.add_argument("--hidden-size", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=REPO / "out" / "bios-qa")
    args = ap.parse_args()
    data = args.out / "data"
    assert curate(["bios", str(data), "--people", str(args.people)]) == 0
    qa_train, qa_test = read(data / "qa_train.jsonl"), read(data / "qa_test.jsonl")
    tokens_per_step = 128 * 8
    rows = []
    for recipe in ("bios.toml", "bios_augment.toml"):
        name = recipe.removesuffix(".toml")
        sets = [f"sources.bios.paths=[{str(data / 'bios.jsonl')!r}]",
                f"sources.qa.paths=[{str(data / 'qa_train.jsonl')!r}]", f"output.dir={args.out / name}",
                f"phases.pretrain.num_tokens={args.pretrain_steps * tokens_per_step}",
                f"phases.qa.num_tokens={args.qa_steps * tokens_per_step}",
                f"train.hidden_size={args.hidden_size}", f"train.num_layers={args.layers}", "train.num_threads=2"]
        flags = [a for s in sets for a in ("--set", s)]
        final = args.out / f"{name}-train" / "final"
        t0 = time.perf_counter()
        if not (final / "config.json").is_file():  # a finished run of an earlier invocation is reused
            assert curate(["build", str(REPO / "recipes" / recipe), "--no-progress", *flags]) == 0
            assert curate(["train", str(REPO / "recipes" / recipe), "--out", str(final.parent), *flags]) == 0
        seconds = time.perf_counter() - t0
        rows.append((name, accuracy(final, qa_test), accuracy(final, qa_train), seconds))
    print(f"people {args.people} (QA train {len(qa_train) // 6}, test {len(qa_test) // 6})  pretrain "
          f"{args.pretrain_steps} steps + QA {args.qa_steps} steps of {tokens_per_step} tokens  "
          f"chance {chance(qa_train, qa_test):.1%}")
    print(f"{'recipe':14s} {'QA test (held-out people)':>26s} {'QA train people':>16s} {'train s':>8s}")
    for name, test, train, seconds in rows:
        print(f"{name:14s} {test:26.1%} {train:16.1%} {seconds:8.0f}")


if __name__ == "__main__":
    main()
