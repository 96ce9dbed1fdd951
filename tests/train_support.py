"""Test inputs for train/: a token build made by the real pipeline, and phases made by the real
recipe parser.

:func:`token_build` runs ``curate build`` (in process, through the CLI entry point) on
:data:`RECIPE`: the web and Wikipedia samples of tests/data as sources ``web`` and ``wiki``,
documents of 200-4000 characters, a ``skill`` column (``com`` for .com URLs, else ``other``), a
byte-level BPE of vocab 512 trained on them, MeCo URL-domain prefixes and the token columns. The
recipe's ``[[phases]]`` and ``[train]`` sections are the tiny run of the CLI resume test.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import zstandard

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
WEB = DATA / "web_sample.jsonl.zst"

RECIPE = """
[recipe]
name = "train-tests"
seed = 3

[[sources]]
name = "web"
paths = ["{data}/web_sample.jsonl.zst"]

[[sources]]
name = "wiki"
paths = ["{data}/reference_sample.jsonl.zst"]

[[steps]]
use = "length"
min_chars = 200
max_chars = 4000

[[steps]]
use = "skill_rules"
default = "other"
rules = [{{ skill = "com", regex = "\\\\.com/", field = "url" }}]

[[steps]]
use = "train_tokenizer"
vocab_size = 512
special_tokens = ["<|endoftext|>"]

[[steps]]
use = "prefix"
kind = "url_domain"

[[steps]]
use = "tokenize"

[output]
dir = "build"

[[phases]]
name = "pretrain"
num_tokens = 4_096
conditioning = true
[phases.mixture]
strategy = "temperature"

[[phases]]
name = "cooldown"
num_tokens = 1_024
group_by = "skill"
[phases.mixture]
strategy = "temperature"

[train]
hidden_size = 32
num_layers = 2
num_heads = 2
seq_len = 32
batch_rows = 4
lr = 3e-3
eval_every = 4
eval_docs_per_group = 4
holdout_frac = 0.05
log_every = 1
checkpoint_every = 2
num_threads = 1

[train.phases.pretrain]
schedule = "cosine"
warmup_frac = 0.1

[train.phases.cooldown]
schedule = "continue"
"""


@dataclasses.dataclass(frozen=True)
class TokenBuild:
    recipe: Path                # the recipe file (its [train] is the CLI test's run)
    manifest: object            # curate Manifest of the finished build


def token_build(root: Path) -> TokenBuild:
    """Build :data:`RECIPE` in ``root`` with ``curate build``."""
    from curate.cli import main
    from curate.manifest import Manifest

    root.mkdir(parents=True, exist_ok=True)
    recipe = root / "recipe.toml"
    recipe.write_text(RECIPE.format(data=DATA), encoding="utf-8")
    if main(["build", str(recipe), "--no-progress"]) != 0:
        raise RuntimeError(f"curate build {recipe} failed")
    return TokenBuild(recipe=recipe, manifest=Manifest.load(root / "build"))


def phase(name: str, num_tokens: int, **table):
    """A ``[[phases]]`` entry through the recipe parser; ``table`` holds its other keys."""
    from curate.config import from_table
    from mixers import PhaseSpec

    return from_table(PhaseSpec, {"name": name, "num_tokens": num_tokens, **table}, "phases[0]")


def read_web(limit: int | None = None) -> list[dict]:
    raw = zstandard.ZstdDecompressor().stream_reader(WEB.open("rb")).read()
    docs = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
    return docs[:limit]


def train_tokenizer(texts: list[str], vocab_size: int = 512):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return tok
