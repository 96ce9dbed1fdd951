"""Errors, classified by what the operator should do next (dolma's habit).

- ``RecipeError``: fix the recipe file (bad key, value, path). One line, names the key.
- ``InputError``: a bad input record; quarantined and counted, or fatal under ``--strict``.
- ``OutputError``: the output directory is not usable (not empty, fingerprint mismatch).
- ``FatalError``: abort the run (an invariant broke, e.g. counts do not add up).
- ``StorageError``: a storage location cannot be reached or used (endpoint, bucket, credentials).

The CLI prints ``CurateError`` subclasses as one line and exits non-zero, never a traceback.
"""


class CurateError(Exception):
    """Base class of every error the CLI reports as one line."""


class RecipeError(CurateError):
    """The recipe is wrong: the message names the key, the bad value and what is allowed."""


class InputError(CurateError):
    """A bad input record (raised only under --strict; otherwise quarantined)."""


class OutputError(CurateError):
    """The output directory cannot be used as asked."""


class FatalError(CurateError):
    """The run must stop: an invariant of the pipeline broke."""


class StorageError(CurateError):
    """A storage location (an ``s3://`` URI, a local path) cannot be reached or used as asked."""
