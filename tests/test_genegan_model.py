"""GeneGAN: shapes, the 384/128 split, losses by hand, operations, Eq. 6, bad input."""

import itertools

import pytest
import torch

from maskstyle.models.genegan import GeneGAN
from maskstyle.models.genegan.baselines import CyclicGAN
from maskstyle.models.genegan.losses import (
    cyclic_generator_loss,
    genegan_discriminator_loss,
    genegan_generator_loss,
    parallelogram_loss,
    stacked_generator_loss,
)
from maskstyle.models.genegan.operations import (
    bilinear_codes,
    interpolation_grid,
    remove,
    swap,
    transplant,
)


@pytest.fixture(scope="module")
def paper_model():
    return GeneGAN(64)


def test_official_sizes_and_split(paper_model):
    x = torch.rand(2, 3, 64, 64)
    a, u = paper_model.encode(x)
    assert a.shape == (2, 384, 8, 8) and u.shape == (2, 128, 8, 8)
    out = paper_model.decode(a, u)
    assert out.shape == (2, 3, 64, 64) and 0 <= out.min() and out.max() <= 1
    convs = [m for m in paper_model.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [128, 256, 512]
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    deconvs = [m for m in paper_model.decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in deconvs] == [512, 256, 3]
    bns = [m for m in paper_model.encoder.net if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 3  # paper: BN everywhere (official code: not on the first conv)
    assert len([m for m in GeneGAN(16, width=0.25, first_bn=False).encoder.net
                if isinstance(m, torch.nn.BatchNorm2d)]) == 2
    assert paper_model.d_with(x).shape == (2, 1)


def test_zero_object_decodes_and_remove_is_dec_a_0():
    model = GeneGAN(32, width=0.25).eval()
    x = torch.rand(3, 3, 32, 32)
    a, u = model.encode(x)
    zero = model.decode(a, torch.zeros_like(u))
    assert zero.shape == x.shape and torch.isfinite(zero).all()
    assert torch.allclose(remove(model, x), zero)
    assert torch.allclose(transplant(model, x, x), model.decode(a, u))
    y = torch.rand(3, 3, 32, 32)
    ay, uy = model.encode(y)
    s1, s2 = swap(model, x, y)
    assert torch.allclose(s1, model.decode(a, uy), atol=1e-6)
    assert torch.allclose(s2, model.decode(ay, u), atol=1e-6)


def test_children_are_eq2():
    model = GeneGAN(32, width=0.25).eval()
    xa, xb = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        c = model.four_children(xa, xb)
        a, u = model.encode(xa)
        b, _ = model.encode(xb)
        assert torch.allclose(c["Ae"], model.decode(a, torch.zeros_like(u)), atol=1e-6)
        assert torch.allclose(c["Bu"], model.decode(b, u), atol=1e-6)
        assert torch.allclose(c["Be"], model.decode(b, torch.zeros_like(u)), atol=1e-6)


def test_parallelogram_hand_computed():
    full = lambda v: torch.full((1, 3, 2, 2), v)  # noqa: E731
    # |0.5 + 0.25 - 0.1 - 0.4| = 0.25 -> 63.75 on the 0..255 scale
    loss = parallelogram_loss(full(0.5), full(0.25), full(0.1), full(0.4))
    assert loss.item() == pytest.approx(63.75)
    xs = torch.tensor([0.0, 1.0, 0.5, 0.5]).view(1, 1, 2, 2)
    zero = torch.zeros(1, 1, 2, 2)
    assert parallelogram_loss(xs, zero, zero, zero).item() == pytest.approx(255 * 0.5)


class _Score(torch.nn.Module):
    """A stand-in D: the image mean times a constant (so the losses can be computed by hand)."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return self.k * x.mean(dim=(1, 2, 3))[:, None]


def test_adversarial_terms_hand_computed():
    model = GeneGAN(32, width=0.25).eval()
    model.d_with, model.d_without = _Score(2.0), _Score(-1.0)
    xa, xb = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        c = model.four_children(xa, xb)
    mean = lambda t: t.mean(dim=(1, 2, 3))  # noqa: E731
    # WGAN critic: E D(fake) - E D(real), both critics
    d, terms = genegan_discriminator_loss(model, xa, xb, "wgan")
    d_with = (2 * mean(c["Bu"])).mean() - (2 * mean(xa)).mean()
    d_without = (-mean(c["Ae"])).mean() + mean(xb).mean()
    assert terms["d_with"].item() == pytest.approx(d_with.item(), abs=1e-6)
    assert d.item() == pytest.approx((d_with + d_without).item(), abs=1e-6)
    # the paper's log-loss for G: -E log sigma(D(Ae)) - E log sigma(D(Bu))
    _, g_terms, _ = genegan_generator_loss(model, xa, xb, kind="nonsaturating")
    expected = -torch.log(torch.sigmoid(-mean(c["Ae"]))).mean()
    assert g_terms["gan_Ae"].item() == pytest.approx(expected.item(), rel=1e-5)
    # reconstruction and nulling terms by hand
    assert g_terms["rec_Au"].item() == pytest.approx((xa - c["Au"]).abs().mean().item(), rel=1e-5)
    assert g_terms["nulling"].item() == pytest.approx(c["e"].abs().mean().item(), rel=1e-5)


def test_gradient_penalty_path_and_all_variants_finite():
    torch.manual_seed(0)
    xa, xb = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    model = GeneGAN(16, width=0.125)
    for fn, kind in ((genegan_generator_loss, "wgan"), (genegan_generator_loss, "lsgan"),
                     (genegan_generator_loss, "nonsaturating"), (stacked_generator_loss, "hinge")):
        total, terms, _ = fn(model, xa, xb, kind=kind)
        assert torch.isfinite(total) and all(torch.isfinite(v) for v in terms.values())
    total, terms = genegan_discriminator_loss(model, xa, xb, "wgan", gp_weight=10.0)
    assert torch.isfinite(total) and terms["gp"] > 0
    total.backward()
    cyclic = CyclicGAN(16, width=0.125)
    total, terms, out = cyclic_generator_loss(cyclic, xa, xb)
    assert torch.isfinite(total) and out["Ae"].shape == xa.shape


def test_bilinear_codes_eq6_brute_force():
    torch.manual_seed(1)
    u11, u12, u21, u22 = (torch.randn(4, 2, 2) for _ in range(4))
    xs, ys = torch.tensor([0.0, 0.3, 1.0, 2.0]), torch.tensor([-1.0, 0.5, 1.0])
    x1, x2, y1, y2 = 0.0, 2.0, -1.0, 1.0
    grid = bilinear_codes(u11, u12, u21, u22, xs, ys, x1, x2, y1, y2)
    for (j, y), (i, x) in itertools.product(enumerate(ys.tolist()), enumerate(xs.tolist())):
        expected = (u11 * (x2 - x) * (y2 - y) + u21 * (x - x1) * (y2 - y)
                    + u12 * (x2 - x) * (y - y1) + u22 * (x - x1) * (y - y1)) / (
            (x2 - x1) * (y2 - y1))
        assert torch.allclose(grid[j, i], expected, atol=1e-6)
    assert torch.allclose(grid[0, 0], u11) and torch.allclose(grid[-1, -1], u22)
    with pytest.raises(ValueError, match="rectangle"):
        bilinear_codes(u11, u12, u21, u22, xs, ys, 1.0, 1.0)


def test_interpolation_grid_corners():
    model = GeneGAN(32, width=0.25).eval()
    corners, background = torch.rand(4, 3, 32, 32), torch.rand(1, 3, 32, 32)
    grid = interpolation_grid(model, background, corners, steps=3)
    assert grid.shape == (3, 3, 3, 32, 32)
    assert torch.allclose(grid[0, 0], transplant(model, background, corners[:1])[0], atol=1e-5)


def test_bad_input_errors():
    model = GeneGAN(32, width=0.25)
    with pytest.raises(ValueError, match="built for 32x32"):
        model.encode(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match=r"x\[None\]"):
        model.encode(torch.rand(3, 32, 32))
    with pytest.raises(TypeError, match="float"):
        model.encode(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="multiple of 8"):
        GeneGAN(60)
    a, u = model.encode(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="obj must be"):
        model.decode(a, u[:, :3])
    with pytest.raises(ValueError, match="equal batches"):
        model.four_children(torch.rand(2, 3, 32, 32), torch.rand(3, 3, 32, 32))


@pytest.mark.parametrize("d_norm", ["batch", "none", "spectral", "instance"])
def test_discriminator_norms(d_norm):
    model = GeneGAN(32, width=0.125, d_norm=d_norm)
    kinds = {type(m).__name__ for m in model.d_with.modules()}
    assert ("BatchNorm2d" in kinds) == (d_norm == "batch")
    assert ("InstanceNorm2d" in kinds) == (d_norm == "instance")
    spectral = any(hasattr(m, "parametrizations") for m in model.d_without.modules())
    assert spectral == (d_norm == "spectral")
    assert model.d_with(torch.rand(2, 3, 32, 32)).shape == (2, 1)
    with pytest.raises(ValueError, match="discriminator norm must be one of"):
        GeneGAN(32, width=0.125, d_norm="layer")
