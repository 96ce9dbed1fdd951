"""UL2 mixture of denoisers (Tay et al. 2022) in decoder-only prefix-LM form, applied at train time.

Each training document is turned into one denoising example by a denoiser drawn from the mixture
(``weights`` over the families, then one of the family's span settings uniformly; METHODS.md 12
leaves the draw over the 7 configs unconfirmed, uniform is its simplest reading):

| family | span settings (mean span mu, corruption rate r)        | mode token |
|--------|---------------------------------------------------------|------------|
| R      | (3, 0.15), (8, 0.15)                                    | ``[R]``    |
| X      | (3, 0.5), (8, 0.5), (64, 0.15), (64, 0.5)               | ``[X]``    |
| S      | prefix LM: one suffix span, mean length r x L, r = 0.25 | ``[S]``    |

R and X: T5 span corruption (:func:`noise_mask`): ``round(r x L)`` noise tokens in
``max(1, round(noise / mu))`` spans; span and gap lengths are uniformly random compositions, the
document starts with a gap. The example is ``[mode] input targets EOS`` where ``input`` is the
document with span k replaced by sentinel k and ``targets`` is ``sentinel_k span_k`` for every span.
S: ``[mode] x[:L-n] x[L-n:]`` with the target length ``n`` uniform on ``1..2rL-1`` (mean r x L).

Prefix-LM form: ``[mode] input`` is the bidirectional input (``bidir``; every input position sees
every other, :func:`train.model.document_mask`), the rest are the targets: the only tokens with a
loss. Packed documents still never see each other. A document's trailing EOS moves to the end of
its targets. Mode and sentinel tokens are the tokenizer's special tokens (``mode_tokens``, and
``sentinel_format`` with i = 0, 1, ...): add them to ``train_tokenizer.special_tokens``. A document
that would need more spans than there are sentinels gets one span per sentinel (longer spans, the
same rate). In training, a document longer than a row is cut into chunks whose examples fit one row
each (:func:`denoise_document`: R and X chunks of ``seq_len - 2 - 2 x (number of sentinels)``
tokens, S chunks of ``seq_len - 2``), with a denoiser drawn per chunk; with ``packing = "whole"``
an example then never spans two rows.

UL2 rewrites a document's target tokens: in a conditioned phase its prefix and control tokens are
left out (UL2 is meant for plain pretraining documents, not chat documents with a ``loss_mask``).
The draw for a document is seeded by (run seed, global step, shard, row): the same run gives the
same examples, and a resumed run the same as an uninterrupted one. Validation stays plain next-token
loss; exports never carry UL2 (shards hold the documents; denoising happens only in ``curate train``).
"""

from __future__ import annotations

import dataclasses
import numpy as np

from curate.config import check_range, param
from curate.errors import CurateError

FAMILIES = ("r", "s", "x")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpanSetting:
    mean_span: float = param(doc="mean noise span length in tokens (mu)")
    rate: float = param(doc="share of the document's tokens that are noise (r)")

    def __post_init__(self) -> None:
        check_range("mean_span", self.mean_span, 1.0, 1e6)
        check_range("rate", self.rate, 0.0, 0.95)


def _spans(*pairs: tuple[float, float]) -> tuple[SpanSetting, ...]:
    return tuple(SpanSetting(mean_span=m, rate=r) for m, r in pairs)


