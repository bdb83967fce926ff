"""The LRNet demo widget, driven headless."""

from __future__ import annotations

import io

import pytest
import torch
from PIL import Image

from maskstyle.widgets.lrnet import METHODS, LRNetDemo

SIZE = 40


@pytest.fixture(scope="module")
def demo():
    return LRNetDemo(size=SIZE, pair_seed=1)


def test_demo_shows_the_pair_every_method_and_the_ground_truth(demo):
    tiles = 2 + len(METHODS) + 1
    assert demo.panels.shape == (SIZE, tiles * SIZE + (tiles - 1) * 4, 3)
    assert Image.open(io.BytesIO(demo.image.value)).size == (demo.panels.shape[1], SIZE)
    assert set(demo.outputs) == set(METHODS) and all(s > 0 for s in demo.seconds.values())
    assert "random init" in demo.status.value and "face world" in demo.status.value
    assert "ground truth" in demo.status.value


def test_controls_rerun_the_blend(demo):
    full = demo.outputs["lrnet"].clone()
    demo.branches["reshuffle"].value = False
    assert "branches localin with" in demo.status.value
    assert not torch.equal(demo.outputs["lrnet"], full)
    demo.branches["reshuffle"].value = True
    torch.testing.assert_close(demo.outputs["lrnet"], full)
    with demo.hold():  # one blend for the seven clicks
        for name, box in demo.regions.items():
            box.value = name == "nose"
    assert demo.blend_regions == (2,) and "blended: nose;" in demo.status.value
    # at 40 px the nose is too thin for seamlessClone: its panel is grey and the status says why
    assert "poisson failed" in demo.status.value and "at least 3x3" in demo.status.value
    # alpha blending changes only near the nose now: far from it the output is B
    x_b = demo.inputs()["x_b"]
    assert torch.equal(demo.outputs["alpha"][..., :4, :], x_b[..., :4, :])
    demo.use_coords.value = False
    assert "without 3D coords" in demo.status.value
    demo.pair_seed.value = 2
    assert "seed 2" in demo.status.value


def test_nothing_ticked_is_explained_not_an_error(demo):
    with demo.hold():
        for box in demo.regions.values():
            box.value = False
    assert "tick at least one region" in demo.status.value
    with demo.hold():
        demo.regions["skin"].value = True
        for box in demo.branches.values():
            box.value = False
    assert "tick at least one LRNet branch" in demo.status.value


def test_bad_size():
    with pytest.raises(ValueError, match="above 32"):
        LRNetDemo(size=32)


def test_painted_map_of_a_changes_the_blend_region():
    demo = LRNetDemo(size=SIZE, pair_seed=3)
    fg_before = demo.model.foreground(demo.inputs()["regions_a"], demo.blend_regions).clone()
    alpha_before = demo.outputs["alpha"].clone()
    demo.painter.mode.value = "erase"  # skin under the brush becomes background
    demo.painter.label.value = 1
    demo.painter.brush.value = 6
    assert demo.painter.stroke([(SIZE / 2 - 8, SIZE / 2), (SIZE / 2 + 8, SIZE / 2)]) > 0
    fg_after = demo.model.foreground(demo.inputs()["regions_a"], demo.blend_regions)
    assert fg_after.sum() < fg_before.sum()
    assert not torch.equal(demo.outputs["alpha"], alpha_before)
    assert "pixels painted" in demo.status.value and demo.busy.value == ""
    demo.painter.reset()
    torch.testing.assert_close(demo.outputs["alpha"], alpha_before)
    demo.pair_seed.value = 4
    assert demo.painter.state.edited_pixels == 0
