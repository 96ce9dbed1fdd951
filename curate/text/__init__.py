"""Vectorised text primitives shared by steps: normalisation and hashing of Arrow string arrays."""
