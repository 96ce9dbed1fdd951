"""Toy instruction data for SFT and DMT (Dong et al. 2024, METHODS.md s.10), in the three chat shapes.

- ``math.jsonl`` (the *specialised* skill, ``messages`` shape): two-operand addition and
  subtraction, ``"What is 37 + 45?"`` -> ``"37 + 45 = 82"``; operands uniform on 0..99.
- ``general_sharegpt.jsonl`` (ShareGPT shape, ``conversations`` of ``human``/``gpt``): string tasks
  on a random lowercase word of 3-8 letters: reverse it, upper-case it, or count its letters; one
  record in four has a system turn first.
- ``general_alpaca.jsonl`` (Alpaca shape): sort 3-6 random letters (``input``), answer the sorted
  letters.

Every record is valid for ``curate/readers/chat.py``; the generator is seeded (numpy PCG64 of
``[seed, file index]``), so the same arguments write the same bytes.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import orjson

LETTERS = np.array(list(string.ascii_lowercase))


def _word(rng: np.random.Generator, lo: int = 3, hi: int = 8) -> str:
    return "".join(rng.choice(LETTERS, size=int(rng.integers(lo, hi + 1))))


def math_record(rng: np.random.Generator, i: int) -> dict:
    a, b = (int(x) for x in rng.integers(0, 100, 2))
    op = "+" if rng.random() < 0.5 else "-"
    value = a + b if op == "+" else a - b
    return {"id": f"math-{i}", "messages": [{"role": "user", "content": f"What is {a} {op} {b}?"},
                                            {"role": "assistant", "content": f"{a} {op} {b} = {value}"}]}


def sharegpt_record(rng: np.random.Generator, i: int) -> dict:
    word = _word(rng)
    task = int(rng.integers(3))
    question, answer = [(f"Reverse the word {word}.", word[::-1]),
                        (f"Write {word} in capitals.", word.upper()),
                        (f"How many letters are in {word}?", str(len(word)))][task]
    turns = [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]
    if rng.random() < 0.25:
        turns.insert(0, {"from": "system", "value": "You answer briefly."})
    return {"id": f"general-sg-{i}", "conversations": turns}


def alpaca_record(rng: np.random.Generator, i: int) -> dict:
    letters = rng.choice(LETTERS, size=int(rng.integers(3, 7)), replace=False)
    return {"id": f"general-al-{i}", "instruction": "Sort these letters alphabetically.",
            "input": " ".join(letters), "output": " ".join(sorted(letters))}


FILES = (("math.jsonl", math_record), ("general_sharegpt.jsonl", sharegpt_record),
         ("general_alpaca.jsonl", alpaca_record))


def write_sft_toy(out_dir: Path, num_records: int = 2000, seed: int = 0) -> list[Path]:
    """``math.jsonl``, ``general_sharegpt.jsonl``, ``general_alpaca.jsonl`` with ``num_records`` each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (name, make) in enumerate(FILES):
        rng = np.random.default_rng([seed, k])
        path = out_dir / name
        path.write_bytes(b"".join(orjson.dumps(make(rng, i)) + b"\n" for i in range(num_records)))
        paths.append(path)
    return paths
