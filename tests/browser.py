"""Headless Chromium (Debian's `chromium`) for tests of offline HTML pages (card.html,
report.html): a recording proxy that sees every network request, the page's images counted after
load, and a screenshot's ink.

Network: Chromium runs with every request sent through a proxy that is a local socket recording
the host of each request it receives. Chromium itself still calls its own update and account
services (``BROWSER_HOSTS``, seen the same on a blank page), which are left out. Images: a copy of
the page beside it gets a small inline script (its CSP extended by ``script-src 'unsafe-inline'``
only, the image policy unchanged) that writes the number of images and of loaded images into the
DOM, which ``--dump-dom`` prints."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
QUIET = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
         "--disable-domain-reliability", "--metrics-recording-only", "--virtual-time-budget=5000",
         "--disable-client-side-phishing-detection", "--safebrowsing-disable-auto-update",
         "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter"]
# Chromium's own background calls (component updater, account check), made for any page
BROWSER_HOSTS = frozenset({"update.googleapis.com", "accounts.google.com", "clients2.google.com"})
PROBE = """<script>
addEventListener("load", () => {
  const all = Array.from(document.images);
  const ok = all.filter(i => i.complete && i.naturalWidth > 0);
  document.body.setAttribute("data-images", all.length + "/" + ok.length);
});
</script>"""


def request_host(line: bytes) -> str:
    """Host of a proxy request line: ``CONNECT host:443 ...`` or ``GET http://host/path ...``."""
    target = line.split(b" ")[1].decode("ascii", "replace") if b" " in line else "?"
    return re.sub(r"^[a-z]+://", "", target).split("/")[0].rsplit(":", 1)[0]


class RecordingProxy:
    """A TCP listener on 127.0.0.1 that reads each connection's request line, records its host
    and closes the connection (so every request fails)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hosts: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                self.hosts.append(request_host(conn.recv(4096).split(b"\r\n")[0]))
            except OSError:
                self.hosts.append("?")
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


def chromium(page: Path, profile: Path, *args: str, proxy: RecordingProxy | None = None) -> str:
    cmd = [CHROMIUM, *QUIET, f"--user-data-dir={profile}", *args]
    if proxy is not None:
        cmd += [f"--proxy-server=http://127.0.0.1:{proxy.port}", "--proxy-bypass-list=<-loopback>"]
    proc = subprocess.run(cmd + [page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def skip_without_chromium():
    return pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")


def assert_no_network_request(page: Path, tmp_path: Path) -> None:
    """A control page with one remote image is seen by the proxy; ``page`` (dumped and
    screenshotted) requests nothing but Chromium's own background hosts."""
    control = page.parent / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://example.com/x.png"></body></html>')
    proxy = RecordingProxy()
    try:
        chromium(control, tmp_path / "p0", "--dump-dom", proxy=proxy)
        assert "example.com" in proxy.hosts  # the check sees a request when there is one
        proxy.hosts.clear()
        chromium(page, tmp_path / "p1", "--dump-dom", proxy=proxy)
        chromium(page, tmp_path / "p2", f"--screenshot={tmp_path / 's.png'}", "--window-size=1200,4000",
                 proxy=proxy)
        assert set(proxy.hosts) <= BROWSER_HOSTS, proxy.hosts
    finally:
        proxy.close()
        control.unlink()


def loaded_images(page: Path, profile: Path) -> tuple[int, str]:
    """(number of <img> tags in the page, the "total/loaded" count the browser reports)."""
    html = page.read_text(encoding="utf-8")
    probe = page.parent / "probe.html"
    probe.write_text(html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
                     .replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        dom = chromium(probe, profile, "--dump-dom")
    finally:
        probe.unlink()
    found = re.search(r'data-images="([0-9]+/[0-9]+)"', dom)
    return len(re.findall(r"<img ", html)), found.group(1) if found else "?"


def screenshot_ink(page: Path, tmp_path: Path, width: int = 1200, height: int = 1600) -> tuple[float, int]:
    """(share of pixels that are not near-white, number of distinct colours at 16 levels) of a
    screenshot of ``page``; asserts the screenshot has the window's size."""
    from PIL import Image

    shot = tmp_path / "shot.png"
    chromium(page, tmp_path / "p", f"--screenshot={shot}", f"--window-size={width},{height}")
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    assert pixels.shape[:2] == (height, width)
    ink = (np.abs(pixels - 255).sum(axis=2) > 60).mean()
    return float(ink), len(np.unique(pixels.reshape(-1, 3) // 16, axis=0))
