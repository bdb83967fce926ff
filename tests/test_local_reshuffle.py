"""Local reshuffle (LRNet Eq. 4 / Algorithm 2) against brute-force nearest neighbours."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from maskstyle.nn.local_reshuffle import coords_at, local_reshuffle, reshuffle_index
from maskstyle.nn.patch_swap import patch_swap


def brute_force(feat_a, feat_b, mask_a, mask_b, coords_a=None, coords_b=None, k=3, weight=1.0):
    """Algorithm 2 literally: for each position of A, scan every same-region patch of B."""
    if coords_a is not None:
        scale = weight * feat_b.norm(dim=1).mean(dim=(1, 2)).view(-1, 1, 1, 1)
        match_a = torch.cat([feat_a, coords_a * scale], 1)
        match_b = torch.cat([feat_b, coords_b * scale], 1)
    else:
        match_a, match_b = feat_a, feat_b
    h = k // 2
    pa = F.pad(match_a, (h, h, h, h)).double()
    pb = F.pad(match_b, (h, h, h, h)).double()
    out = feat_a.clone()
    for b in range(feat_a.shape[0]):
        for y in range(feat_a.shape[2]):
            for x in range(feat_a.shape[3]):
                region = mask_a[b, y, x]
                best, best_score = None, -float("inf")
                for v in range(feat_b.shape[2]):
                    for u in range(feat_b.shape[3]):
                        if mask_b[b, v, u] != region:
                            continue
                        patch_b = pb[b, :, v : v + k, u : u + k]
                        score = (pa[b, :, y : y + k, x : x + k] * patch_b).sum() / patch_b.norm()
                        if score > best_score:
                            best, best_score = (v, u), score
                if best is not None:
                    out[b, :, y, x] = feat_b[b, :, best[0], best[1]]
    return out


def random_case(seed=0, size=(7, 6), size_b=(6, 8)):
    g = torch.Generator().manual_seed(seed)
    feat_a = torch.randn(2, 4, *size, generator=g)
    feat_b = torch.randn(2, 4, *size_b, generator=g)
    mask_a = torch.randint(0, 3, (2, *size), generator=g)
    mask_b = torch.randint(0, 3, (2, *size_b), generator=g)
    return feat_a, feat_b, mask_a, mask_b


def test_local_reshuffle_matches_brute_force():
    feat_a, feat_b, mask_a, mask_b = random_case()
    out = local_reshuffle(feat_a, feat_b, mask_a, mask_b)
    torch.testing.assert_close(out, brute_force(feat_a, feat_b, mask_a, mask_b))


def test_local_reshuffle_with_coords_matches_brute_force():
    feat_a, feat_b, mask_a, mask_b = random_case(seed=3)
    g = torch.Generator().manual_seed(4)
    coords_a = F.normalize(torch.randn(2, 3, 7, 6, generator=g), dim=1)
    coords_b = F.normalize(torch.randn(2, 3, 6, 8, generator=g), dim=1)
    out = local_reshuffle(feat_a, feat_b, mask_a, mask_b, coords_a, coords_b, coord_weight=2.0)
    ref = brute_force(feat_a, feat_b, mask_a, mask_b, coords_a, coords_b, weight=2.0)
    torch.testing.assert_close(out, ref)
    assert not torch.equal(out, local_reshuffle(feat_a, feat_b, mask_a, mask_b))


def test_coordinates_decide_when_features_cannot():
    # Flat features: every patch looks the same, only the 3D coordinates tell them apart.
    g = torch.Generator().manual_seed(5)
    feat = torch.ones(1, 4, 5, 5)
    coords_b = F.normalize(torch.randn(1, 3, 5, 5, generator=g), dim=1)
    perm = torch.randperm(25, generator=g)
    coords_a = coords_b.flatten(2)[:, :, perm].view(1, 3, 5, 5)
    mask = torch.zeros(1, 5, 5, dtype=torch.long)
    index = reshuffle_index(feat, feat, mask, mask, coords_a, coords_b, patch_size=1)
    assert torch.equal(index[0], perm)


def test_average_reconstruction_equals_region_patch_swap():
    feat_a, feat_b, mask_a, mask_b = random_case(seed=1, size=(8, 8), size_b=(8, 8))
    mask_b[0][mask_b[0] == 2] = 1  # region 2 absent from B's sample 0: both keep A there
    out = local_reshuffle(feat_a, feat_b, mask_a, mask_b, reconstruction="average")
    ref = patch_swap(feat_a, feat_b, 3, 1, content_mask=mask_a, style_mask=mask_b)
    torch.testing.assert_close(out, ref)
    single = torch.zeros_like(mask_a)
    out = local_reshuffle(feat_a, feat_b, single, single, reconstruction="average")
    torch.testing.assert_close(out, patch_swap(feat_a, feat_b))


def test_regions_and_missing_regions_keep_a():
    feat_a, feat_b, mask_a, mask_b = random_case(seed=2)
    mask_b[mask_b == 2] = 0  # region 2: in A, not in B
    out = local_reshuffle(feat_a, feat_b, mask_a, mask_b, regions=[1, 2])
    keep = (mask_a != 1)[:, None].expand_as(feat_a)
    assert torch.equal(out[keep], feat_a[keep])
    assert not torch.equal(out[~keep], feat_a[~keep])
    with pytest.raises(ValueError, match="region 2 is present in A"):
        local_reshuffle(feat_a, feat_b, mask_a, mask_b, missing="raise")


def test_gradient_flows_to_b_and_result_is_deterministic():
    feat_a, feat_b, mask_a, mask_b = random_case(seed=6)
    feat_b.requires_grad_(True)
    out = local_reshuffle(feat_a, feat_b, mask_a, mask_b)
    out.sum().backward()
    assert feat_b.grad is not None and feat_b.grad.sum() > 0
    assert torch.equal(out, local_reshuffle(feat_a, feat_b, mask_a, mask_b))


def test_coords_at_resizes_onto_the_sphere():
    coords = F.normalize(torch.randn(1, 3, 8, 8), dim=1)
    coords[:, :, :2] = 0  # no face there
    small = coords_at(coords, (4, 4))
    norms = small.norm(dim=1)
    assert small.shape == (1, 3, 4, 4) and torch.allclose(norms[:, 1:], torch.ones(1, 3, 4))
    assert torch.equal(norms[:, 0], torch.zeros(1, 4))


def test_bad_inputs_name_the_problem():
    feat_a, feat_b, mask_a, mask_b = random_case()
    coords_a, coords_b = torch.zeros(2, 3, 7, 6), torch.zeros(2, 3, 6, 8)
    with pytest.raises(ValueError, match="coords_at"):
        local_reshuffle(feat_a, feat_b, mask_a, mask_b, coords_a[..., :3], coords_b)
    with pytest.raises(ValueError, match="or for neither"):
        local_reshuffle(feat_a, feat_b, mask_a, mask_b, coords_a, None)
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        local_reshuffle(feat_a, feat_b, mask_a, mask_b, coords_a[:, :2], coords_b)
    with pytest.raises(ValueError, match="resize_labels"):
        local_reshuffle(feat_a, feat_b, mask_a[:, :3], mask_b)
    with pytest.raises(ValueError, match="odd"):
        local_reshuffle(feat_a, feat_b, mask_a, mask_b, patch_size=2)
    with pytest.raises(ValueError, match="reconstruction must be"):
        local_reshuffle(feat_a, feat_b, mask_a, mask_b, reconstruction="median")
    with pytest.raises(ValueError, match="num_regions"):
        local_reshuffle(feat_a, feat_b, mask_a, mask_b, num_regions=2)
    with pytest.raises(ValueError, match="share batch and channels"):
        local_reshuffle(feat_a, feat_b[:, :3], mask_a, mask_b)
