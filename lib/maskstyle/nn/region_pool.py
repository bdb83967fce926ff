"""Region-wise average pooling: one style vector per semantic region (SEAN, Zhu et al. 2020;
the harmonized regional style transfer paper, Section 3.1).

A style encoder's feature map ``F [B, C, H, W]`` becomes a *style matrix* ``ST [B, K, C]``:
row ``k`` is the mean of ``F`` over the pixels of region ``k`` of the label map,

    ST_{b,k,c} = 1/N_{b,k} sum_{i : M_b(i) = k} F_{b,c}(i),     N_{b,k} = |{i : M_b(i) = k}|,

and a region with no pixels gets the zero vector (SEAN's convention: an absent region has
no style; the generator then uses its SPADE branch alone there). The label map is resized
to the features once, nearest neighbour (labels are categories, never averaged). All regions
are pooled in one batched product (the mean of :func:`maskstyle.nn.region_stats.region_mean_std`
without its second pass); no Python loop over regions.
"""

from __future__ import annotations

import torch

from maskstyle.nn.masks import check_label_map, resize_labels
from maskstyle.nn.region_stats import check_feature_map, region_weights


def region_average_pool(
    features: torch.Tensor, labels: torch.Tensor, num_regions: int
) -> torch.Tensor:
    """``[B, num_regions, C]``: the mean of ``features [B, C, H, W]`` over each region of
    ``labels`` (int64 ``[B, H', W']``, resized to ``H x W`` by nearest neighbour); zeros for
    a region with no pixels. Differentiable in ``features``."""
    check_feature_map(features, "features")
    check_label_map(labels, name="labels")
    if isinstance(num_regions, bool) or not isinstance(num_regions, int) or num_regions < 1:
        raise ValueError(f"num_regions must be a positive int, got {num_regions!r}")
    if labels.shape[0] != features.shape[0]:
        raise ValueError(
            f"labels hold {labels.shape[0]} maps but features {features.shape[0]} samples; "
            "pass one label map per image"
        )
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_regions):
        raise ValueError(
            f"labels must lie in [0, {num_regions}) for num_regions={num_regions}, got "
            f"[{int(labels.min())}, {int(labels.max())}]; raise num_regions or fix the map"
        )
    labels = resize_labels(labels, tuple(features.shape[-2:]))
    weights = region_weights(labels, num_regions).to(features.dtype)  # [B, K, HW]
    counts = weights.sum(-1, keepdim=True)  # [B, K, 1]
    sums = torch.bmm(weights, features.flatten(2).transpose(1, 2))  # [B, K, C]
    return sums / counts.clamp_min(1.0)  # absent regions: 0 / 1 = 0
