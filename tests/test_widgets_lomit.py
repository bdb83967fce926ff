"""The LOMIT demo driven headless through its callbacks."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.models.lomit.model import LOMIT, LOMITConfig
from maskstyle.widgets.lomit import SCALE, LOMITDemo


@pytest.fixture
def demo():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = LOMIT(LOMITConfig(image_size=16, dim=4, n_res=1, mlp_dim=8, mask_dim=4, mask_layers=2))
    yield LOMITDemo(model, torch.rand(3, 3, 16, 16), weights="untrained (test)")
    torch.set_num_threads(threads)


def test_panels_and_status(demo):
    assert demo.panels.shape == (16, 5 * 16 + 4 * 4, 3)
    assert "face 0" in demo.status.value and "untrained (test)" in demo.status.value
    assert Image.open(io.BytesIO(demo.image.value)).size == (96, 16)


def test_erasing_with_the_mouse_changes_mask_and_output(demo):
    before = demo.output.clone()
    demo.brush.value, demo.brush_size.value = "erase", 16
    demo.on_mouse_down(8 * SCALE, 8 * SCALE)
    demo.on_mouse_move(9 * SCALE, 9 * SCALE)
    assert torch.all(demo.masks[0] == 0)  # a brush of 16 px covers the whole 16 px mask
    demo.on_mouse_up(9 * SCALE, 9 * SCALE)
    assert not torch.allclose(before, demo.output)
    assert "edited" in demo.status.value
    demo.editing.value, demo.brush.value, demo.brush_size.value = "exemplar mask", "paint", 2
    demo.on_mouse_down(0, 0)
    demo.on_mouse_up(0, 0)
    assert demo.masks[1][0, 0, 0, 0] == 1 and demo.masks[1][0, 0, 8, 8] != 1
    demo.on_mouse_move(40, 40)  # not painting: nothing happens
    assert demo.masks[1][0, 0, 10, 10] != 1


def test_new_pair_resets_masks_and_upload(demo):
    demo.brush.value = "erase"
    demo.on_mouse_down(0, 0)
    demo.on_mouse_up(0, 0)
    demo.exemplar_index.value = 2
    torch.testing.assert_close(demo.masks[0], demo.auto[0])
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(buffer, format="PNG")
    import datetime

    demo.upload.value = ({"name": "x.png", "type": "image/png", "size": len(buffer.getvalue()),
                          "content": memoryview(buffer.getvalue()),
                          "last_modified": datetime.datetime.now(datetime.UTC)},)
    assert demo.uploaded.shape == (3, 16, 16) and "uploaded photo" in demo.status.value


def test_bad_images():
    model = LOMIT(LOMITConfig(image_size=16, dim=4, n_res=1, mlp_dim=8, mask_dim=4, mask_layers=2))
    with pytest.raises(ValueError, match="model's size"):
        LOMITDemo(model, torch.rand(2, 3, 32, 32))
