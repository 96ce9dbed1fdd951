"""curate: streaming Arrow pipelines from raw text corpora to training-ready Parquet shards.

Public API: :func:`load_recipe`, :func:`build`, :func:`scan`, :class:`Manifest`.
"""

__version__ = "0.1.0"


def load_recipe(path, overrides=()):
    """Parse and check a recipe TOML file with every optional section curate's CLI knows
    (``[[phases]]``, ``[train]``, ``[classifier]``; see ``curate/recipe.py``)."""
    from curate.commands.sections import load_full_recipe

    return load_full_recipe(path, overrides)


from curate.startup import idle_blas_threads  # noqa: E402

idle_blas_threads()  # before curate.build imports numpy
from curate.build import build as _build_recipe  # noqa: E402  (binds the name over the submodule)


def build(recipe, **kwargs):
    """Run a recipe (a path or a loaded Recipe); returns the :class:`Manifest`."""
    from curate.recipe import Recipe

    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    return _build_recipe(recipe, **kwargs)


def scan(out_dir):
    """A Polars LazyFrame over the shards of a finished build, in manifest order. ``out_dir`` is
    a path or a URI (``s3://bucket/prefix``, read with the standard AWS_* environment)."""
    import polars as pl

    from curate.manifest import Manifest
    from curate.storage import polars_storage_options

    manifest = Manifest.load(out_dir)
    paths = [str(p) for p in manifest.shard_paths()]
    if not paths:
        return pl.LazyFrame(schema={c.name: pl.String for c in manifest.columns})
    return pl.scan_parquet(paths, storage_options=polars_storage_options(manifest.root))


def __getattr__(name):
    if name == "Manifest":
        from curate.manifest import Manifest

        return Manifest
    raise AttributeError(name)
