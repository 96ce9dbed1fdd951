"""The deterministic, resumable mixture sampler: a stream of :class:`DocRef` that follows a plan.

Which group next: weighted fair queuing on tokens. Within the current segment (budgets b_g, shares
r_g = b_g / sum b), the next document comes from the active group (not yet at its budget) whose
*virtual finish time* ``(delivered_g + tokens of its next document) / r_g`` is smallest (ties: the
first group in sorted order). This keeps every group's delivered tokens within one document of its
share of the tokens delivered so far, so realised token proportions match the targets to within
``max_doc_tokens / tokens_so_far`` (tests check ``2 * max_doc_tokens`` of lag at every step), and each
group ends its segment at its exact budget plus less than one document.

Which document: each group has a seeded permutation of its documents per epoch
(``mixers/order.py``: splitmix64 of (seed, sha256 of the group name, epoch), a new order every epoch)
and a cursor. No wall clock, no RNG library stream, no Python ``hash``: the same seed gives the same
stream on any machine and NumPy version.
The state (cursors, epochs, delivered tokens, remaining segments, Skill-It loss history) is plain
JSON-able data; ``load_state_dict`` then continuing equals never stopping.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from curate.errors import CurateError
from curate.manifest import Manifest
from mixers.budget import water_fill
from mixers.index import DocIndex, build_index
from mixers.order import epoch_order
from mixers.phases import PhaseSpec
from mixers.plan import PhasePlan, Segment, initial_skill_it, plan_phase
from mixers.static import static_weights

STATE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class DocRef:
    shard: int  # index into manifest.shards
    row: int  # row within that shard
    group: str  # the source or skill it was drawn for


def _group_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


class MixtureSampler:
    """Iterate to get DocRefs; StopIteration when every segment's budgets are met."""

    def __init__(self, index: DocIndex, plan: PhasePlan, seed: int):
        self.index, self.plan, self.seed = index, plan, seed
        self.groups: list[str] = list(index.groups)
        self._k = len(self.groups)
        self._docs = [index.docs[g] for g in self.groups]
        self._sizes = [len(d.row) for d in self._docs]
        self._keys = [_group_key(g) for g in self.groups]
        self._perm_cache: dict[int, tuple[int, np.ndarray]] = {}
        self._segments: list[Segment] = list(plan.segments)
        self._seg_delivered = [0] * self._k
        self._delivered = [0] * self._k
        self._epoch = [0] * self._k
        self._pos = [0] * self._k
        self._history: list[list[float]] = []
        self._last_weights = dict(plan.segments[0].weights) if plan.segments else {}
        self._start_segment()
        self._refresh_next()

    # ------------------------------------------------------------------ stream

    def __iter__(self):
        return self

    def __next__(self) -> DocRef:
        while self._segments:
            g = self._choose()
            if g >= 0:
                return self._take(g)
            self._segments.pop(0)
            self._seg_delivered = [0] * self._k
            self._start_segment()
        raise StopIteration

    def _start_segment(self) -> None:
        if not self._segments:
            self._share = [0.0] * self._k
            self._budget = [0] * self._k
            return
        seg = self._segments[0]
        self._last_weights = dict(seg.weights)
        self._budget = [seg.budgets.get(g, 0) for g in self.groups]
        total = max(sum(self._budget), 1)
        self._share = [b / total for b in self._budget]

    def _choose(self) -> int:
        best, best_t = -1, 0.0
        for g in range(self._k):
            if self._seg_delivered[g] >= self._budget[g] or not self._sizes[g]:
                continue
            t = (self._seg_delivered[g] + self._next_tok[g]) / self._share[g]
            if best < 0 or t < best_t:
                best, best_t = g, t
        return best

    def _perm(self, g: int) -> np.ndarray:
        """This epoch's document order of group ``g`` (8 bytes per document, one epoch per group cached)."""
        cached = self._perm_cache.get(g)
        if cached is None or cached[0] != self._epoch[g]:
            cached = (self._epoch[g], epoch_order(self._sizes[g], self.seed, self._keys[g], self._epoch[g]))
            self._perm_cache[g] = cached
        return cached[1]

    def _refresh_next(self, groups: range | tuple[int, ...] | None = None) -> None:
        """Cache each group's next document index and token count (what ``_choose`` compares)."""
        if groups is None:
            self._next_i = [0] * self._k
            self._next_tok = [0] * self._k
            groups = range(self._k)
        for g in groups:
            if self._sizes[g]:
                i = int(self._perm(g)[self._pos[g]])
                self._next_i[g] = i
                self._next_tok[g] = int(self._docs[g].num_tokens[i])

    def _take(self, g: int) -> DocRef:
        i, n = self._next_i[g], self._next_tok[g]
        self._seg_delivered[g] += n
        self._delivered[g] += n
        self._pos[g] += 1
        if self._pos[g] == self._sizes[g]:
            self._pos[g] = 0
            self._epoch[g] += 1
        self._refresh_next((g,))
        d = self._docs[g]
        return DocRef(int(d.shard[i]), int(d.row[i]), self.groups[g])

    # ------------------------------------------------------------------ mixture

    def weights(self) -> dict[str, float]:
        """The current target mixture (token weights) over every group."""
        return {g: float(self._last_weights.get(g, 0.0)) for g in self.groups}

    def delivered_tokens(self) -> dict[str, int]:
        return dict(zip(self.groups, self._delivered))

    def observe(self, losses: Mapping[str, float]) -> None:
        """Per-group validation losses at the end of a round. Skill-It: the mixture of the rest of the
        phase becomes p_{t+1} (METHODS.md s.2); other strategies ignore it."""
        mix = self.plan.phase.mixture
        if mix.strategy != "skill_it":
            return
        graph = self.plan.graph
        missing = [s for s in graph.eval_skills if s not in losses]
        if missing:
            raise CurateError(f"observe: no loss for evaluation skill {missing[0]!r}")
        self._history.append([float(losses[s]) for s in graph.eval_skills])
        self._replan_skill_it()

    def _replan_skill_it(self) -> None:
        mix = self.plan.phase.mixture
        prior = static_weights(mix.weights, self.groups) if mix.weights else None
        weights = initial_skill_it(self.plan.graph, self.groups, mix, prior, self._history)
        self._last_weights = weights
        remaining = self.plan.phase.num_tokens - sum(self._delivered)
        if remaining <= 0:
            self._segments = []
            return
        room = {g: max(self.plan.caps[g] - d, 0) for g, d in zip(self.groups, self._delivered)}
        live = {g: w for g, w in weights.items() if room[g] > 0 and w > 0}
        if not live:
            self._segments = []
            return
        if sum(room[g] for g in live) >= remaining:
            budgets = water_fill(live, room, remaining)
        else:  # caps bind: take what the caps allow and end the phase early
            budgets = {g: room[g] for g in live}
        budgets = {g: budgets.get(g, 0) for g in self.groups}
        self._segments = [Segment(sum(budgets.values()), weights, budgets)]
        self._seg_delivered = [0] * self._k
        self._start_segment()

    # ------------------------------------------------------------------ resume

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION, "phase": self.plan.phase.name, "seed": self.seed,
            "groups": list(self.groups), "num_docs": list(self._sizes),
            "segments": [dataclasses.asdict(s) for s in self._segments],
            "seg_delivered": list(self._seg_delivered), "delivered": list(self._delivered),
            "epoch": list(self._epoch), "pos": list(self._pos),
            "history": [list(h) for h in self._history], "last_weights": dict(self._last_weights),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise CurateError(f"sampler state version {state.get('version')!r} is not {STATE_VERSION}")
        mine = (self.plan.phase.name, self.seed, list(self.groups), list(self._sizes))
        theirs = (state["phase"], state["seed"], state["groups"], state["num_docs"])
        if mine != theirs:
            raise CurateError("sampler state belongs to another phase, seed or build "
                              f"(phase/seed/groups/docs {theirs[:3]} vs {mine[:3]})")
        self._segments = [Segment(**s) for s in state["segments"]]
        self._start_segment()
        self._seg_delivered = list(state["seg_delivered"])
        self._delivered = list(state["delivered"])
        self._epoch, self._pos = list(state["epoch"]), list(state["pos"])
        self._refresh_next()
        self._history = [list(h) for h in state["history"]]
        self._last_weights = dict(state["last_weights"])


