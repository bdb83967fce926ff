"""The GeneGAN demo widget, driven headless."""

import io

import pytest
import torch
from PIL import Image

from maskstyle.models.genegan import GeneGAN
from maskstyle.models.genegan.operations import remove, transplant
from maskstyle.widgets.genegan import GeneGANDemo

SIZE = 32


@pytest.fixture(scope="module")
def demo():
    return GeneGANDemo(GeneGAN(SIZE, width=0.125), face_a=1, face_b=2)


def test_panels_show_a_b_and_the_result(demo):
    assert demo.panels.shape == (SIZE, 3 * SIZE + 2 * 4, 3)
    assert Image.open(io.BytesIO(demo.image.value)).size == (demo.panels.shape[1], SIZE)
    a, b, _ = demo.inputs()
    torch.testing.assert_close(demo.result, transplant(demo.model, a[None], b[None])[0])
    assert "B's object on A" in demo.status.value


def test_mode_and_sliders_rerun(demo):
    demo.mode.value = "remove"
    a, _, _ = demo.inputs()
    torch.testing.assert_close(demo.result, remove(demo.model, a[None])[0])
    demo.mode.value = "interpolate"
    first = demo.result.clone()
    demo.x.value, demo.y.value = 0.0, 0.0
    assert "x=0.00, y=0.00" in demo.status.value
    with torch.no_grad():  # corner (0, 0) is exemplar u11
        bg = demo.model.encode(a[None])[0]
        expected = demo.model.decode(bg, demo.corner_codes[:1])[0]
    torch.testing.assert_close(demo.result, expected)
    assert not torch.equal(first, demo.result)
    demo.face_a.value = 3
    assert "face 3" in demo.status.value


def test_bad_model():
    with pytest.raises(TypeError, match="needs a GeneGAN"):
        GeneGANDemo(torch.nn.Linear(1, 1))
