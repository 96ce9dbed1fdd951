"""Tiny builds for the inspection tests: six documents with an exact and a near duplicate."""

from __future__ import annotations

import random
from pathlib import Path

from curate.build import build
from curate.recipe import load_recipe
from tests.conftest import write_jsonl, write_recipe

WORDS = ("river stone light garden market winter paper engine window forest silver morning "
         "harbour letter bridge valley candle orchard meadow thunder lantern mirror").split()


def _lines(seed: int, n: int = 8, words: int = 9) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)) + "." for _ in range(n)]


def documents() -> list[dict]:
    base = _lines(1)
    near = base[:5] + ["a completely different line about nothing in particular here."] + base[6:]
    return [
        {"id": "a", "text": "\n".join(base), "url": "https://example.org/a"},
        {"id": "b", "text": "\n".join(near), "url": "https://example.org/b"},
        {"id": "c", "text": "\n".join(base), "url": "https://example.org/c"},
        {"id": "d", "text": "too short to keep", "url": "https://example.org/d"},
        {"id": "e", "text": "\n".join(_lines(2, n=3)), "url": "https://example.net/e"},
        {"id": "f", "text": "\n".join(_lines(3)), "url": "https://example.net/f"},
    ]


def tiny_build(root: Path, out: str = "out", *, min_words: int = 20, minhash: bool = True, rejected: str = "ids",
               extra_steps: tuple[str, ...] = ()):
    """Build the six documents into ``root/<out>`` (input ``root/in.jsonl``, recipe ``root/<out>.toml``);
    ``extra_steps`` are TOML ``[[steps]]`` tables. Returns the Manifest."""
    inp = root / "in.jsonl"
    if not inp.exists():
        write_jsonl(inp, documents())
    steps = [f'[[steps]]\nuse = "length"\nmin_words = {min_words}\n', '[[steps]]\nuse = "exact_dedup"\n']
    if minhash:
        steps.append('[[steps]]\nuse = "minhash_dedup"\nthreshold = 0.5\n')
    body = (f'[recipe]\nname = "tiny"\nseed = 0\n\n[[sources]]\nname = "web"\npaths = ["{inp.name}"]\n'
            '[sources.fields]\nid = "id"\nurl = "url"\n\n' + "\n".join(steps + list(extra_steps))
            + f'\n[output]\ndir = "{out}"\nrejected = "{rejected}"\n')
    recipe_path = write_recipe(root / f"{out}.toml", body)
    return build(load_recipe(recipe_path))
