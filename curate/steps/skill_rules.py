"""``skill_rules``: the ``skill`` column from keyword / regex rules, first matching rule wins.

```toml
[[steps]]
use = "skill_rules"
default = "general"
rules = [
  { skill = "code", regex = "\\bdef |\\bclass |#include", field = "text" },
  { skill = "math", keywords = ["theorem", "lemma", "equation"] },
  { skill = "encyclopedic", regex = "wikipedia\\.org", field = "url" },
  { skill = "qa", regex = '"domain":\\s*"qa/', field = "meta" },   # pass-through fields are JSON
]
```

Keywords match whole words (``\\b(?:k1|k2)\\b``), case-insensitive by default. Regexes use RE2 syntax
(pyarrow's engine: no look-around or back-references). Matching is vectorised
(``pyarrow.compute.match_substring_regex``); ``max_chars`` bounds the text scanned per document.
"""

from __future__ import annotations

import dataclasses
import re
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import check_range, param
from curate.errors import CurateError
from curate.steps.step import with_columns


@dataclasses.dataclass(frozen=True, kw_only=True)
class SkillRule:
    skill: str = param(doc="skill given to documents that match")
    regex: str | None = param(None, doc="RE2 regular expression")
    keywords: tuple[str, ...] = param((), doc="whole-word keywords (any of them matches)")
    field: str = param("text", doc="string column the rule looks at: text, url, source, id, meta, ...")
    ignore_case: bool = param(True, doc="case-insensitive matching")

    def __post_init__(self) -> None:
        if (self.regex is None) == (not self.keywords):
            raise ValueError(f"rule for skill {self.skill!r}: give exactly one of regex or keywords")
        try:
            pc.match_substring_regex(pa.array([""]), self.pattern(), ignore_case=self.ignore_case)
        except pa.ArrowInvalid as exc:
            raise ValueError(f"rule for skill {self.skill!r}: invalid regex {self.regex!r}: {exc}") from None

    def pattern(self) -> str:
        if self.regex is not None:
            return self.regex
        return r"\b(?:" + "|".join(re.escape(k) for k in self.keywords) + r")\b"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SkillRules:
    """Adds ``skill`` from ordered keyword/regex rules (first match wins, else ``default``)."""

    name: ClassVar[str] = "skill_rules"
    rules: tuple[SkillRule, ...] = param(doc="rules in priority order: {skill, regex | keywords, field}")
    default: str = param("other", doc="skill of documents no rule matches")
    max_chars: int = param(20_000, doc="scan at most this many leading characters of each text")

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError("rules=[] is empty; give at least one rule")
        check_range("max_chars", self.max_chars, 1)

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        n = batch.num_rows
        codes = np.full(n, len(self.rules), dtype=np.int32)
        for code, rule in enumerate(self.rules):
            if rule.field not in batch.schema.names:
                raise CurateError(f"skill_rules: rule for {rule.skill!r} reads column {rule.field!r}, which the "
                                  f"documents lack; columns: {', '.join(batch.schema.names)}")
            col = batch.column(rule.field)
            if rule.field == "text":
                col = pc.utf8_slice_codeunits(col, 0, self.max_chars)
            hit = pc.fill_null(pc.match_substring_regex(col, rule.pattern(), ignore_case=rule.ignore_case), False)
            codes[(codes == len(self.rules)) & hit.to_numpy(zero_copy_only=False)] = code
        names = pa.array([r.skill for r in self.rules] + [self.default], pa.string())
        return with_columns(batch, {"skill": pc.take(names, pa.array(codes))})
