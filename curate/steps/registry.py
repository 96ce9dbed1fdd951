"""The step registry: one literal dict from recipe name (``use = "..."``) to step class.

To add a step: write its frozen dataclass in its own module and add one line here.
"""

from __future__ import annotations

from typing import Any

from curate.config import from_table
from curate.errors import RecipeError
from curate.steps.exact_dedup import ExactDedup
from curate.steps.lang_id import LangId
from curate.steps.length import Length
from curate.steps.minhash_dedup import MinHashDedup
from curate.steps.url_blocklist import UrlBlocklist

STEPS: dict[str, type] = {
    "length": Length,
    "url_blocklist": UrlBlocklist,
    "exact_dedup": ExactDedup,
    "minhash_dedup": MinHashDedup,
    "lang_id": LangId,
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
