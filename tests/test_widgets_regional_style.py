"""The regional style demo widget, driven headless (tiny untrained models)."""

from __future__ import annotations

import io

import pytest
import torch
from PIL import Image

from maskstyle.data.labels import LABEL_INDEX
from maskstyle.models.regional_style.cnf import StyleCNF
from maskstyle.models.regional_style.mapping import RegionalStyleMapping
from maskstyle.models.regional_style.model import RegionalStyleNet
from maskstyle.widgets.regional_style import GAP, RegionalStyleDemo

SIZE = 32


@pytest.fixture(scope="module")
def demo():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = RegionalStyleNet(image_size=SIZE, style_dim=4, encoder_ngf=4, generator_ngf=4,
                             num_up=3, hidden=4)  # fmt: skip
    mapping = RegionalStyleMapping(4, z_dim=4, hidden=8, layers=2)
    cnf = {"skin": StyleCNF(8, hidden=8, rtol=1e-3, atol=1e-3),
           "hair": StyleCNF(4, hidden=8, rtol=1e-3, atol=1e-3)}  # fmt: skip
    yield RegionalStyleDemo(model, {"mapping": mapping, "cnf": cnf}, target_seed=3,
                            reference_seed=11)  # fmt: skip
    torch.set_num_threads(threads)


def test_demo_shows_target_reference_and_transfer(demo):
    assert demo.panels.shape == (SIZE, 3 * SIZE + 2 * GAP, 3)
    assert Image.open(io.BytesIO(demo.image.value)).size == (demo.panels.shape[1], SIZE)
    assert "transferred: hair" in demo.status.value and "face world seed 3" in demo.status.value
    assert "untrained" in demo.status.value


def test_region_checkboxes_change_the_transfer(demo):
    hair_only = demo.outputs["transfer"].clone()
    demo.regions["skin"].value = True
    assert "transferred: skin, hair" in demo.status.value
    assert not torch.equal(demo.outputs["transfer"], hair_only)
    with demo.hold():  # one refresh for several clicks
        for box in demo.regions.values():
            box.value = False
    assert "no region ticked" in demo.status.value
    data = demo.inputs()
    with torch.no_grad():
        torch.testing.assert_close(demo.outputs["transfer"],
                                   demo.model(data["target"], data["target_labels"]))  # fmt: skip
    demo.regions["hair"].value = True


def test_sampling_and_fine_tuning(demo):
    demo.sample_group.value = "skin"
    assert demo.panels.shape[1] == 4 * SIZE + 3 * GAP and "sampled skin style seed 0" in (
        demo.status.value
    )
    first = demo.outputs["sampled"].clone()
    demo.sample_seed.value = 5
    assert not torch.equal(demo.outputs["sampled"], first)
    at_seed = demo.outputs["sampled"].clone()
    demo.eta.value = 2.0
    assert "fine-tuned eta 2" in demo.status.value
    assert not torch.equal(demo.outputs["sampled"], at_seed)
    demo.eta.value = 0.0
    torch.testing.assert_close(demo.outputs["sampled"], at_seed)  # same seed, same style
    demo.sample_group.value = "none"
    assert "sampled" not in demo.outputs


def test_painting_the_label_map_changes_the_output(demo):
    before = demo.outputs["transfer"].clone()
    demo.painter.label.value = LABEL_INDEX["hair"]
    changed = demo.painter.stroke([(2.0, 20.0), (2.0, 30.0)])
    assert changed > 0 and "pixels painted" in demo.status.value
    assert not torch.equal(demo.outputs["transfer"], before)
    demo.painter.undo()
    torch.testing.assert_close(demo.outputs["transfer"], before)
    demo.target_seed.value = 4  # a new target: the painter starts over from its map
    assert "face world seed 4" in demo.status.value and "painted" not in demo.status.value


def test_no_style_models_and_bad_inputs_are_explained():
    from maskstyle.models.regional_style.baselines import SPADEBaseline

    torch.manual_seed(0)
    model = RegionalStyleNet(image_size=SIZE, style_dim=4, encoder_ngf=4, generator_ngf=4,
                             num_up=3, hidden=4)  # fmt: skip
    demo = RegionalStyleDemo(model)
    demo.sample_group.value = "hair"
    assert "no style models loaded" in demo.status.value and "sampled" not in demo.outputs
    with pytest.raises(TypeError, match="RegionalStyleNet"):
        RegionalStyleDemo(SPADEBaseline(image_size=SIZE, ngf=4, num_up=3, z_dim=4, ndf=4))
    with pytest.raises(ValueError, match="unknown region"):
        RegionalStyleDemo(model, regions=("beard",))
