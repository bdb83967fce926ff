"""LOMIT losses (Eqs. 5-16) against independent references."""

import pytest
import torch

from maskstyle.gan.discriminators import StarGANDiscriminator
from maskstyle.models.lomit import losses as L
from maskstyle.models.lomit.model import LOMIT, LOMITConfig

TINY = dict(image_size=16, dim=4, n_res=1, mlp_dim=8, mask_dim=4, mask_layers=2)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def r1_loop(mask, content, reduction):
    """Eq. 13 written as the literal double loop over pixel pairs."""
    b, c, h, w = content.shape
    totals = []
    for n in range(b):
        m = mask[n, 0].flatten().tolist()
        vecs = content[n].reshape(c, h * w).T
        total = 0.0
        for i in range(h * w):
            for j in range(h * w):
                ci, cj = vecs[i], vecs[j]
                cos = float(ci @ cj) / (float(ci.norm()) * float(cj.norm()))
                total += abs(m[i] - m[j]) * cos
        totals.append(total / (h * w) ** 2 if reduction == "mean" else total)
    return sum(totals) / b


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_r1_matches_brute_force_loop(reduction):
    torch.manual_seed(0)
    mask, content = torch.rand(2, 1, 3, 4), torch.randn(2, 5, 3, 4)
    got = L.r1_mask_similarity(mask, content, reduction)
    assert float(got) == pytest.approx(r1_loop(mask, content, reduction), rel=1e-5)


def test_r1_gradient_flows_through_the_mask_only():
    mask = torch.rand(1, 1, 3, 3, requires_grad=True)
    content = torch.randn(1, 4, 3, 3, requires_grad=True)
    L.r1_mask_similarity(mask, content).backward()
    assert content.grad is None
    assert mask.grad is not None and mask.grad.abs().sum() > 0


def test_r1_zero_for_constant_mask_and_shape_errors():
    assert float(L.r1_mask_similarity(torch.full((1, 1, 3, 3), 0.3), torch.randn(1, 4, 3, 3))) == 0
    with pytest.raises(ValueError, match="content-resolution"):
        L.r1_mask_similarity(torch.rand(1, 1, 6, 6), torch.randn(1, 4, 3, 3))


def test_r2_r3_classification_by_hand():
    s1, s2 = torch.tensor([[1.0, -2.0], [0.0, 0.0]]), torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    assert float(L.r2_style_difference(s1, s2)) == pytest.approx(-(4 + 2) / 2)  # Eq. 14
    m = torch.zeros(2, 1, 2, 2)
    m[0, 0, 0, 0], m[1] = 1.0, 0.5
    assert float(L.r3_mask_size(m)) == pytest.approx((1 + 2) / 2)  # Eq. 15
    logits, y = torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0, 0.0]])
    sig = torch.sigmoid
    expected = -torch.log(sig(torch.tensor(0.0))) - torch.log(1 - sig(torch.tensor(2.0)))
    assert float(L.classification_loss(logits, y)) == pytest.approx(float(expected))  # Eq. 11


def test_lr_schedule_reading():
    assert L.lr_factor(0) == 1 and L.lr_factor(99_999) == 1
    assert L.lr_factor(100_000) == 0.5 and L.lr_factor(109_999) == 0.5
    assert L.lr_factor(110_000) == 0.25 and L.lr_factor(199_999) == 0.5**10


def _batch():
    torch.manual_seed(1)
    y1 = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    return {"x1": torch.rand(2, 3, 16, 16), "x2": torch.rand(2, 3, 16, 16), "y1": y1,
            "y2": 1 - y1}


@pytest.mark.parametrize("use_masks", [True, False])
def test_losses_finite_and_gradient_paths(use_masks):
    torch.manual_seed(0)
    model = LOMIT(LOMITConfig(**TINY, use_masks=use_masks))
    d = StarGANDiscriminator(16, 3, 4, 3)
    total, terms = L.generator_losses(model, d, _batch())
    assert torch.isfinite(total) and all(torch.isfinite(v) for v in terms.values())
    total.backward()
    assert model.decoder.model[-2].weight.grad.abs().sum() > 0
    if use_masks:
        assert model.coseg.body[-2].weight.grad.abs().sum() > 0  # masks learn from L_G
        assert terms["r1"] > 0 and terms["r3"] > 0 and terms["r2"] < 0
    else:
        assert terms["r1"] == 0 and terms["g_style_b"] == 0
    d_total, d_terms = L.discriminator_losses(model, d, _batch())
    assert torch.isfinite(d_total) and d_terms["d_gp"] >= 0
    model.zero_grad()
    d_total.backward()
    assert all(p.grad is None for p in model.parameters())  # D's loss does not train G
    assert d.cls.weight.grad.abs().sum() > 0


def test_same_domain_exemplar_is_refused():
    batch = _batch()
    batch["y2"] = batch["y1"].clone()
    model, d = LOMIT(LOMITConfig(**TINY)), StarGANDiscriminator(16, 3, 4, 3)
    with pytest.raises(ValueError, match="another domain"):
        L.generator_losses(model, d, batch)
    with pytest.raises(ValueError, match="another domain"):
        L.discriminator_losses(model, d, batch)


def test_gradient_penalty_hand_computed():
    from maskstyle.gan.losses import gradient_penalty

    w = torch.tensor([3.0, 4.0])  # linear critic: grad = w, ||w|| = 5
    critic = lambda x: (x * w).sum(dim=1)  # noqa: E731
    gp = gradient_penalty(critic, torch.zeros(4, 2), torch.ones(4, 2), weight=10.0)
    assert float(gp) == pytest.approx(10 * (5 - 1) ** 2)
