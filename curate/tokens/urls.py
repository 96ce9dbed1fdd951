"""URL -> metadata value for MeCo prefixes (Gao et al. 2025; METHODS.md section 1), vectorised.

MeCo's ``--use_short_url`` removes ``https?://`` and keeps the text before the first ``/``:
``https://en.wikipedia.org/wiki/Bill_Gates`` -> ``en.wikipedia.org``. :func:`url_domain` is the
URL's host by the project's one rule (``curate.text.urls.url_host``) with the port added back,
as MeCo's text-before-the-first-``/`` keeps it. For URLs MeCo's crawl (DCLM) never had:

- any scheme ``xyz://`` is removed (not only http/https); a scheme-relative ``//host`` too;
  no scheme (``example.com/a``) -> ``example.com``;
- the host also ends at ``?``, ``#`` and ``\\`` (``example.com?q=1`` -> ``example.com``);
- userinfo is removed (``user:pw@host`` -> ``host``): credentials never reach training text;
- a port is kept, as in MeCo (``example.com:8080``);
- a trailing dot is removed (``example.com.`` -> ``example.com``: the same host);
- IPv6 literals keep their brackets (``[::1]:8080``);
- IDNs are kept as written (``bücher.de`` stays Unicode, ``xn--bcher-kva.de`` stays punycode);
- lower-cased (hosts are case-insensitive), unless ``lowercase=False``;
- null, empty or host-less URLs give null: the caller substitutes its fallback (``unknown``, the
  value MeCo uses for URLs outside its kept set).

:func:`url_suffix` is the last dot-separated label of the host (``org``, never a port); hosts
without a dot or ending in a digit (IP addresses) give null. :func:`url_hash` replaces the domain by
a stable 16-hex-digit hash (MeCo's "hashed URL" ablation: same grouping, no meaning).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.text.hashing import hash_strings
from curate.text.urls import url_host, url_port


def _empty_to_null(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def full_url(urls: pa.Array) -> pa.Array:
    """The URL as written, whitespace-trimmed; empty -> null."""
    return _empty_to_null(pc.utf8_trim_whitespace(pa.array(urls).cast(pa.string())))


def url_domain(urls: pa.Array, *, lowercase: bool = True) -> pa.Array:
    """MeCo's short URL: ``url_host`` plus ``:port`` when the URL has one; null without a host."""
    host = url_host(urls, lowercase=lowercase)
    port = url_port(urls)
    with_port = pc.binary_join_element_wise(host, pa.scalar(":"), port, "")
    return pc.if_else(pc.is_null(port), host, with_port)


def url_suffix(urls: pa.Array, *, lowercase: bool = True) -> pa.Array:
    """The top-level label of the host (``org``); null without a dot or for IP addresses."""
    host = url_host(urls, lowercase=lowercase)
    has_tld = pc.match_substring_regex(host, r"\.[^.\d][^.]*$|\.[^.]*[^.\d]$")
    suffix = pc.replace_substring_regex(host, r"^.*\.", "")
    return pc.if_else(pc.fill_null(has_tld, False), suffix, pa.scalar(None, pa.string()))


def url_hash(urls: pa.Array, *, seed: int = 0, lowercase: bool = True) -> pa.Array:
    """A stable 16-hex-digit hash of the domain; null where the domain is null."""
    domain = url_domain(urls, lowercase=lowercase)
    hashes = hash_strings(domain, seed)
    hex_values = np.char.mod("%016x", hashes.astype(np.uint64)) if len(hashes) else np.zeros(0, "U16")
    return pa.array(hex_values.tolist(), pa.string(), mask=pc.is_null(domain).to_numpy(zero_copy_only=False))
