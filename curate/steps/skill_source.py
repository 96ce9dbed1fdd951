"""``skill_from_source``: the ``skill`` column from the source name, optionally through a mapping
(e.g. RedPajama's skills are its 7 sources, METHODS.md s.2)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.schema import SOURCE
from curate.steps.step import with_columns


@dataclasses.dataclass(frozen=True, kw_only=True)
class SkillFromSource:
    """Adds ``skill``: ``mapping[source]``, else ``default``, else the source name itself."""

    name: ClassVar[str] = "skill_from_source"
    mapping: dict[str, str] = param(default_factory=dict, doc="source name -> skill name")
    default: str | None = param(None, doc="skill of unmapped sources; default: the source name")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        source = batch.column(SOURCE).cast(pa.string())
        keys = pa.array(list(self.mapping), pa.string())
        skill = pc.take(pa.array(list(self.mapping.values()), pa.string()), pc.index_in(source, value_set=keys))
        skill = pc.coalesce(skill, pa.scalar(self.default, pa.string()) if self.default is not None else source)
        return with_columns(batch, {"skill": skill})
