"""The LOMIT demo driven headless through its callbacks (the shared mask painter's stroke,
undo and reset, the mask switch, the sliders and the upload)."""

import datetime
import io

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.models.lomit.model import LOMIT, LOMITConfig
from maskstyle.widgets.lomit import LOMITDemo


def tiny_model() -> LOMIT:
    torch.manual_seed(0)
    return LOMIT(LOMITConfig(image_size=16, dim=4, n_res=1, mlp_dim=8, mask_dim=4, mask_layers=2))


@pytest.fixture
def demo():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield LOMITDemo(tiny_model(), torch.rand(3, 3, 16, 16), weights="untrained (test)")
    torch.set_num_threads(threads)


def test_panels_and_status(demo):
    assert demo.panels.shape == (16, 5 * 16 + 4 * 4, 3)
    assert "face 0" in demo.status.value and "untrained (test)" in demo.status.value
    assert Image.open(io.BytesIO(demo.image.value)).size == (96, 16)
    assert "maskstyle-demo" in demo.widget._dom_classes
    # unedited: the translation uses the network's own soft masks
    for mask, auto in zip(demo.masks, demo.auto):
        torch.testing.assert_close(mask, auto)


def test_erasing_a_stroke_keeps_the_input_there(demo):
    before = demo.output.clone()
    demo.painter.mode.value = "erase"
    demo.painter.brush.value = 16  # covers the whole 16 px map
    demo.painter.label.value = 1  # erase "translate"
    demo.painter.stroke([(8, 8)])
    thresholded = demo.auto[0] >= 0.5
    assert torch.all(demo.masks[0][thresholded] == 0)  # erased where it was translated
    # below the threshold the network's soft value is kept (a stroke changed nothing there)
    torch.testing.assert_close(demo.masks[0][~thresholded], demo.auto[0][~thresholded])
    if thresholded.any():
        assert not torch.allclose(before, demo.output)
    assert "edited" in demo.status.value


def test_painting_the_exemplar_mask_then_undo_and_switch(demo):
    demo.editing.value = "exemplar mask"
    demo.painter.mode.value, demo.painter.brush.value = "paint", 1
    demo.painter.label.value = 1
    below = (demo.auto[1][0, 0] < 0.5).nonzero()
    assert len(below), "the untrained exemplar mask should have pixels below 0.5"
    i, j = (int(v) for v in below[0])
    demo.painter.stroke([(j, i)])  # (x, y): a dot; pixels shown as "keep" become "translate"
    # independent reference: under the brush (centre within 1 px) -> 1, elsewhere the soft mask
    ys, xs = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    under = (xs - j) ** 2 + (ys - i) ** 2 <= 1
    expected = torch.where(under, torch.ones(()), demo.auto[1][0, 0])
    expected = torch.where(under & (demo.auto[1][0, 0] >= 0.5), demo.auto[1][0, 0], expected)
    torch.testing.assert_close(demo.masks[1][0, 0], expected)
    assert demo.masks[1][0, 0, i, j] == 1
    demo.editing.value = "input mask"  # the exemplar's edit is kept while the input is shown
    assert demo.masks[1][0, 0, i, j] == 1
    demo.editing.value = "exemplar mask"
    assert demo.painter.state.labels[i, j] == 1
    demo.painter.undo()
    torch.testing.assert_close(demo.masks[1], demo.auto[1])


def test_new_pair_resets_masks_and_upload(demo):
    demo.painter.mode.value, demo.painter.brush.value = "paint", 16
    demo.painter.stroke([(0, 0)])
    demo.exemplar_index.value = 2
    torch.testing.assert_close(demo.masks[0], demo.auto[0])
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(buffer, format="PNG")
    demo.upload.value = ({"name": "x.png", "type": "image/png", "size": len(buffer.getvalue()),
                          "content": memoryview(buffer.getvalue()),
                          "last_modified": datetime.datetime.now(datetime.UTC)},)
    assert demo.uploaded.shape == (3, 16, 16) and "uploaded photo" in demo.status.value
    assert demo.busy.value == ""  # the busy indicator is cleared after the work


def test_bad_input():
    model = tiny_model()
    with pytest.raises(ValueError, match="model's size"):
        LOMITDemo(model, torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="at least two faces"):
        LOMITDemo(model, torch.rand(1, 3, 16, 16))
