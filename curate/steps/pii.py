"""PII redaction: e-mail addresses, IPv4 / IPv6 addresses, phone numbers and, optionally, credit-card
numbers (Luhn-checked) and IBANs (mod-97-checked) in ``text`` are replaced by placeholders.

Patterns, their order, the placeholders and every difference from datatrove's ``PIIFormatter`` are
in ``curate/pii/patterns.py``. Vectorised: each kind is one ``pyarrow.compute`` RE2 pass over the
batch (``count_substring_regex`` then ``replace_substring_regex``); checked kinds wrap candidates in
RE2 and validate them in one compiled pass (``curate/pii/checked.py``). No document is dropped.

Counts: the replacements of each kind go to stats.json as the step's ``counts`` (``email``,
``ipv4``, ...) through ``_count:<kind>`` columns, and ``documents`` counts the documents with at
least one replacement; ``curate stats`` prints them under the step.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.pii.checked import replace_checked
from curate.pii.patterns import CHECKED, ORDER, PATTERNS, PLACEHOLDERS
from curate.pipeline import COUNT_PREFIX
from curate.schema import TEXT
from curate.steps.step import with_columns

Kind = Literal["email", "ipv4", "ipv6", "phone", "credit_card", "iban"]


def _rewrite(placeholder: str) -> str:
    """A literal for an RE2 rewrite string (backslashes are escapes there)."""
    return placeholder.replace("\\", "\\\\")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pii:
    """Replace e-mails, IP addresses, phone numbers (and optionally Luhn-valid card numbers and
    mod-97-valid IBANs) by placeholders; counts per kind go to stats.json."""

    name: ClassVar[str] = "pii"
    kinds: tuple[Kind, ...] = param(("email", "ipv4", "ipv6", "phone"),
                                    doc="what to replace; also 'credit_card', 'iban'")
    placeholders: dict[str, str] = param(default_factory=dict,
                                         doc="kind -> replacement (defaults: RFC-reserved examples, see README)")

    def __post_init__(self) -> None:
        if not self.kinds:
            raise ValueError("kinds must name at least one of: " + ", ".join(ORDER))
        unknown = sorted(set(self.placeholders) - set(ORDER))
        if unknown:
            raise ValueError(f"placeholders: unknown kind {unknown[0]!r}; allowed: {', '.join(ORDER)}")

    def placeholder(self, kind: str) -> str:
        return self.placeholders.get(kind, PLACEHOLDERS[kind])

    def redact(self, text: pa.Array) -> tuple[pa.Array, dict[str, np.ndarray]]:
        """(``text`` with PII replaced, replacements per row of each enabled kind)."""
        counts: dict[str, np.ndarray] = {}
        for kind in ORDER:
            if kind not in self.kinds:
                continue
            if kind in CHECKED:
                text, counts[kind] = replace_checked(text, PATTERNS[kind], CHECKED[kind], self.placeholder(kind))
                continue
            found = pc.count_substring_regex(text, PATTERNS[kind]).to_numpy(zero_copy_only=False)
            if found.any():
                text = pc.replace_substring_regex(text, PATTERNS[kind], _rewrite(self.placeholder(kind)))
            counts[kind] = found.astype(np.int64)
        return text, counts

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text, counts = self.redact(batch.column(TEXT))
        any_pii = np.zeros(batch.num_rows, np.int64)
        columns = {TEXT: pc.cast(text, batch.schema.field(TEXT).type)}
        for kind, per_row in counts.items():
            columns[COUNT_PREFIX + kind] = pa.array(per_row, pa.int64())
            any_pii |= per_row > 0
        columns[COUNT_PREFIX + "documents"] = pa.array(any_pii, pa.int64())
        return with_columns(batch, columns)
