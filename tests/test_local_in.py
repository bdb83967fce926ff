"""LocalIN (LRNet Eq. 3 / Algorithm 1) against a per-region loop, and AdaIN as its 1-region case."""

from __future__ import annotations

import pytest
import torch

from maskstyle.nn.local_in import local_in
from maskstyle.nn.stats import adain


def algorithm_1_loop(feat_a, feat_b, mask_a, mask_b, eps=1e-5):
    """Algorithm 1 written literally: per sample, per region, per channel."""
    out = feat_a.clone().double()
    for b in range(feat_a.shape[0]):
        for k in torch.unique(mask_a[b]).tolist():
            in_a, in_b = mask_a[b] == k, mask_b[b] == k
            if not in_b.any():
                continue
            for c in range(feat_a.shape[1]):
                va, vb = feat_a[b, c][in_a].double(), feat_b[b, c][in_b].double()
                mu_a, mu_b = va.mean(), vb.mean()
                sd_a = (((va - mu_a) ** 2).mean() + eps).sqrt()
                sd_b = (((vb - mu_b) ** 2).mean() + eps).sqrt()
                out[b, c][in_a] = (va - mu_a) / sd_a * sd_b + mu_b
    return out


def test_local_in_matches_algorithm_1_loop():
    g = torch.Generator().manual_seed(1)
    feat_a = torch.randn(2, 4, 10, 8, generator=g) * 2 + 1
    feat_b = torch.randn(2, 4, 6, 12, generator=g) * 0.5 - 3  # B at another size
    mask_a = torch.randint(0, 5, (2, 10, 8), generator=g)
    mask_b = torch.randint(0, 4, (2, 6, 12), generator=g)  # region 4 missing in every B
    out = local_in(feat_a, feat_b, mask_a, mask_b)
    ref = algorithm_1_loop(feat_a, feat_b, mask_a, mask_b)
    torch.testing.assert_close(out.double(), ref, atol=1e-5, rtol=1e-5)
    # region 4 exists in A but not in B: left unchanged (documented behaviour)
    sel = (mask_a == 4)[:, None].expand_as(feat_a)
    assert sel.any() and torch.equal(out[sel], feat_a[sel])


def test_single_region_equals_adain():
    feat_a, feat_b = torch.randn(2, 8, 6, 6), torch.randn(2, 8, 5, 7) * 3 + 2
    ones_a = torch.zeros(2, 6, 6, dtype=torch.long)
    ones_b = torch.zeros(2, 5, 7, dtype=torch.long)
    torch.testing.assert_close(local_in(feat_a, feat_b, ones_a, ones_b), adain(feat_a, feat_b))


def test_region_statistics_are_transferred():
    g = torch.Generator().manual_seed(2)
    feat_a, feat_b = torch.randn(1, 3, 16, 16, generator=g), torch.randn(1, 3, 16, 16, generator=g)
    mask = torch.zeros(1, 16, 16, dtype=torch.long)
    mask[:, 4:10, 5:12] = 2
    feat_b = feat_b + 5 * (mask == 2)[:, None]  # B's "nose" much brighter
    out = local_in(feat_a, feat_b, mask, mask, regions=[2])
    nose = mask[0] == 2
    torch.testing.assert_close(out[0][:, nose].mean(1), feat_b[0][:, nose].mean(1))
    torch.testing.assert_close(
        out[0][:, nose].std(1, unbiased=False),
        feat_b[0][:, nose].std(1, unbiased=False),
        atol=1e-4,
        rtol=1e-4,
    )
    assert torch.equal(out[0][:, ~nose], feat_a[0][:, ~nose])  # unselected regions untouched


def test_local_in_is_differentiable_and_deterministic():
    feat_a = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    feat_b = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    mask = torch.arange(25).reshape(1, 5, 5) % 3
    torch.autograd.gradcheck(lambda a, b: local_in(a, b, mask, mask), (feat_a, feat_b))
    assert torch.equal(local_in(feat_a, feat_b, mask, mask), local_in(feat_a, feat_b, mask, mask))


def test_missing_region_raise_and_bad_inputs():
    feat = torch.randn(1, 3, 8, 8)
    mask_a = torch.zeros(1, 8, 8, dtype=torch.long)
    mask_a[:, :2] = 3
    mask_b = torch.zeros(1, 8, 8, dtype=torch.long)
    with pytest.raises(ValueError, match="region 3 is present in A"):
        local_in(feat, feat, mask_a, mask_b, missing="raise")
    # empty selection: nothing to transfer, features returned unchanged
    assert torch.equal(local_in(feat, feat * 2, mask_a, mask_b, regions=[]), feat)
    with pytest.raises(ValueError, match="resize_labels"):
        local_in(feat, feat, mask_a[:, :4], mask_b)
    with pytest.raises(ValueError, match="share batch and channels"):
        local_in(feat, feat[:, :2], mask_a, mask_b)
    with pytest.raises(ValueError, match="outside the label range"):
        local_in(feat, feat, mask_a, mask_b, regions=[7])
    with pytest.raises(ValueError, match="missing must be"):
        local_in(feat, feat, mask_a, mask_b, missing="ignore")
