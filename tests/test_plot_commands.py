"""`curate stats DIR --plot` and `curate mix plan RECIPE --plot`: the card's PNGs (funnel.png,
phases.png) in the shared style, written where asked, not blank, the same bytes on a rerun."""

from __future__ import annotations

import numpy as np
import pytest

from curate.cli import main


def png_pixels(path):
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("L"))


def test_stats_plot_writes_the_funnel(token_build, tmp_path, capsys):
    root = token_build.manifest.root
    assert main(["stats", str(root), "--plot", str(tmp_path / "a")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"plot: {tmp_path / 'a' / 'funnel.png'}"
    assert main(["stats", str(root), "--plot", str(tmp_path / "b")]) == 0
    first = (tmp_path / "a" / "funnel.png").read_bytes()
    assert first == (tmp_path / "b" / "funnel.png").read_bytes()
    pixels = png_pixels(tmp_path / "a" / "funnel.png")
    assert pixels.shape[1] == 1100 and pixels.std() > 10  # 11 inches at 100 dpi, something drawn


def test_mix_plan_plot_writes_phases_png_into_the_build_dir(token_build, capsys):
    pytest.importorskip("PIL")
    root = token_build.manifest.root
    (root / "phases.png").unlink(missing_ok=True)
    assert main(["mix", "plan", str(token_build.recipe), "--plot"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("phase pretrain: 4,096 tokens") and out[-1] == f"plot: {root / 'phases.png'}"
    pixels = png_pixels(root / "phases.png")
    assert pixels.shape == (350, 1100) and pixels.std() > 10
