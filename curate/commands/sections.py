"""The optional recipe sections the CLI knows: each declared by the package that reads it.

Commands pass these to ``load_recipe`` so that one recipe file (build sections plus ``[[phases]]``,
``[train]``, ``[classifier]``) parses for every command and ``curate explain`` checks all of it.
mixers and train are imported here, at call time, never by curate's core modules.
"""

from __future__ import annotations

from curate.recipe import Recipe, Section, load_recipe


def known_sections() -> tuple[Section, ...]:
    from curate.models.classifier import CLASSIFIER_SECTION
    from mixers.phases import PHASES_SECTION
    from train.config import TRAIN_SECTION

    return (PHASES_SECTION, CLASSIFIER_SECTION, TRAIN_SECTION)


def load_full_recipe(path, overrides=()) -> Recipe:
    """``load_recipe`` with every known section and the ``--set`` overrides."""
    return load_recipe(path, sections=known_sections(), overrides=overrides or ())


def add_set_argument(p) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a recipe value before parsing (repeatable): dotted KEY, TOML VALUE, "
                        "e.g. --set output.dir=/tmp/x --set steps.minhash_dedup.threshold=0.8")