@dataclasses.dataclass(frozen=True, kw_only=True)
class UL2Config:
    """``[train.ul2]`` (or ``[train.phases.X.ul2]``): the mixture of denoisers."""

    weights: dict[str, float] = param(default_factory=lambda: {"r": 1.0, "s": 1.0, "x": 1.0},
                                      doc="denoiser family -> weight (r, s, x; normalised)")
    r: tuple[SpanSetting, ...] = param(_spans((3, 0.15), (8, 0.15)), doc="R span settings")
    x: tuple[SpanSetting, ...] = param(_spans((3, 0.5), (8, 0.5), (64, 0.15), (64, 0.5)),
                                       doc="X span settings")
    s_rate: float = param(0.25, doc="S: mean target (suffix) share of the document")
    mode_tokens: dict[str, str] = param(default_factory=lambda: {"r": "[R]", "s": "[S]", "x": "[X]"},
                                        doc="family -> mode (paradigm) token, a special token")
    sentinel_format: str = param("<extra_id_{i}>", doc="sentinel token names, i = 0, 1, ...")

    def __post_init__(self) -> None:
        for name, w in self.weights.items():
            if name not in FAMILIES:
                raise ValueError(f"weights.{name}: not a denoiser; allowed: r, s, x")
            check_range(f"weights.{name}", w, 0.0)
        if sum(self.weights.values()) <= 0:
            raise ValueError("weights: all zero; give at least one denoiser a positive weight")
        for fam in ("r", "x"):
            if self.weights.get(fam, 0) > 0 and not getattr(self, fam):
                raise ValueError(f"{fam}: no span settings for a denoiser with weight > 0")
        check_range("s_rate", self.s_rate, 0.01, 0.5)
        missing = [f for f in FAMILIES if self.weights.get(f, 0) > 0 and f not in self.mode_tokens]
        if missing:
            raise ValueError(f"mode_tokens: no token for denoiser {missing[0]!r}")
        if "{i}" not in self.sentinel_format:
            raise ValueError(f"sentinel_format={self.sentinel_format!r} must contain '{{i}}'")


@dataclasses.dataclass(frozen=True)
class UL2Tokens:
    mode: dict[str, int]
    sentinels: tuple[int, ...]
    eos: int | None


def resolve_tokens(cfg: UL2Config, special_tokens: dict[str, int], eos_id: int | None) -> UL2Tokens:
    """Mode and sentinel ids from the build tokenizer's special tokens; fails naming what to add."""
    used = [f for f in FAMILIES if cfg.weights.get(f, 0) > 0]
    mode = {}
    for fam in used:
        name = cfg.mode_tokens[fam]
        if name not in special_tokens:
            raise CurateError(f"train.ul2: mode token {name!r} (denoiser {fam.upper()}) is not a special "
                              "token of the build's tokenizer; add it to the train_tokenizer step's "
                              "special_tokens, or set train.ul2.mode_tokens")
        mode[fam] = special_tokens[name]
    sentinels = []
    while (name := cfg.sentinel_format.format(i=len(sentinels))) in special_tokens:
        sentinels.append(special_tokens[name])
    if not sentinels and any(f in used for f in ("r", "x")):
        first = cfg.sentinel_format.format(i=0)
        raise CurateError(f"train.ul2: no sentinel token {first!r} in the build's tokenizer; add "
                          f"{first!r}, {cfg.sentinel_format.format(i=1)!r}, ... to the train_tokenizer "
                          "step's special_tokens, or set train.ul2.sentinel_format")
    return UL2Tokens(mode=mode, sentinels=tuple(sentinels), eos=eos_id)


def random_composition(rng: np.random.Generator, total: int, parts: int) -> np.ndarray:
    """``parts`` positive integers summing to ``total``, uniform over compositions (T5's
    ``_random_segmentation``)."""
    cuts = np.sort(rng.choice(np.arange(1, total), size=parts - 1, replace=False)) if parts > 1 else []
    return np.diff(np.concatenate([[0], cuts, [total]])).astype(np.int64)


def noise_mask(rng: np.random.Generator, length: int, mean_span: float, rate: float,
               max_spans: int | None = None) -> np.ndarray:
    """T5 span corruption mask (True = noise) over ``length`` tokens, starting with a gap."""
    num_noise = min(max(int(round(length * rate)), 1), length - 1)
    num_spans = max(1, int(round(num_noise / mean_span)))
    num_spans = min(num_spans, num_noise, length - num_noise, max_spans or num_spans)
    noise = random_composition(rng, num_noise, num_spans)
    gaps = random_composition(rng, length - num_noise, num_spans)
    lengths = np.stack([gaps, noise], axis=1).reshape(-1)
    return np.repeat(np.tile([False, True], num_spans), lengths)


