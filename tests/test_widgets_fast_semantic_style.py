"""The fast semantic style demo widget, driven headless."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.data.labels import LABELS
from maskstyle.widgets.fast_semantic_style import FastSemanticStyleDemo, load_upload


@pytest.fixture(scope="module")
def demo():
    return FastSemanticStyleDemo(size=32, iterations=20)


def test_demo_shows_content_style_and_result(demo):
    assert demo.panels.shape == (32, 3 * 32 + 2 * 4, 3)
    assert Image.open(io.BytesIO(demo.image.value)).size == (3 * 32 + 8, 32)
    assert "random init" in demo.status.value and "face world" in demo.status.value
    assert " s (encode" in demo.status.value


def test_controls_rerun_the_transfer(demo):
    demo.iterations.value = 0  # no iterations: the reconstruction is the content feature
    zero = demo.result.features["relu3_1"].clone()
    demo.iterations.value = 30
    moved = demo.result.features["relu3_1"].clone()
    assert not torch.equal(zero, moved)
    skin = LABELS.index("skin")
    demo.region_sources["skin"].value = "hair"
    assert demo.region_map == {skin: LABELS.index("hair")}
    assert "skin <- hair" in demo.status.value
    assert not torch.equal(demo.result.features["relu3_1"], moved)
    demo.region_sources["skin"].value = "skin"
    torch.testing.assert_close(demo.result.features["relu3_1"], moved)
    demo.method.value = "patch_swap"
    assert "patch_swap" in demo.status.value
    demo.method.value = "linear"
    demo.content_seed.value = 3
    assert "seed 3" in demo.status.value


def test_upload_without_a_face_is_a_clear_error():
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8)).save(buffer, format="PNG")
    from maskstyle.data.parse_face import NoFaceFoundError

    with pytest.raises(NoFaceFoundError):
        load_upload(buffer.getvalue(), 32)


def test_bad_size():
    with pytest.raises(ValueError, match="at least 32"):
        FastSemanticStyleDemo(size=8)
