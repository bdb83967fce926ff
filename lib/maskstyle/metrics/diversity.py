"""Regional diversity of multi-modal synthesis: mCSD and mOCD (GroupDNet, Zhu et al. 2020;
the harmonized regional style transfer paper, Section 4.1 and Table 4).

For one label map, ``N`` results ``x_1..x_N`` are generated with ``N`` random styles of one
region (the paper: 10). With ``m`` the region's mask and ``d`` a perceptual distance
(LPIPS in the papers):

    CSD = 2 / (N (N - 1)) sum_{i<j} d(x_i * m,       x_j * m)          (inside the region)
    OCD = 2 / (N (N - 1)) sum_{i<j} d(x_i * (1 - m), x_j * (1 - m))    (everything else)

as GroupDNet computes them (the other part of the image blacked out); mCSD / mOCD are the
means over label maps. A good regional editor has high mCSD (the region varies) and low
mOCD (the rest stays put). All pairs of all images go through ``d`` in one batch; a
distance with ``features``/``distance`` methods (:class:`~maskstyle.metrics.
inception_perceptual.InceptionPerceptual`) computes each image's features once.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from maskstyle.metrics._checks import region_mask

Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def l1_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per image pair ``[P]`` (a simple, weight-free ``d``)."""
    return (a - b).abs().flatten(1).mean(1)


def _check_samples(samples: torch.Tensor) -> None:
    if not isinstance(samples, torch.Tensor) or samples.dim() != 5 or samples.shape[2] != 3:
        got = tuple(samples.shape) if isinstance(samples, torch.Tensor) else type(samples).__name__
        raise ValueError(f"samples must be [B, N, 3, H, W] (N results per label map), got {got}")
    if samples.shape[1] < 2:
        raise ValueError(
            f"diversity needs at least 2 samples per label map, got {samples.shape[1]}"
        )


def pairwise_diversity(
    samples: torch.Tensor, region: torch.Tensor, distance: Distance | None = None
) -> torch.Tensor:
    """``[B]``: the mean distance over all pairs ``i < j`` of ``samples [B, N, 3, H, W]``
    with everything outside the bool ``region [B, H, W]`` set to 0."""
    _check_samples(samples)
    b, n, _, h, w = samples.shape
    if region.dtype != torch.bool or region.shape != (b, h, w):
        raise ValueError(
            f"region must be a bool mask [{b}, {h}, {w}] (one per label map, at image size), "
            f"got {region.dtype} {tuple(region.shape)}"
        )
    distance = l1_distance if distance is None else distance
    masked = samples * region[:, None, None].to(samples)
    pairs = torch.combinations(torch.arange(n), 2)  # [P, 2], i < j
    if hasattr(distance, "features") and hasattr(distance, "distance"):
        feats = distance.features(masked.flatten(0, 1))  # each image once
        feats = [f.view(b, n, *f.shape[1:]) for f in feats]
        fa = [f[:, pairs[:, 0]].flatten(0, 1) for f in feats]
        fb = [f[:, pairs[:, 1]].flatten(0, 1) for f in feats]
        values = distance.distance(fa, fb)
    else:
        values = distance(
            masked[:, pairs[:, 0]].flatten(0, 1), masked[:, pairs[:, 1]].flatten(0, 1)
        )
    return values.view(b, len(pairs)).mean(1)


def mcsd_mocd(
    samples: torch.Tensor,
    labels: torch.Tensor,
    region: int | str | list[int | str],
    distance: Distance | None = None,
) -> dict[str, float]:
    """``{"mcsd": ..., "mocd": ...}`` for results ``[B, N, 3, H, W]`` whose ``region`` (label
    id/name or a list, e.g. ``["skin", "nose"]``) was re-styled; ``labels [B, H, W]``."""
    _check_samples(samples)
    inside = region_mask(labels, region)
    if inside.shape != (samples.shape[0], *samples.shape[-2:]):
        raise ValueError(
            f"labels {tuple(labels.shape)} must be [B, H, W] matching samples "
            f"{tuple(samples.shape)}"
        )
    empty = ~inside.flatten(1).any(1)
    if empty.any():
        raise ValueError(
            f"region {region!r} has no pixels in label map(s) {empty.nonzero()[:, 0].tolist()}; "
            "evaluate only label maps that contain the region"
        )
    csd = pairwise_diversity(samples, inside, distance)
    ocd = pairwise_diversity(samples, ~inside, distance)
    return {"mcsd": float(csd.mean()), "mocd": float(ocd.mean())}


__all__ = ["l1_distance", "mcsd_mocd", "pairwise_diversity"]
