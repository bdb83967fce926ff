"""Per-region channel statistics of feature maps, for all regions in one batched computation.

Regional layers (LRNet's LocalIN, its local style loss, SEAN-style region pooling) need the
mean and standard deviation of every channel *inside* every region of a label map. With
``W_k`` the one-hot indicator of region ``k`` (``[B, K, H, W]``, built by
:func:`maskstyle.nn.masks.one_hot_labels`) and ``N_k = sum_i W_k(i)`` its pixel count:

    mu_{k,c}    = 1/N_k sum_i W_k(i) F_c(i)
    sigma_{k,c} = sqrt( 1/N_k sum_i W_k(i) (F_c(i) - mu_{k,c})^2 + eps ),     eps = 1e-5

These are LRNet's Algorithm 1 statistics (Zheng et al. 2020, Eq. 3; biased variance, with
the same ``eps`` inside the square root as :func:`maskstyle.nn.stats.mean_std`, so a single
region reproduces instance statistics exactly). Both sums are one batched matrix product
``[B, K, HW] @ [B, HW, C]`` over all regions at once - no Python loop over regions - and
the variance is taken around the mean (two passes), not as ``E[x^2] - mu^2``, which loses
precision when ``|mu| >> sigma``.

A region with no pixels (``N_k = 0``) gets mean 0 and std ``sqrt(eps)``; ``counts`` tells
callers which regions exist so they can decide what an absent region means.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from maskstyle.nn.masks import check_label_map, one_hot_labels
from maskstyle.nn.stats import EPS


class RegionStats(NamedTuple):
    """Per-region statistics: ``mean`` and ``std`` are ``[B, K, C]``, ``counts`` ``[B, K]``."""

    mean: torch.Tensor
    std: torch.Tensor
    counts: torch.Tensor

    @property
    def present(self) -> torch.Tensor:
        """``[B, K]`` bool: region ``k`` has at least one pixel in sample ``b``."""
        return self.counts > 0


def check_feature_map(feat: torch.Tensor, name: str = "feat") -> None:
    """Raise a clear error unless ``feat`` is a feature map ``[B, C, H, W]``."""
    if not isinstance(feat, torch.Tensor) or feat.dim() != 4:
        shape = tuple(feat.shape) if isinstance(feat, torch.Tensor) else type(feat).__name__
        raise ValueError(f"{name} must be a feature map [B, C, H, W], got {shape}")


def check_content_style(content: torch.Tensor, style: torch.Tensor) -> None:
    """Raise a clear error unless ``content`` and ``style`` are feature maps of one layer with
    one style per content (same batch size and channels; sizes may differ)."""
    check_feature_map(content, "content")
    check_feature_map(style, "style")
    if content.shape[:2] != style.shape[:2]:
        raise ValueError(
            f"content {tuple(content.shape)} and style {tuple(style.shape)} must share batch "
            "size and channels (features of the same layer, one style per content)"
        )


def check_feature_mask(feat: torch.Tensor, mask: torch.Tensor, name: str = "feat") -> None:
    """Raise a clear error unless ``feat [B, C, H, W]`` and label map ``mask [B, H, W]`` agree."""
    check_feature_map(feat, name)
    check_label_map(mask, name=f"mask for {name}")
    if mask.shape[0] != feat.shape[0] or mask.shape[-2:] != feat.shape[-2:]:
        raise ValueError(
            f"mask for {name} has shape {tuple(mask.shape)} but {name} is {tuple(feat.shape)}: "
            "the label map must be [B, H, W] at the features' resolution - resize it with "
            "maskstyle.nn.masks.resize_labels(mask, feat.shape[-2:])"
        )


def region_weights(mask: torch.Tensor, num_regions: int) -> torch.Tensor:
    """One-hot region indicators ``[B, K, H*W]`` (float) of a label map ``[B, H, W]``."""
    return one_hot_labels(mask, num_regions).flatten(2)


def region_mean_std(
    feat: torch.Tensor, mask: torch.Tensor, num_regions: int, eps: float = EPS
) -> RegionStats:
    """Mean and std of every channel of ``feat [B, C, H, W]`` inside every region of ``mask``.

    ``mask`` is an int64 label map ``[B, H, W]`` at the features' resolution with values in
    ``[0, num_regions)``. Returns :class:`RegionStats` (``mean``/``std`` ``[B, K, C]``,
    ``counts`` ``[B, K]``). Absent regions get mean 0, std ``sqrt(eps)`` and count 0.
    Differentiable in ``feat``.
    """
    check_feature_mask(feat, mask)
    weights = region_weights(mask, num_regions).to(feat.dtype)  # [B, K, N]
    values = feat.flatten(2).transpose(1, 2)  # [B, N, C]
    counts = weights.sum(-1)  # [B, K]
    denom = counts.clamp_min(1.0)[..., None]
    mean = torch.bmm(weights, values) / denom  # [B, K, C]
    centred = values - broadcast_regions(mean, mask).flatten(2).transpose(1, 2)
    var = torch.bmm(weights, centred.square()) / denom
    return RegionStats(mean, (var + eps).sqrt(), counts)


def broadcast_regions(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Paint per-region vectors ``values [B, K, C]`` into their pixels: ``[B, C, H, W]``.

    The inverse of region pooling: pixel ``i`` of sample ``b`` receives
    ``values[b, mask[b, i]]``. One gather, no loop over regions.
    """
    check_label_map(mask)
    if values.dim() != 3 or values.shape[0] != mask.shape[0]:
        raise ValueError(
            f"values must be [B, K, C] with B = {mask.shape[0]}, got {tuple(values.shape)}"
        )
    b, k, c = values.shape
    if mask.numel() and (mask.min() < 0 or mask.max() >= k):
        raise ValueError(
            f"mask labels must lie in [0, {k}) to index {k} regions, "
            f"got [{int(mask.min())}, {int(mask.max())}]"
        )
    h, w = mask.shape[-2:]
    index = mask.reshape(b, 1, h * w).expand(b, c, h * w)
    return values.transpose(1, 2).gather(2, index).reshape(b, c, h, w)
