"""Small instruction/response pairs (Alpaca shape) cut from the real web sample, with the defects
Instruction Mining's indicators should see: repetitive responses (low MTLD) and near-duplicate
pairs (KNN distance near 0). ``tests/data/instruction_pairs.jsonl.zst`` is ``write_pairs``' output
(``python -m tests.pair_fixtures`` rewrites it); recipes/instruction_mining.toml reads it."""

from __future__ import annotations

from pathlib import Path

import orjson
import zstandard

from tests.train_support import read_web

PAIRS = Path(__file__).parent / "data" / "instruction_pairs.jsonl.zst"


def make_pairs(num_pairs: int = 240) -> list[dict]:
    """Pair i: instruction = "Continue this passage:" + the first 12 words of web page i, response =
    the next 20-140 words; every 10th response is its first 6 words repeated (degenerate), every
    15th pair repeats the previous pair with one word changed (a near-duplicate)."""
    pairs = []
    for i, doc in enumerate(d for d in read_web() if len(d["text"].split()) >= 160):
        if len(pairs) == num_pairs:
            break
        words = doc["text"].split()
        length = 20 + (i * 37) % 121
        response = " ".join(words[12 : 12 + length])
        if i % 10 == 9:
            response = " ".join(words[12:18] * (length // 6))
        pair = {"id": f"pair-{i}", "instruction": "Continue this passage: " + " ".join(words[:12]),
                "input": "" if i % 3 else "Keep the same tone.", "output": response}
        if i % 15 == 14 and pairs:
            prev = pairs[-1]
            pair = {**prev, "id": f"pair-{i}", "output": prev["output"] + " indeed"}
        pairs.append(pair)
    return pairs


def write_pairs(path: Path = PAIRS, num_pairs: int = 240) -> Path:
    data = b"".join(orjson.dumps(p) + b"\n" for p in make_pairs(num_pairs))
    path.write_bytes(zstandard.ZstdCompressor(level=19).compress(data))
    return path


if __name__ == "__main__":
    print(write_pairs())
