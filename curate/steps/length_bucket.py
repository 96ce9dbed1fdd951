"""``length_bucket``: a ``length_bucket`` column from the token count, so a phase can mix by length.

Long-context data (Xiong et al., METHODS.md 9) upsamples long documents; here that is a mixer weight
on a length group: ``group_by = "length_bucket"`` in ``[[phases]]`` and a larger weight for the long
bucket. With ``boundaries = [a, b]`` the buckets are ``"0-(a-1)"``, ``"a-(b-1)"`` and ``"b+"``
(tokens per document, the ``num_tokens`` column, so the step runs after ``tokenize``).

```toml
[[steps]]
use = "length_bucket"
boundaries = [256]         # buckets "0-255" and "256+"
```
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa

from curate.config import check_range, param
from curate.errors import CurateError
from curate.steps.step import with_columns

COLUMN = "length_bucket"


def bucket_names(boundaries: tuple[int, ...]) -> list[str]:
    """``["0-(b0-1)", "b0-(b1-1)", ..., "bn+"]``."""
    lows = [0, *boundaries]
    return [f"{lo}-{hi - 1}" for lo, hi in zip(lows, boundaries)] + [f"{lows[-1]}+"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LengthBucket:
    """Adds ``length_bucket`` (string): the document's token-count bucket."""

    name: ClassVar[str] = "length_bucket"
    boundaries: tuple[int, ...] = param(doc="increasing token counts where a new bucket starts")

    def __post_init__(self) -> None:
        if not self.boundaries:
            raise ValueError("boundaries=[] is empty; give at least one token count, e.g. [1024]")
        for i, b in enumerate(self.boundaries):
            check_range(f"boundaries[{i}]", b, 1)
        if list(self.boundaries) != sorted(set(self.boundaries)):
            raise ValueError(f"boundaries={list(self.boundaries)} must be strictly increasing")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if "num_tokens" not in batch.schema.names:
            raise CurateError("step length_bucket: no num_tokens column; put it after the tokenize step")
        counts = batch.column("num_tokens").to_numpy(zero_copy_only=False)
        index = np.searchsorted(np.asarray(self.boundaries), counts, side="right")
        names = pa.array(bucket_names(self.boundaries), pa.string())
        return with_columns(batch, {COLUMN: names.take(pa.array(index, pa.int32()))})
