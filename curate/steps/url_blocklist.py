"""URL block list: drop documents whose URL's host (or any parent domain of it) is listed.

The list file has one domain per line (``#`` comments and blank lines ignored), e.g. ``example.com``
blocks ``example.com``, ``www.example.com`` and ``a.b.example.com``. Matching is vectorised: the host
is extracted with a regex, then each of its parent-domain suffixes is looked up with ``is_in``.
Documents without a URL are kept (reason ``url_blocked`` only for a listed host).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.schema import URL

MAX_LABELS = 8


@lru_cache(maxsize=8)
def _load_domains(path: Path) -> pa.Array:
    lines = path.read_text(encoding="utf-8").splitlines()
    domains = {ln.strip().lower().rstrip(".") for ln in lines if ln.strip() and not ln.lstrip().startswith("#")}
    return pa.array(sorted(domains), pa.string())


def url_hosts(urls: pa.Array) -> pa.Array:
    """Lower-cased host of each URL (scheme, credentials, port and path removed); null if none."""
    hosts = pc.extract_regex(
        pc.utf8_lower(urls), r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#]*@)?(?P<host>[^:/?#]+)"
    )
    return pc.struct_field(hosts, "host")


@dataclasses.dataclass(frozen=True, kw_only=True)
class UrlBlocklist:
    """Drop documents whose URL host or one of its parent domains is in ``path`` (reason
    ``url_blocked``)."""

    name: ClassVar[str] = "url_blocklist"
    path: Path = param(doc="file with one blocked domain per line, relative to the recipe")

    def __post_init__(self) -> None:
        if not self.path.is_file():
            raise ValueError(f"path={str(self.path)!r}: file not found; give a file of domains, one per line")

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        blocked = _load_domains(self.path)
        host = url_hosts(batch.column(URL))
        hit = np.zeros(batch.num_rows, dtype=bool)
        suffix = host
        for _ in range(MAX_LABELS):
            hit |= pc.fill_null(pc.is_in(suffix, value_set=blocked), False).to_numpy(zero_copy_only=False)
            suffix = pc.replace_substring_regex(suffix, r"^[^.]*\.?", "")
            suffix = pc.if_else(pc.equal(suffix, ""), pa.scalar(None, pa.string()), suffix)
            if pc.all(pc.is_null(suffix)).as_py():
                break
        reasons = pa.array(np.where(hit, 0, -1).astype(np.int32), mask=~hit)
        return pa.DictionaryArray.from_arrays(reasons, pa.array(["url_blocked"]))
