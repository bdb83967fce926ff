"""LOMIT networks, masks, HAdaIN use, mask editing and bad input."""

import pytest
import torch

from maskstyle.models.lomit.model import LOMIT, LOMITConfig, erase_box, erase_region
from maskstyle.nn.highway_adain import instance_norm

TINY = dict(image_size=16, dim=4, n_res=1, mlp_dim=8, mask_dim=4, mask_layers=2)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture
def model():
    torch.manual_seed(0)
    return LOMIT(LOMITConfig(**TINY)).eval()


def test_shapes_and_mask_ranges(model):
    x1, x2 = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    out = model.translate(x1, x2)
    assert out["output"].shape == (2, 3, 16, 16)
    assert out["mask1"].shape == out["mask2"].shape == (2, 1, 16, 16)
    assert 0 <= out["output"].min() and out["output"].max() <= 1
    assert 0 < out["mask1"].min() and out["mask1"].max() < 1
    e1, e2 = model.encode_pair(x1, x2)
    assert e1.content.shape == (2, 16, 4, 4) and e1.mask.shape == (2, 1, 4, 4)
    assert e1.style_f.shape == e1.style_b.shape == (2, 8)


@pytest.mark.parametrize("n_down", [1, 2, 3])
def test_n_down_sets_the_content_resolution_and_width(n_down):
    torch.manual_seed(0)
    m = LOMIT(LOMITConfig(**{**TINY, "n_down": n_down})).eval()
    x1, x2 = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    e1, _ = m.encode_pair(x1, x2)
    side = 16 // 2**n_down
    assert e1.content.shape == (2, 4 * 2**n_down, side, side)
    assert e1.mask.shape == (2, 1, side, side) and e1.mask_image.shape == (2, 1, 16, 16)
    assert m.translate(x1, x2)["output"].shape == (2, 3, 16, 16)
    strided = [c for c in m.content_encoder.modules() if isinstance(c, torch.nn.Conv2d)
               and c.stride == (2, 2)]  # fmt: skip
    ups = [u for u in m.decoder.modules() if isinstance(u, torch.nn.Upsample)]
    assert len(strided) == len(ups) == n_down


def test_coseg_mask_depends_on_the_other_image(model):
    x1 = torch.rand(1, 3, 16, 16)
    m_a = model.translate(x1, torch.rand(1, 3, 16, 16))["mask1"]
    m_b = model.translate(x1, torch.rand(1, 3, 16, 16))["mask1"]
    assert not torch.allclose(m_a, m_b)  # the gate reads the exemplar's pooled content
    no_att = LOMIT(LOMITConfig(**TINY, attention=False)).eval()
    n_a = no_att.translate(x1, torch.rand(1, 3, 16, 16))["mask1"]
    n_b = no_att.translate(x1, torch.rand(1, 3, 16, 16))["mask1"]
    torch.testing.assert_close(n_a, n_b)


def test_hadain_uses_foreground_and_background_parameters(model):
    c = torch.randn(2, 16, 4, 4)
    sf, sb = torch.randn(2, 8), torch.randn(2, 8)
    mean_f, logvar_f = model.mlp_f.mlp(sf).chunk(2, dim=1)
    mean_b, logvar_b = model.mlp_b.mlp(sb).chunk(2, dim=1)
    n = instance_norm(c)
    adain_f = torch.exp(0.5 * logvar_f)[..., None, None] * n + mean_f[..., None, None]
    adain_b = torch.exp(0.5 * logvar_b)[..., None, None] * n + mean_b[..., None, None]
    ones, zeros = torch.ones(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    torch.testing.assert_close(model.hadain(c, ones, sf, sb), adain_f)
    torch.testing.assert_close(model.hadain(c, zeros, sf, sb), adain_b)
    m = torch.rand(2, 1, 4, 4)
    torch.testing.assert_close(model.hadain(c, m, sf, sb), m * adain_f + (1 - m) * adain_b)


def test_mask_override_all_zero_input_mask_ignores_exemplar(model):
    x1 = torch.rand(1, 3, 16, 16)
    zero = torch.zeros(1, 1, 16, 16)
    a = model.translate(x1, torch.rand(1, 3, 16, 16), mask_override=(zero, None))["output"]
    b = model.translate(x1, torch.rand(1, 3, 16, 16), mask_override=(zero, None))["output"]
    torch.testing.assert_close(a, b)  # m1 = 0: only x1's background style is applied


def test_global_adain_baseline(model):
    base = LOMIT(LOMITConfig(**TINY, use_masks=False)).eval()
    assert not hasattr(base, "coseg") and not hasattr(base, "mlp_b")
    out = base.translate(torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16))
    assert torch.all(out["mask1"] == 1) and out["output"].shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="no masks"):
        base.translate(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16),
                       mask_override=(torch.ones(1, 1, 16, 16), None))


def test_mask_editing_helpers():
    m = torch.ones(1, 1, 10, 10)
    e = erase_box(m, 0.5, 0.0, 1.0, 1.0)
    assert e[..., :5, :].eq(1).all() and e[..., 5:, :].eq(0).all() and m.eq(1).all()
    region = torch.zeros(10, 10, dtype=torch.bool)
    region[2:4, 2:4] = True
    r = erase_region(m, region)
    assert r.sum() == 96 and r[0, 0, 2, 2] == 0
    with pytest.raises(ValueError, match="box"):
        erase_box(m, 0.6, 0, 0.5, 1)
    with pytest.raises(ValueError, match="differ in size"):
        erase_region(m, torch.zeros(5, 5, dtype=torch.bool))


def test_bad_input_errors(model):
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="differ in batch or size"):
        model.translate(x, x, mask_override=(torch.ones(1, 1, 8, 8), None))
    with pytest.raises(ValueError, match="built for 16"):
        model.translate(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="RGB batch"):
        model.translate(torch.rand(3, 16, 16), x)
    with pytest.raises(ValueError, match="pair them"):
        model.translate(x, torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match="multiple of 4"):
        LOMITConfig(image_size=18)
    with pytest.raises(ValueError, match="multiple of 2"):
        LOMITConfig(image_size=17, n_down=1)
    with pytest.raises(ValueError, match="n_down must be"):
        LOMITConfig(image_size=16, n_down=0)
