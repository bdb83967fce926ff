"""The fast semantic style demo widget, driven headless."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.data.labels import LABELS
from maskstyle.utils.palette import colorize_mask
from maskstyle.widgets.fast_semantic_style import FastSemanticStyleDemo, load_upload


@pytest.fixture(scope="module")
def demo():
    return FastSemanticStyleDemo(size=32, iterations=20)


def test_demo_shows_content_style_and_result(demo):
    assert demo.panels.shape == (32, 4 * 32 + 3 * 4, 3)  # content | its map | style | result
    assert Image.open(io.BytesIO(demo.image.value)).size == (4 * 32 + 12, 32)
    shown_map = demo.panels[:, 32 + 4 : 2 * 32 + 4]
    np.testing.assert_array_equal(shown_map, colorize_mask(demo.painter.label_map()))
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


def test_painted_content_map_reruns_the_transfer_and_resets_with_the_content():
    demo = FastSemanticStyleDemo(size=32, iterations=20, content_seed=2)
    assert demo.busy.value == ""  # idle: no spinner
    before = demo.result.image.clone()
    first = demo.painter.label_map().clone()
    demo.painter.label.value = LABELS.index("hair")
    changed = demo.painter.stroke([(10.0, 16.0), (22.0, 16.0)])  # paint hair over the face
    assert changed > 0
    used = demo.inputs()[2][0]
    assert torch.equal(used, demo.painter.label_map()) and not torch.equal(used, first)
    assert "mask pixels painted" in demo.status.value
    np.testing.assert_array_equal(demo.panels[:, 36:68], colorize_mask(used))
    assert not torch.equal(demo.result.image, before)
    demo.painter.undo()
    torch.testing.assert_close(demo.result.image, before)
    demo.painter.stroke([(10.0, 16.0)])
    demo.content_seed.value = 3  # new content: the painter shows its unedited map
    assert demo.painter.state.edited_pixels == 0 and not demo.painter.state.can_undo
    assert "painted" not in demo.status.value


def test_busy_indicator_is_shown_while_computing(monkeypatch):
    demo = FastSemanticStyleDemo(size=32, iterations=0)
    seen = []
    original = demo.pipeline.__class__.__call__

    def spy(self, *args, **kwargs):
        seen.append(demo.busy.value)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(demo.pipeline.__class__, "__call__", spy)
    demo.style_seed.value = 4
    assert seen and "computing" in seen[-1] and demo.busy.value == ""


def test_upload_of_a_real_photo_is_parsed_at_full_detail(tmp_path):
    import skimage.data

    buffer = io.BytesIO()
    Image.fromarray(skimage.data.astronaut()).save(buffer, format="PNG")
    image, mask = load_upload(buffer.getvalue(), 48)  # too small to find a face at 48 px
    assert image.shape == (3, 48, 48) and mask.shape == (48, 48) and mask.dtype == torch.int64
    assert (mask == LABELS.index("skin")).sum() > 50
    demo = FastSemanticStyleDemo(size=32, iterations=0)
    demo._on_upload({"new": [{"name": "astronaut.png", "content": memoryview(buffer.getvalue())}]})
    assert "uploaded photo" in demo.status.value
    assert demo.painter.state.shape == (32, 32) and demo.painter.state.edited_pixels == 0
