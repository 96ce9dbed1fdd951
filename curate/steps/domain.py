"""Registered domain of each document's URL (``news.bbc.co.uk`` -> ``bbc.co.uk``), offline.

The public suffix list is tldextract's bundled snapshot (``suffix_list_urls=()``: never fetched, no
cache written). The host is ``curate.text.urls.url_host`` (vectorised: scheme, userinfo and port
removed, lower-cased, trailing dot removed, IDNs as written); tldextract then runs once per
*distinct* host of the batch, not per row. IPv4/IPv6 hosts are their own domain; hosts without a
registered domain under a public suffix (``localhost``, ``intranet``, a bare suffix) and documents
without a URL get null. With ``private_suffixes = true`` private PSL entries count as suffixes
(``foo.blogspot.com`` stays ``foo.blogspot.com`` instead of ``blogspot.com``).

The column feeds ``domain_balance`` (caps, down/up-sampling, per-domain statistics), a MeCo-style
URL prefix, or any later grouping.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from curate.config import param
from curate.schema import URL
from curate.steps.step import with_columns
from curate.text.urls import url_host




@lru_cache(maxsize=2)
def _extractor(private_suffixes: bool):
    import tldextract

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True,
                                 include_psl_private_domains=private_suffixes)


def registered_domain(host: str, private_suffixes: bool = False) -> str | None:
    """Registered domain of one host (``a.b.example.co.uk`` -> ``example.co.uk``), the host itself
    for an IP address, else None."""
    result = _extractor(private_suffixes)(host)
    if result.ipv4 or result.ipv6:
        return host
    return result.top_domain_under_public_suffix or None


def registered_domains(urls: pa.Array, private_suffixes: bool = False) -> pa.Array:
    """Registered domain of each URL: tldextract once per distinct host."""
    encoded = pc.dictionary_encode(url_host(urls))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    uniques = encoded.dictionary.to_pylist()
    domains = pa.array([registered_domain(h, private_suffixes) for h in uniques], pa.string())
    return domains.take(encoded.indices)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Domain:
    """Add the registered domain of the URL (public suffix list bundled with tldextract, offline)."""

    name: ClassVar[str] = "domain"
    column: str = param("domain", doc="name of the column to write")
    private_suffixes: bool = param(False, doc="private PSL suffixes (blogspot.com, github.io) count")

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        domains = registered_domains(batch.column(URL), self.private_suffixes)
        return with_columns(batch, {self.column: domains})
