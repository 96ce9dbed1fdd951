"""card.html in headless Chromium (Debian's `chromium`): it renders (the screenshot is not blank),
every image loads, and opening it attempts no network request (helpers: tests/browser.py).
Skips when chromium is not installed (`.ci/run` installs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.cli import main
from tests.browser import assert_no_network_request, loaded_images, screenshot_ink, skip_without_chromium
from tests.conftest import REPO

pytestmark = skip_without_chromium()


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "quickstart"
    assert main(["build", str(REPO / "recipes" / "quickstart.toml"), "--set", f"output.dir={out}",
                 "--no-progress"]) == 0
    assert main(["card", str(out)]) == 0
    return out / "card.html"


def test_no_network_request(card, tmp_path):
    assert_no_network_request(card, tmp_path)


def test_every_image_loads(card, tmp_path):
    num_images, seen = loaded_images(card, tmp_path / "p")
    assert num_images >= 6
    assert seen == f"{num_images}/{num_images}"


def test_screenshot_is_not_blank(card, tmp_path):
    ink, colours = screenshot_ink(card, tmp_path)
    assert ink > 0.03 and colours > 20, (ink, colours)
