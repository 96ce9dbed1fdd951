"""One URL-host rule (curate/text/urls.py) for url_blocklist, domain and MeCo prefixes."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.errors import RecipeError
from curate.recipe import load_recipe
from curate.steps.domain import registered_domains
from curate.steps.url_blocklist import UrlBlocklist
from curate.text.urls import ascii_hosts, url_host, url_port
from curate.tokens.urls import url_domain
from tests.conftest import REPO, write_recipe

CASES = {  # url -> (host, port)
    "http://example.com./x": ("example.com", None),
    "HTTP://User:Pw@WWW.Example.COM.:8080/a": ("www.example.com", "8080"),
    "http://user:p@ss@host.example.org/": ("host.example.org", None),  # the last @ ends userinfo
    "example.com:8080/no/scheme": ("example.com", "8080"),
    "//cdn.example.net/lib.js": ("cdn.example.net", None),
    "ftp://files.example.com/pub": ("files.example.com", None),
    "https://example.com?utm=1": ("example.com", None),
    "https://example.com#top": ("example.com", None),
    "http://evil.example\\@good.example/": ("evil.example", None),
    "  https://padded.example.com/  ": ("padded.example.com", None),
    "http://[2001:DB8::1]:8443/x": ("[2001:db8::1]", "8443"),
    "http://[::1]/": ("[::1]", None),
    "http://192.168.0.1:8080/admin": ("192.168.0.1", "8080"),
    "https://Bücher.de/katalog": ("bücher.de", None),
    "http://xn--bcher-kva.de/": ("xn--bcher-kva.de", None),
    "https:///path-only": (None, None),
    "": (None, None),
    None: (None, None),
}


def test_url_host_and_port_rules():
    urls = pa.array(list(CASES), pa.string())
    assert url_host(urls).to_pylist() == [h for h, _ in CASES.values()]
    assert url_port(urls).to_pylist() == [p for _, p in CASES.values()]
    assert url_host(pa.array(["HTTP://WWW.Example.COM/"]), lowercase=False).to_pylist() == ["WWW.Example.COM"]


def test_ascii_hosts_converts_idns_once_per_distinct_host():
    hosts = pa.array(["bücher.de", "example.com", None, "bücher.de", "xn--bcher-kva.de"])
    assert ascii_hosts(hosts).to_pylist() == ["xn--bcher-kva.de", "example.com", None,
                                              "xn--bcher-kva.de", "xn--bcher-kva.de"]


@settings(deadline=None, derandomize=True, max_examples=200)
@given(st.sampled_from(["http://", "https://", "//", "", "FTP://"]),
       st.sampled_from(["", "user@", "u:p@"]),
       st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=4),
       st.sampled_from(["", ".", "."]), st.sampled_from(["", ":80", ":8080"]),
       st.sampled_from(["", "/", "/a/b?q=1#f", "?x", "#y"]), st.booleans())
def test_every_spelling_of_a_url_gives_the_same_host(scheme, userinfo, labels, dot, port, path, upper):
    host = ".".join(labels)
    written = host.upper() if upper else host
    url = f"{scheme}{userinfo}{written}{dot}{port}{path}"
    assert url_host(pa.array([url])).to_pylist() == [host]
    assert url_port(pa.array([url])).to_pylist() == [port[1:] or None]


def test_the_three_users_agree(tmp_path):
    """url_blocklist, domain and MeCo's url_domain read the same host from the same URL."""
    urls = pa.array(["http://Example.COM.:8080/x", "http://www.example.com./", "https://u@news.bbc.co.uk./"])
    assert url_domain(urls).to_pylist() == ["example.com:8080", "www.example.com", "news.bbc.co.uk"]
    assert registered_domains(urls).to_pylist() == ["example.com", "example.com", "bbc.co.uk"]
    block = tmp_path / "block.txt"
    block.write_text("EXAMPLE.com.\n")
    step = UrlBlocklist(path=block)
    batch = pa.RecordBatch.from_pydict({"url": urls})
    assert step.reject(batch).cast(pa.string()).to_pylist() == ["url_blocked", "url_blocked", None]


def test_blocklist_blocks_trailing_dot_idn_and_deep_subdomains(tmp_path):
    block = tmp_path / "block.txt"
    block.write_text("# list\nexample.com\nbücher.de\n")
    urls = ["http://example.com./x", "http://a.b.c.d.e.f.g.h.i.j.example.com/", "http://xn--bcher-kva.de/",
            "https://www.BÜCHER.de/", "http://example.com.evil.org/", "http://notexample.com/", None]
    batch = pa.RecordBatch.from_pydict({"url": pa.array(urls, pa.string())})
    got = UrlBlocklist(path=block).reject(batch).cast(pa.string()).to_pylist()
    assert got == ["url_blocked"] * 4 + [None, None, None]


def test_binary_blocklist_file_is_one_line(tmp_path):
    block = tmp_path / "block.bin"
    block.write_bytes(b"example.com\n\x89PNG\r\n\x1a\n\x00\x00\x00")
    path = write_recipe(tmp_path / "r.toml", f'[recipe]\nname = "t"\n[[sources]]\nname = "web"\n'
                        f'paths = ["{REPO / "tests/data/web_sample.jsonl.zst"}"]\n[[steps]]\n'
                        f'use = "url_blocklist"\npath = "{block}"\n[output]\ndir = "out"\n')
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert "is not a text file of domains (binary data at byte 12)" in str(err.value)
    assert str(err.value).startswith("steps[0] (url_blocklist)") and "\n" not in str(err.value)
