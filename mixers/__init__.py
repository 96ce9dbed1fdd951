"""mixers: phase-aware data mixtures over a curate build (see README "Mixing and phases").

Public API used by trainers: :class:`DocRef`, :func:`make_sampler`, :func:`holdout_refs`,
:class:`MixtureSampler`, and the recipe types :class:`PhaseSpec` / :class:`MixtureSpec`.
"""

from mixers.phases import MixtureSpec, PhaseSpec
from mixers.sampler import DocRef, MixtureSampler, holdout_refs, make_sampler

__all__ = ["DocRef", "MixtureSampler", "MixtureSpec", "PhaseSpec", "holdout_refs", "make_sampler"]
