"""The host of a URL, one rule for every step (``url_blocklist``, ``domain``, MeCo prefixes).

:func:`url_host`, vectorised over an Arrow string array with RE2 regexes (no per-row Python):

- surrounding whitespace is trimmed;
- a scheme ``xyz://`` (any scheme) or a scheme-relative ``//`` is removed; without ``//`` there is
  no scheme, so ``example.com:8080/x`` is host ``example.com``, port 8080;
- the authority ends at the first ``/``, ``?``, ``#`` or ``\\`` (browsers read ``\\`` as ``/``);
- userinfo is removed up to the *last* ``@`` (``user:p@ss@host`` -> ``host``), as WHATWG does;
- an IPv6 literal keeps its brackets (``http://[::1]:8080/`` -> ``[::1]``);
- the port is removed (:func:`url_port` returns it: ``8080``);
- trailing dots are removed (``example.com.`` names the same host as ``example.com``);
- lower-cased (hosts are case-insensitive; Unicode too), unless ``lowercase=False``;
- IDNs stay as written (``bücher.de`` Unicode, ``xn--bcher-kva.de`` punycode); :func:`ascii_hosts`
  converts Unicode labels to punycode (IDNA 2003, Python's codec) once per distinct host, for
  comparisons where both spellings must meet (the block list);
- percent-escapes are not decoded;
- null, empty or host-less URLs (``https:///path``) give null.

:func:`url_key` is the one URL normalisation for deduplication (``url_dedup``): two URLs with the
same key name the same page. Key = host (the rules above) without a leading ``www.``, ``:port``
unless the port is 80 or 443, then the path and query as written with the ``#fragment`` removed,
``\\`` read as ``/``, trailing slashes of the path removed and an empty ``?`` dropped. So the
scheme is ignored (``http`` = ``https``), as are host case, ``www.``, default ports, userinfo and
fragments; path and query stay case-sensitive, query parameters keep their order and
percent-escapes are not decoded (``/a%20b`` and ``/a b`` differ). Null where the host is null.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SCHEME_RE = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//"
HOST_RE = r"^(?P<host>\[[^\]]*\]|[^:\[\]]*)"
PORT_RE = r"^(?:\[[^\]]*\]|[^:\[\]]*):(?P<port>[0-9]+)$"


def _null_if_empty(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def authority(urls: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``host[:port]`` of each URL: scheme, userinfo, path, query and fragment removed."""
    s = pc.utf8_trim_whitespace(pc.cast(urls, pa.string()))
    s = pc.replace_substring_regex(s, SCHEME_RE, "")
    s = pc.replace_substring_regex(s, r"(?s)[/?#\\].*$", "")
    return pc.replace_substring_regex(s, r"^.*@", "")


def url_host(urls: pa.Array | pa.ChunkedArray, *, lowercase: bool = True) -> pa.Array:
    """The host of each URL by the rules of the module docstring; null when there is none."""
    host = pc.struct_field(pc.extract_regex(authority(urls), HOST_RE), [0])
    host = pc.utf8_rtrim(host, ".")
    return _null_if_empty(pc.utf8_lower(host) if lowercase else host)


def url_port(urls: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The port of each URL as written (digits), or null when it has none."""
    return pc.struct_field(pc.extract_regex(authority(urls), PORT_RE), [0])


def url_key(urls: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The normalised URL of each URL by the rules of the module docstring (null without a host):
    ``HTTPS://www.Example.com:443/a/?q=1#top`` -> ``example.com/a?q=1``."""
    s = pc.replace_substring_regex(pc.utf8_trim_whitespace(pc.cast(urls, pa.string())), SCHEME_RE, "")
    rest = pc.replace_substring_regex(s, r"^[^/?#\\]*", "")
    rest = pc.replace_substring(pc.replace_substring_regex(rest, r"#.*$", ""), "\\", "/")
    rest = pc.replace_substring_regex(pc.replace_substring_regex(rest, r"\?$", ""), r"/+(\?|$)", r"\1")
    host = pc.replace_substring_regex(url_host(urls), r"^www\.", "")
    port = url_port(urls)
    port = pc.if_else(pc.is_in(port, pa.array(["80", "443"])), pa.scalar(None, pa.string()), port)
    port = pc.fill_null(pc.binary_join_element_wise(":", port, ""), "")
    key = pc.binary_join_element_wise(host, port, rest, "")
    return pc.if_else(pc.is_null(host), pa.scalar(None, pa.string()), key)


def _to_ascii(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host  # not a valid IDN: compared as written


def ascii_hosts(hosts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Hosts with Unicode labels in punycode (``bücher.de`` -> ``xn--bcher-kva.de``), computed once
    per distinct host of the array; ASCII hosts and nulls are unchanged."""
    encoded = pc.dictionary_encode(hosts)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = encoded.dictionary
    if pc.all(pc.string_is_ascii(dictionary)).as_py() is not False:
        return hosts
    mapped = pa.array([_to_ascii(h) for h in dictionary.to_pylist()], pa.string())
    return mapped.take(encoded.indices)
