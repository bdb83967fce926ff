"""Face world overview figures: five PNGs under 1 MB, with their data named."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from maskstyle.data.labels import PALETTE
from maskstyle.data.synth.figures import colour_mask, save_overview_figures


def test_colour_mask_uses_the_palette():
    mask = torch.tensor([[0, 1], [13, 18]])
    rgb = colour_mask(mask)
    assert rgb.shape == (2, 2, 3)
    assert tuple(round(float(c) * 255) for c in rgb[1, 0]) == PALETTE[13]


@pytest.mark.slow  # about 6 s: 70 small renders and five matplotlib grids
def test_overview_figures_are_written(tmp_path):
    paths = save_overview_figures(tmp_path, seed=1, size=32)
    names = sorted(p.name for p in paths)
    assert names == ["blend_pairs.png", "counterfactuals.png", "faces.png", "lighting.png",
                     "painted.png"]  # fmt: skip
    for path in paths:
        assert path.stat().st_size < 1_000_000
        with Image.open(path) as im:
            assert im.format == "PNG" and min(im.size) > 200