def make_sampler(manifest: Manifest, phase: PhaseSpec, seed: int, holdout_frac: float = 0.0,
                 holdout_seed: int | None = None) -> MixtureSampler:
    """The sampler of ``phase`` over the build of ``manifest``, excluding the holdout documents.
    ``seed`` orders the documents; the holdout is chosen with ``holdout_seed`` (default ``seed``),
    so streams in other orders (soup branches) can leave out the same validation documents."""
    index = build_index(manifest, phase.group_by, seed if holdout_seed is None else holdout_seed, holdout_frac)
    return MixtureSampler(index, plan_phase(phase, index.tokens()), seed)


def holdout_refs(manifest: Manifest, group_by: str, seed: int, holdout_frac: float,
                 max_per_group: int | None = None) -> dict[str, list[DocRef]]:
    """The validation documents per group, in manifest order; never yielded by a sampler made with
    the same seed and holdout_frac. With ``max_per_group``, a seeded subset spread over the whole
    group (not its first shards), the same for every call."""
    index = build_index(manifest, group_by, seed, holdout_frac, holdout=True)
    out = {}
    for g in index.groups:
        d = index.docs[g]
        keep = np.arange(len(d.row))
        if max_per_group is not None and max_per_group < len(keep):
            keep = np.sort(epoch_order(len(keep), seed, _group_key(g), -1)[:max_per_group])
        out[g] = [DocRef(int(s), int(r), g) for s, r in zip(d.shard[keep], d.row[keep])]
    return out


__all__ = ["DocRef", "MixtureSampler", "make_sampler", "holdout_refs"]
