"""mixers: phase-aware data mixtures over a curate build (see README "Mixing and phases").

Public API used by trainers: :class:`DocRef`, :func:`make_sampler`, :func:`holdout_refs`,
:class:`MixtureSampler`, the recipe types :class:`PhaseSpec` / :class:`MixtureSpec` and the
``[[phases]]`` recipe section :data:`PHASES_SECTION`.
"""

from mixers.phases import PHASES_SECTION, MixtureSpec, PhaseSpec

#: Loaded on first use (numba, polars): a recipe parse reads ``[[phases]]`` without them.
_SAMPLER_NAMES = ("DocRef", "MixtureSampler", "holdout_refs", "make_sampler")


def __getattr__(name: str):
    if name in _SAMPLER_NAMES:
        from mixers import sampler

        return getattr(sampler, name)
    raise AttributeError(f"module 'mixers' has no attribute {name!r}")


__all__ = ["PHASES_SECTION", "DocRef", "MixtureSampler", "MixtureSpec", "PhaseSpec", "holdout_refs", "make_sampler"]
