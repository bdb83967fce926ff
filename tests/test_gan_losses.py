"""GAN losses against hand-computed values."""

import math

import pytest
import torch

from maskstyle.gan import (
    clip_weights,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
    gradient_penalty,
)

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def _sig(t):
    return 1 / (1 + math.exp(-t))


def test_standard_and_nonsaturating_by_hand():
    # -mean log sigma(real) - mean log(1 - sigma(fake))
    d = -(math.log(_sig(2.0)) + math.log(_sig(-1.0))) / 2 - (
        math.log(1 - _sig(0.5)) + math.log(1 - _sig(-3.0))
    ) / 2
    for kind in ("standard", "nonsaturating"):
        assert discriminator_loss(REAL, FAKE, kind).item() == pytest.approx(d, rel=1e-6)
    g_minimax = (math.log(1 - _sig(0.5)) + math.log(1 - _sig(-3.0))) / 2
    g_ns = -(math.log(_sig(0.5)) + math.log(_sig(-3.0))) / 2
    assert generator_loss(FAKE, "standard").item() == pytest.approx(g_minimax, rel=1e-6)
    assert generator_loss(FAKE, "nonsaturating").item() == pytest.approx(g_ns, rel=1e-6)


def test_lsgan_wgan_hinge_by_hand():
    # lsgan: mean((r-1)^2) + mean(f^2) = (1 + 4)/2 + (0.25 + 9)/2
    assert discriminator_loss(REAL, FAKE, "lsgan").item() == pytest.approx(2.5 + 4.625)
    assert generator_loss(FAKE, "lsgan").item() == pytest.approx((0.25 + 16) / 2)
    # wgan: mean(f) - mean(r) = -1.25 - 0.5
    assert discriminator_loss(REAL, FAKE, "wgan").item() == pytest.approx(-1.75)
    assert generator_loss(FAKE, "wgan").item() == pytest.approx(1.25)
    # hinge: mean(relu(1 - r)) + mean(relu(1 + f)) = (0 + 2)/2 + (1.5 + 0)/2
    assert discriminator_loss(REAL, FAKE, "hinge").item() == pytest.approx(1.75)
    assert generator_loss(FAKE, "hinge").item() == pytest.approx(1.25)


def test_lists_sum_over_discriminators_and_bad_kind():
    one = discriminator_loss(REAL, FAKE, "hinge")
    two = discriminator_loss([REAL, REAL], [FAKE, FAKE], "hinge")
    assert two.item() == pytest.approx(2 * one.item())
    with pytest.raises(ValueError, match="unknown GAN loss"):
        generator_loss(FAKE, "wasserstein")
    with pytest.raises(ValueError, match="fake ones"):
        discriminator_loss([REAL, REAL], [FAKE], "wgan")


def test_clip_weights():
    layer = torch.nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.fill_(0.5)
        layer.bias.fill_(-0.2)
    clip_weights(layer, 0.01)
    assert torch.all(layer.weight == 0.01) and torch.all(layer.bias == -0.01)
    with pytest.raises(ValueError, match="positive"):
        clip_weights(layer, 0.0)


def test_gradient_penalty_linear_critic_closed_form():
    # D(x) = sum(w * x): grad = w for every x^, so GP = lambda (||w|| - 1)^2
    w = torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)
    real, fake = torch.randn(5, 2, 1, 1), torch.randn(5, 2, 1, 1)
    gp = gradient_penalty(lambda x: (x * w).sum(dim=(1, 2, 3)), real, fake, weight=10.0)
    assert gp.item() == pytest.approx(10.0 * (5.0 - 1.0) ** 2)


def test_gradient_penalty_quadratic_critic_by_hand():
    # D(x) = 0.5 ||x||^2: grad = x^ = eps r + (1 - eps) f
    real = torch.tensor([[2.0, 0.0]]).view(1, 2, 1, 1)
    fake = torch.tensor([[0.0, 0.0]]).view(1, 2, 1, 1)
    gp = gradient_penalty(lambda x: 0.5 * x.square().sum(), real, fake, weight=1.0,
                          eps=torch.tensor([0.25]))
    # x^ = (0.5, 0): ||grad|| = 0.5, (0.5 - 1)^2 = 0.25
    assert gp.item() == pytest.approx(0.25)


def test_gradient_penalty_trains_critic():
    critic = torch.nn.Conv2d(3, 1, 3)
    gp = gradient_penalty(lambda x: critic(x), torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8))
    gp.backward()
    assert critic.weight.grad is not None and torch.isfinite(critic.weight.grad).all()
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, torch.rand(2, 3, 8, 8), torch.rand(1, 3, 8, 8))


def test_feature_matching_by_hand():
    r = [torch.zeros(1, 2), torch.ones(1, 1, 2, 2)]
    f = [torch.tensor([[1.0, -3.0]], requires_grad=True), torch.zeros(1, 1, 2, 2)]
    loss = feature_matching_loss(r, f)
    assert loss.item() == pytest.approx(2.0 + 1.0)  # mean |.|: (1 + 3)/2, then 1
    nested = feature_matching_loss([r, r], [f, f])
    assert nested.item() == pytest.approx(6.0)
    loss.backward()
    assert f[0].grad is not None
