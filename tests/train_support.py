"""Test fixtures for train/: a tiny token build written per CONTRACTS.md, and a minimal stand-in for
the mixers API (make_sampler / holdout_refs / DocRef / PhaseSpec) used until mixers/ lands.

The build: real web documents (tests/data/web_sample.jsonl.zst), a byte-level BPE trained on them
(vocab 512), shards per source with ``tokens`` (uint16, EOS appended), ``num_tokens``,
``prefix_text``/``prefix_tokens`` (MeCo "URL: <domain>\\n\\n") and a ``skill`` column.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
import zstandard

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "tests" / "data" / "web_sample.jsonl.zst"


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


def write_token_build(root: Path, docs: list[dict], tokenizer, group_of=None, max_chars: int = 4000) -> Path:
    """A build dir (shards, manifest.json, tokenizer.json) from docs with text/url/source/skill."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "shards").mkdir(exist_ok=True)
    tokenizer.save(str(root / "tokenizer.json"))
    eos = tokenizer.token_to_id("<|endoftext|>")
    by_source: dict[str, list[dict]] = {}
    for d in docs:
        by_source.setdefault(d["source"], []).append(d)
    shards, sources = [], {}
    for k, (source, rows) in enumerate(sorted(by_source.items())):
        texts = [r["text"][:max_chars] for r in rows]
        tokens = [e.ids + [eos] for e in tokenizer.encode_batch(texts)]
        prefixes = [f"URL: {urlsplit(r['url']).netloc}\n\n" if r.get("url") else None for r in rows]
        prefix_tokens = [tokenizer.encode(p).ids if p else None for p in prefixes]
        table = pa.table({
            "id": [r["id"] for r in rows], "text": texts, "source": [source] * len(rows),
            "url": [r.get("url") for r in rows], "skill": [r.get("skill", source) for r in rows],
            "tokens": pa.array(tokens, pa.list_(pa.uint16())),
            "num_tokens": pa.array([len(t) for t in tokens], pa.int32()),
            "prefix_text": pa.array(prefixes, pa.string()),
            "prefix_tokens": pa.array(prefix_tokens, pa.list_(pa.uint16())),
        })
        path = f"shards/part-{k:05d}-0000.parquet"
        pq.write_table(table, root / path)
        ntok = int(sum(len(t) for t in tokens))
        shards.append({"path": path, "source": source, "num_docs": len(rows),
                       "num_bytes": (root / path).stat().st_size, "num_tokens": ntok})
        sources[source] = {"num_docs": len(rows), "num_tokens": ntok, "num_shards": 1}
    tok_bytes = (root / "tokenizer.json").read_bytes()
    manifest = {
        "format_version": 1, "tool": {"name": "curate", "version": "test"},
        "recipe": {"name": "test", "fingerprint": "0" * 64, "path": "", "seed": 0},
        "columns": [{"name": n, "type": str(t)} for n, t in zip(table.schema.names, table.schema.types)],
        "inputs": [], "shards": shards, "sources": sources,
        "tokenizer": {"path": "tokenizer.json", "sha256": hashlib.sha256(tok_bytes).hexdigest(),
                      "vocab_size": tokenizer.get_vocab_size(), "bos_id": None, "eos_id": eos,
                      "dtype": "uint16", "special_tokens": {"<|endoftext|>": eos}},
    }
    (root / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return root


# ---------------- stand-in for the mixers API (CONTRACTS.md) ----------------

@dataclasses.dataclass(frozen=True)
class DocRef:
    shard: int
    row: int
    group: str


@dataclasses.dataclass(frozen=True)
class PhaseSpec:
    name: str
    num_tokens: int
    conditioning: bool = False
    group_by: str = "source"
    weights: dict | None = None


def _held_out(doc_id: str, seed: int, frac: float) -> bool:
    return frac > 0 and xxhash.xxh64_intdigest(doc_id.encode(), seed=seed) / 2**64 < frac


def _docs(manifest, group_by: str):
    """(group, DocRef, id) of every document in build order."""
    for i, path in enumerate(manifest.shard_paths()):
        t = pq.read_table(path, columns=["id", group_by])
        for row, (doc_id, group) in enumerate(zip(t.column("id").to_pylist(), t.column(group_by).to_pylist())):
            yield group, DocRef(i, row, group), doc_id


def holdout_refs(manifest, group_by, seed, holdout_frac, max_per_group=None):
    out: dict[str, list[DocRef]] = {}
    for group, ref, doc_id in _docs(manifest, group_by):
        if _held_out(doc_id, seed, holdout_frac):
            refs = out.setdefault(group, [])
            if max_per_group is None or len(refs) < max_per_group:
                refs.append(ref)
    return out


class StandInSampler:
    """Weighted random groups, random documents (with repetition) from a counter-seeded RNG; stops
    after the phase's token budget. observe() records the losses and raises weights of groups with
    higher loss (a crude Skill-It stand-in) so that observe has an effect on the stream."""

    def __init__(self, manifest, phase, seed, holdout_frac=0.0):
        self.seed, self.budget = seed, phase.num_tokens
        self.by_group: dict[str, list[DocRef]] = {}
        for group, ref, doc_id in _docs(manifest, phase.group_by):
            if not _held_out(doc_id, seed, holdout_frac):
                self.by_group.setdefault(group, []).append(ref)
        self.groups = sorted(self.by_group)
        self.lengths = {i: pq.read_table(p, columns=["num_tokens"]).column(0).to_numpy()
                        for i, p in enumerate(manifest.shard_paths())}
        w = phase.weights or {g: 1.0 for g in self.groups}
        self.w = np.array([w.get(g, 0.0) for g in self.groups], float)
        self.drawn = 0
        self.tokens = 0

    def __iter__(self):
        return self

    def __next__(self) -> DocRef:
        if self.tokens >= self.budget:
            raise StopIteration
        rng = np.random.default_rng([self.seed, self.drawn])
        group = self.groups[rng.choice(len(self.groups), p=self.w / self.w.sum())]
        refs = self.by_group[group]
        ref = refs[rng.integers(len(refs))]
        self.drawn += 1
        self.tokens += int(self.lengths[ref.shard][ref.row])
        return ref

    def weights(self):
        return dict(zip(self.groups, (self.w / self.w.sum()).tolist()))

    def observe(self, losses):
        self.w = np.array([self.w[i] * np.exp(0.1 * losses.get(g, 0.0)) for i, g in enumerate(self.groups)])
        self.w /= self.w.sum()

    def state_dict(self):
        return {"drawn": self.drawn, "tokens": self.tokens, "w": self.w}

    def load_state_dict(self, state):
        self.drawn, self.tokens, self.w = state["drawn"], state["tokens"], np.asarray(state["w"], float)


def make_sampler(manifest, phase, seed, holdout_frac=0.0):
    return StandInSampler(manifest, phase, seed, holdout_frac)


def web_build(root: Path, limit: int = 306) -> Path:
    docs = read_web(limit)
    for d in docs:
        d["source"] = "cc" if d["source"] == "dolma/cc-main-2019-30" else "articles"
        d["skill"] = "com" if urlsplit(d["url"] or "").netloc.endswith(".com") else "other"
    tok = train_tokenizer([d["text"][:4000] for d in docs])
    return write_token_build(root, docs, tok)
