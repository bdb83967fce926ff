"""LocalIN: local instance normalisation (LRNet, Zheng et al. 2020, Section 4.1).

AdaIN gives a whole feature map the channel statistics of another. A face blend needs the
transfer *per semantic region*: the nose of A should take the lighting and tone of B's
nose, the skin of A those of B's skin. LocalIN does exactly that. For every region ``k``
present in both images and every channel ``c`` (Eq. 3, Algorithm 1):

    F_n(x_A^k, i, c) = (F(x_A^k, i, c) - mu(x_A^k, c)) / sigma(x_A^k, c) * sigma(x_B^k, c)
                       + mu(x_B^k, c)

with mean and (biased) standard deviation taken over the pixels of region ``k`` in each
image (:func:`maskstyle.nn.region_stats.region_mean_std`, ``eps`` inside the square root as
in AdaIN; Algorithm 1 writes none). Written as a per-region affine map
``F_n = F * s_k + t_k`` with ``s_k = sigma_B / sigma_A`` and ``t_k = mu_B - mu_A s_k``, all
regions are normalised in one gather - no Python loop over regions.

With a single region covering both images LocalIN is AdaIN
(:func:`maskstyle.nn.stats.adain`).

Regions missing in either image are left unchanged (``s = 1, t = 0``): a region of A
that B lacks has no statistics to take. Pass ``missing="raise"`` to make that an error
instead. Regions of B that A lacks are simply unused.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from maskstyle.nn.region_stats import broadcast_regions, check_feature_mask, region_mean_std
from maskstyle.nn.stats import EPS


def num_regions_of(*masks: torch.Tensor) -> int:
    """Smallest ``K`` that indexes every label in ``masks`` (max label + 1)."""
    return max(int(m.max()) + 1 if m.numel() else 1 for m in masks)


def active_regions(
    present_a: torch.Tensor,
    present_b: torch.Tensor,
    regions: Sequence[int] | None,
    missing: str,
    layer: str,
) -> torch.Tensor:
    """``[B, K]`` bool: regions to transfer (present in both, and selected).

    ``missing="raise"`` turns a selected region present in A but absent from B into a
    ``ValueError`` naming the region and the sample.
    """
    if missing not in ("keep", "raise"):
        raise ValueError(f"missing must be 'keep' or 'raise', got {missing!r}")
    k = present_a.shape[1]
    selected = torch.ones(k, dtype=torch.bool, device=present_a.device)
    if regions is not None:
        regions = [int(r) for r in regions]
        bad = [r for r in regions if not 0 <= r < k]
        if bad:
            raise ValueError(f"regions {bad} are outside the label range [0, {k})")
        selected = torch.zeros_like(selected)
        selected[regions] = True
    orphans = present_a & ~present_b & selected
    if missing == "raise" and bool(orphans.any()):
        b, r = (int(v) for v in orphans.nonzero()[0])
        raise ValueError(
            f"{layer}: region {r} is present in A (sample {b}) but has no pixels in B; "
            "leave it unchanged with missing='keep', drop it from `regions`, or pick a "
            "pair whose masks share the region"
        )
    return present_a & present_b & selected


def local_in(
    feat_a: torch.Tensor,
    feat_b: torch.Tensor,
    mask_a: torch.Tensor,
    mask_b: torch.Tensor,
    eps: float = EPS,
    *,
    regions: Sequence[int] | None = None,
    num_regions: int | None = None,
    missing: str = "keep",
) -> torch.Tensor:
    """LocalIN (Eq. 3): give each region of ``feat_a`` the channel statistics of B's region.

    ``feat_a [B, C, H, W]`` and ``feat_b [B, C, H', W']`` are features of the two images,
    ``mask_a [B, H, W]`` / ``mask_b [B, H', W']`` int64 label maps at those resolutions
    (resize with :func:`maskstyle.nn.masks.resize_labels`). ``regions`` restricts the
    transfer to some labels (default: all); ``num_regions`` defaults to the largest label
    + 1. Regions absent from either image are left unchanged (``missing="keep"``) or raise
    (``missing="raise"``). Returns a tensor shaped like ``feat_a``; differentiable.
    """
    check_feature_mask(feat_a, mask_a, "feat_a")
    check_feature_mask(feat_b, mask_b, "feat_b")
    if feat_a.shape[:2] != feat_b.shape[:2]:
        raise ValueError(
            f"feat_a and feat_b must share batch and channels, got {tuple(feat_a.shape)} "
            f"and {tuple(feat_b.shape)}"
        )
    k = num_regions if num_regions is not None else num_regions_of(mask_a, mask_b)
    stats_a = region_mean_std(feat_a, mask_a, k, eps)
    stats_b = region_mean_std(feat_b, mask_b, k, eps)
    active = active_regions(stats_a.present, stats_b.present, regions, missing, "local_in")
    active = active[..., None].to(feat_a.dtype)  # [B, K, 1]
    scale = stats_b.std / stats_a.std
    shift = stats_b.mean - stats_a.mean * scale
    scale = active * scale + (1 - active)  # identity for inactive regions
    shift = active * shift
    return feat_a * broadcast_regions(scale, mask_a) + broadcast_regions(shift, mask_a)