def span_corrupt(tokens: np.ndarray, mask: np.ndarray, sentinels: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(input: tokens with span k replaced by sentinel k, targets: sentinel_k + span k, ...)."""
    starts = mask & ~np.concatenate([[False], mask[:-1]])
    span_id = np.cumsum(starts) - 1
    inputs = np.where(starts, sentinels[np.maximum(span_id, 0)], tokens)[~mask | starts]
    target_parts = np.empty(int(mask.sum() + starts.sum()), np.int64)
    order = np.flatnonzero(mask)
    # each span k: sentinel_k then its tokens; a sentinel goes before the first token of its span
    slots = np.arange(len(order)) + np.cumsum(starts[order])
    target_parts[slots] = tokens[order]
    target_parts[slots[starts[order]] - 1] = sentinels[span_id[order][starts[order]]]
    return inputs.astype(np.int64), target_parts


def layout(mode_id: int, inputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, target mask, bidir mask) of ``[mode] inputs targets``."""
    n_in = 1 + len(inputs)
    ids = np.concatenate([[mode_id], inputs, targets]).astype(np.int64)
    is_input = np.arange(len(ids)) < n_in
    return ids, ~is_input, is_input


def _draw_family(rng: np.random.Generator, cfg: UL2Config) -> str:
    families = [f for f in FAMILIES if cfg.weights.get(f, 0) > 0]
    w = np.array([cfg.weights[f] for f in families], np.float64)
    return families[int(rng.choice(len(families), p=w / w.sum()))]


def denoise(body: np.ndarray, eos: np.ndarray, family: str, rng: np.random.Generator, cfg: UL2Config,
            ids: UL2Tokens) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One denoising example (ids, target mask, bidir mask) of ``body`` by a ``family`` denoiser;
    ``eos`` (empty or the EOS token) ends the targets."""
    if family == "s" or len(body) < 2:
        hi = max(2, int(round(2 * cfg.s_rate * len(body))))
        n = min(int(rng.integers(1, hi)), max(len(body) - 1, 0))
        split = len(body) - n
        mode = ids.mode.get(family, next(iter(ids.mode.values())))
        return layout(mode, body[:split], np.concatenate([body[split:], eos]))
    settings = getattr(cfg, family)
    s = settings[int(rng.integers(len(settings)))]
    mask = noise_mask(rng, len(body), s.mean_span, s.rate, len(ids.sentinels))
    inputs, targets = span_corrupt(body, mask, np.asarray(ids.sentinels, np.int64))
    return layout(ids.mode[family], inputs, np.concatenate([targets, eos]))


def denoise_document(tokens: np.ndarray, rng: np.random.Generator, cfg: UL2Config, ids: UL2Tokens,
                     max_len: int | None = None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A document's denoising examples. Without ``max_len``, one. With ``max_len`` (the row
    length), the document is cut into consecutive chunks whose examples each fit one row, a
    denoiser drawn per chunk: R/X chunks of ``max_len - 2 - 2 x sentinels`` tokens, S chunks of
    ``max_len - 2``; the document's EOS ends the last chunk's targets."""
    tokens = np.asarray(tokens, np.int64)
    eos = tokens[-1:] if ids.eos is not None and len(tokens) and tokens[-1] == ids.eos else tokens[:0]
    body = tokens[:len(tokens) - len(eos)]
    out, start = [], 0
    while True:
        family = _draw_family(rng, cfg)
        size = len(body) if max_len is None else max(max_len - 2 - (0 if family == "s" else 2 * len(ids.sentinels)), 2)
        chunk = body[start:start + size]
        start += size
        last = start >= len(body)
        out.append(denoise(chunk, eos if last else eos[:0], family, rng, cfg, ids))
        if last:
            return out


def example_rng(seed: int, global_step: int, shard: int, row: int) -> np.random.Generator:
    return np.random.default_rng([seed, global_step, shard, row])
