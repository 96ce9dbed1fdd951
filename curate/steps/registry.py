"""The step registry: one literal dict from recipe name (``use = "..."``) to step class.

To add a step: write its frozen dataclass in its own module and add one line here.
"""

from __future__ import annotations

from typing import Any

from curate.config import from_table
from curate.errors import RecipeError
from curate.steps.c4 import C4
from curate.steps.exact_dedup import ExactDedup
from curate.steps.fineweb_quality import FineWebQuality
from curate.steps.gopher_quality import GopherQuality
from curate.steps.gopher_repetition import GopherRepetition
from curate.steps.lang_id import LangId
from curate.steps.length import Length
from curate.steps.url_blocklist import UrlBlocklist

STEPS: dict[str, type] = {
    "length": Length,
    "url_blocklist": UrlBlocklist,
    "exact_dedup": ExactDedup,
    "lang_id": LangId,
    "gopher_quality": GopherQuality,
    "gopher_repetition": GopherRepetition,
    "c4": C4,
    "fineweb_quality": FineWebQuality,
}


def make_step(table: dict[str, Any], where: str) -> Any:
    """Build the step named by ``table["use"]`` from the rest of the table."""
    table = dict(table)
    name = table.pop("use", None)
    if name is None:
        raise RecipeError(f"{where}: missing key 'use'; allowed steps: {', '.join(sorted(STEPS))}")
    if name not in STEPS:
        raise RecipeError(f"{where}.use: unknown step {name!r}; allowed: {', '.join(sorted(STEPS))}")
    return from_table(STEPS[name], table, f"{where} ({name})")
