"""LRNet losses (Eqs. 5-9) on hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from maskstyle.models.lrnet.losses import (
    LAMBDAS,
    composite_regions,
    cycle_loss,
    gradient_loss,
    laplacian,
    local_style_loss,
    reconstruction_loss,
    total_loss,
)


def toy_features(x):
    """A 'VGG' whose layers are the image and its 2x2 average: easy to compute by hand."""
    return {"relu1_1": x, "relu2_1": F.avg_pool2d(x, 2)}


def test_cycle_loss_hand_case():
    x_a = torch.zeros(1, 3, 2, 2)
    x_cycle = x_a.clone()
    x_cycle[0, 0, 0, 0], x_cycle[0, 2, 1, 1] = 0.4, -0.2
    assert cycle_loss(x_a, x_cycle).item() == pytest.approx(0.6 / 4)


def test_reconstruction_loss_hand_case():
    fg = torch.zeros(1, 4, 4, dtype=torch.bool)
    fg[:, :, :2] = True  # left half: foreground (8 pixels), right half background (8)
    x_a, x_b = torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    out = torch.full((1, 3, 4, 4), 0.5)
    # background: 8 px * 3 ch * 0.25 / 8 px = 0.75
    # relu1_1: 0.25 per (fg px, channel) -> 0.25; relu2_1: pooled fg column 1 vs 0.5 -> 0.25
    expected = 0.75 + 0.2 * (0.25 + 0.25)
    got = reconstruction_loss(out, x_a, x_b, fg, toy_features)
    assert got.item() == pytest.approx(expected)
    assert reconstruction_loss(out, x_a, x_b, fg, toy_features, alpha=0.0).item() == 0.75


def test_laplacian_and_gradient_loss_hand_case():
    x_a = torch.zeros(1, 3, 5, 5)
    x_a[0, 0, 2, 2] = 1.0  # one bright pixel in one channel
    lap = laplacian(x_a)
    assert lap[0, 0, 2, 2] == -4 and lap[0, 0, 1, 2] == 1 and lap[0, 0].abs().sum() == 8
    zeros = torch.zeros_like(x_a)
    everywhere = torch.ones(1, 5, 5, dtype=torch.bool)
    centre = torch.zeros(1, 5, 5, dtype=torch.bool)
    centre[0, 2, 2] = True
    # fg everywhere: |lap(A)| sums to 8 over 25 pixels; fg = centre pixel only: |-4| / 25
    assert gradient_loss(zeros, x_a, zeros, everywhere).item() == pytest.approx(8 / 25)
    assert gradient_loss(zeros, x_a, zeros, centre).item() == pytest.approx(4 / 25)
    # an output that is A inside, B outside has zero gradient loss when A = B + constant
    assert gradient_loss(x_a + 0.3, x_a + 0.3, x_a, centre).item() == pytest.approx(0, abs=1e-6)


def test_local_style_loss_hand_case():
    regions = torch.tensor([[[0, 1], [0, 1]]])  # left column region 0, right column region 1
    x_b = torch.tensor([[[0.0, 2.0], [1.0, 2.0]]]).expand(1, 3, 2, 2)
    out = torch.tensor([[[0.5, 2.0], [0.5, 2.0]]]).expand(1, 3, 2, 2)
    ident = lambda x: {"relu1_1": x}  # noqa: E731
    # region 0: same mean, std sqrt(0.25 + eps) vs sqrt(eps); region 1 identical
    eps = 1e-5
    per_channel = 2.0 * (math.sqrt(0.25 + eps) - math.sqrt(eps))
    expected = 3 * per_channel / (2 * 3)  # K = 2 regions, C = 3 channels
    got = local_style_loss(out, x_b, regions, regions, ident, num_regions=10)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    # a region present only in the output does not count (K = regions present in both)
    only_b = torch.zeros_like(regions)
    got = local_style_loss(out, x_b, regions, only_b, ident, num_regions=10)
    # B's only region 0 holds {0, 2, 1, 2}: mean 1.25, biased variance 0.6875
    expected = abs(0.5 - 1.25) + 2.0 * abs(math.sqrt(eps) - math.sqrt(0.6875 + eps))
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_total_loss_weights_are_the_papers():
    assert tuple(LAMBDAS) == (3.0, 20.0, 100.0, 0.35)
    ones = {k: torch.tensor(1.0) for k in ("rec", "cycle", "grad", "style")}
    assert total_loss(ones).item() == pytest.approx(123.35)
    with pytest.raises(KeyError, match="missing"):
        total_loss({"rec": torch.tensor(1.0)})


def test_composite_regions_and_bad_masks():
    ra, rb = torch.full((1, 4, 4), 2), torch.full((1, 4, 4), 8)
    fg = torch.zeros(1, 4, 4, dtype=torch.bool)
    fg[:, 1:3, 1:3] = True
    comp = composite_regions(ra, rb, fg)
    assert comp[0, 1, 1] == 2 and comp[0, 0, 0] == 8
    img = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="empty"):
        gradient_loss(img, img, img, torch.zeros_like(fg))
    with pytest.raises(ValueError, match="at the image size"):
        reconstruction_loss(img, img, img, fg[:, :2], toy_features)
