"""Per-region mean/std against a per-region loop, and the broadcast back to pixels."""

from __future__ import annotations

import pytest
import torch

from maskstyle.nn.region_stats import broadcast_regions, region_mean_std
from maskstyle.nn.stats import mean_std


def loop_reference(feat, mask, k, eps=1e-5):
    b, c = feat.shape[:2]
    mean = torch.zeros(b, k, c, dtype=torch.float64)
    std = torch.full((b, k, c), eps**0.5, dtype=torch.float64)
    for i in range(b):
        for r in range(k):
            sel = mask[i] == r
            if sel.any():
                vals = feat[i][:, sel].double()  # [C, n]
                mean[i, r] = vals.mean(1)
                std[i, r] = (((vals - vals.mean(1, keepdim=True)) ** 2).mean(1) + eps).sqrt()
    return mean, std


def test_region_mean_std_matches_loop():
    g = torch.Generator().manual_seed(0)
    feat = torch.randn(2, 5, 9, 7, generator=g) * 3 + 10
    mask = torch.randint(0, 4, (2, 9, 7), generator=g)
    mask[1][mask[1] == 2] = 3  # region 2 absent from sample 1
    stats = region_mean_std(feat, mask, num_regions=5)
    ref_mean, ref_std = loop_reference(feat, mask, 5)
    torch.testing.assert_close(stats.mean.double(), ref_mean, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(stats.std.double(), ref_std, atol=1e-5, rtol=1e-5)
    assert stats.present[1].tolist() == [True, True, False, True, False]
    assert stats.counts.sum(1).tolist() == [63.0, 63.0]


def test_single_region_is_instance_statistics():
    feat = torch.randn(3, 4, 6, 6)
    stats = region_mean_std(feat, torch.zeros(3, 6, 6, dtype=torch.long), 1)
    mean, std = mean_std(feat)
    torch.testing.assert_close(stats.mean[:, 0], mean[..., 0, 0])
    torch.testing.assert_close(stats.std[:, 0], std[..., 0, 0])


def test_region_mean_std_is_differentiable():
    feat = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.arange(16).reshape(1, 4, 4) % 3
    torch.autograd.gradcheck(lambda f: region_mean_std(f, mask, 3).std, (feat,))


def test_broadcast_regions_paints_pixels():
    values = torch.tensor([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]])  # [1, K=3, C=2]
    mask = torch.tensor([[[0, 2], [1, 1]]])
    out = broadcast_regions(values, mask)
    assert out.shape == (1, 2, 2, 2)
    assert out[0, 0].tolist() == [[1.0, 3.0], [2.0, 2.0]]
    assert out[0, 1].tolist() == [[10.0, 30.0], [20.0, 20.0]]


def test_bad_inputs_name_the_problem():
    feat = torch.randn(1, 3, 8, 8)
    with pytest.raises(ValueError, match="resize_labels"):
        region_mean_std(feat, torch.zeros(1, 4, 4, dtype=torch.long), 2)
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        region_mean_std(feat[0], torch.zeros(1, 8, 8, dtype=torch.long), 2)
    with pytest.raises(TypeError, match="integer labels"):
        region_mean_std(feat, torch.zeros(1, 8, 8), 2)
    with pytest.raises(ValueError, match="must lie in"):
        region_mean_std(feat, torch.full((1, 8, 8), 5), 2)
    with pytest.raises(ValueError, match="must lie in"):
        broadcast_regions(torch.zeros(1, 2, 3), torch.full((1, 4, 4), 2))
