"""mixers: phase-aware data mixtures over a curate build (see README "Mixing and phases").

Public API used by trainers: :class:`DocRef`, :func:`make_sampler`, :func:`holdout_refs`,
:class:`MixtureSampler`, the recipe types :class:`PhaseSpec` / :class:`MixtureSpec` and the
``[[phases]]`` recipe section :data:`PHASES_SECTION`.
"""

from mixers.phases import PHASES_SECTION, MixtureSpec, PhaseSpec
from mixers.sampler import DocRef, MixtureSampler, holdout_refs, make_sampler

__all__ = ["PHASES_SECTION", "DocRef", "MixtureSampler", "MixtureSpec", "PhaseSpec", "holdout_refs", "make_sampler"]
