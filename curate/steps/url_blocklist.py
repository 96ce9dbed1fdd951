"""URL block list: drop documents whose URL's host (or any parent domain of it) is listed.

The list file is UTF-8 text, one domain per line (``#`` comments and blank lines ignored), e.g.
``example.com`` blocks ``example.com``, ``www.example.com`` and ``a.b.example.com``. Rule: the host
is ``curate.text.urls.url_host`` (scheme, userinfo and port removed, lower-cased, trailing dot
removed: ``http://Example.COM.:8080/x`` is ``example.com``), with IDNs compared in punycode
(listing ``bücher.de`` blocks ``xn--bcher-kva.de`` too); list lines are read by the same rule.
Matching is vectorised: each of the host's parent-domain suffixes (however deep) is looked up
with ``is_in``. Documents without a URL host are kept (reason ``url_blocked`` only for a listed
host). A binary or non-UTF-8 list file stops the recipe with one line.
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
from curate.text.urls import ascii_hosts, url_host

#: A DNS name has at most 127 labels (253 characters): every parent domain is looked up.
MAX_LABELS = 127


@lru_cache(maxsize=8)
def load_domains(path: Path) -> pa.Array:
    """The listed hosts, normalised as URL hosts are (``url_host`` then punycode); a file that is
    not UTF-8 text raises ``ValueError`` (one line)."""
    data = path.read_bytes()
    bad = data.find(b"\x00")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        bad = exc.start if bad < 0 else min(bad, exc.start)
    if bad >= 0:
        raise ValueError(f"path={str(path)!r} is not a text file of domains (binary data at byte "
                         f"{bad}); give a UTF-8 file with one domain per line")
    entries = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    hosts = ascii_hosts(url_host(pa.array(entries, pa.string())))
    return pc.unique(hosts.filter(pc.is_valid(hosts))).sort()


def blocked(hosts: pa.Array, domains: pa.Array) -> np.ndarray:
    """True where a host or any of its parent domains is listed."""
    hit = np.zeros(len(hosts), dtype=bool)
    suffix = hosts
    for _ in range(MAX_LABELS):
        hit |= pc.fill_null(pc.is_in(suffix, value_set=domains), False).to_numpy(zero_copy_only=False)
        suffix = pc.replace_substring_regex(suffix, r"^[^.]*\.?", "")
        suffix = pc.if_else(pc.equal(suffix, ""), pa.scalar(None, pa.string()), suffix)
        if pc.all(pc.is_null(suffix)).as_py():
            break
    return hit


@dataclasses.dataclass(frozen=True, kw_only=True)
class UrlBlocklist:
    """Drop documents whose URL host or one of its parent domains is in ``path`` (reason
    ``url_blocked``)."""

    name: ClassVar[str] = "url_blocklist"
    path: Path = param(doc="file with one blocked domain per line, relative to the recipe")

    def __post_init__(self) -> None:
        if not self.path.is_file():
            raise ValueError(f"path={str(self.path)!r}: file not found; give a file of domains, one per line")
        load_domains(self.path)  # a binary or non-UTF-8 file stops the recipe here, in one line

    def reject(self, batch: pa.RecordBatch) -> pa.Array:
        hosts = ascii_hosts(url_host(batch.column(URL)))
        hit = blocked(hosts, load_domains(self.path))
        reasons = pa.array(np.where(hit, 0, -1).astype(np.int32), mask=~hit)
        return pa.DictionaryArray.from_arrays(reasons, pa.array(["url_blocked"]))
