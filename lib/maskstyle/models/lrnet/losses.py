"""LRNet's training losses (Zheng et al. 2020, Section 4.5, Eqs. 5-9).

With ``x~`` the blend of ``x_A`` onto ``x_B``, ``fg`` A's blended regions (``M`` pixels)
and ``bg`` the rest (``N`` pixels):

* **Reconstruction** (Eq. 5): the background must be B's, the foreground must look like A
  to a VGG19 (perceptual loss at relu1_1 and relu2_1, weight ``alpha = 0.2``)::

      L_rec = 1/N sum_{bg} ||x_B - x~||^2 + alpha sum_l 1/(M_l C_l) sum_{fg_l}
              ||VGG_l(x_A * fg) - VGG_l(x~ * fg)||^2

* **Cycle consistency** (Eq. 6): blending ``x~`` back onto ``x_A`` returns ``x_A``::

      L_cycle = 1/(N+M) || x_A - LRNet(LRNet(x_A -> x_B) -> x_A) ||_1

* **Gradient consistency** (Eq. 7): inside, the output's gradients are A's, outside B's::

      L_grad = 1/(N+M) || lap(x_A) * fg + lap(x_B) * bg - lap(x~) ||_1

  with ``lap`` the discrete Laplacian (the gradient operator of Deep Image Blending's
  gradient loss, the closest public anchor), replicate padding, per channel.
* **Local style** (Eq. 8): per region ``k`` and relu1_1 channel ``c``, the output's mean
  and std match B's (``beta = 2.0``)::

      L_style = 1/(KC) sum_k sum_c |mu(x_B^k, c) - mu(x~^k, c)|
                                   + beta |sigma(x_B^k, c) - sigma(x~^k, c)|

  over the ``K`` regions present in both (regions of ``x~``: A's inside ``fg``, B's outside).
* **Total** (Eq. 9; the paper prints ``lambda_3`` twice, ``lambda_4`` belongs to the style
  term): ``L = 3.0 L_rec + 20 L_cycle + 100 L_grad + 0.35 L_style``.

Readings of what the paper leaves open: ``||.||_2`` in Eq. 5 is the *squared* norm
(mean squared error); image terms sum over the 3 colour channels and average over pixels;
feature terms average over channels and positions (the mask is resized to each layer by
nearest neighbour); the style term's ``||.||_2`` of a scalar is its absolute value.
Every term is averaged over the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

from maskstyle.nn.masks import resize_labels
from maskstyle.nn.region_stats import region_mean_std

FeatureFn = Callable[[torch.Tensor], dict[str, torch.Tensor]]

ALPHA = 0.2
"""Weight of the perceptual (foreground) part of Eq. 5."""
BETA = 2.0
"""Weight of the std part of Eq. 8."""
PERCEPTUAL_LAYERS = ("relu1_1", "relu2_1")
STYLE_LAYER = "relu1_1"


class LossWeights(NamedTuple):
    """lambda_1..lambda_4 of Eq. 9."""

    rec: float = 3.0
    cycle: float = 20.0
    grad: float = 100.0
    style: float = 0.35


LAMBDAS = LossWeights()


def _check_fg(fg: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    if fg.shape != (image.shape[0], *image.shape[-2:]):
        raise ValueError(
            f"fg {tuple(fg.shape)} must be a [B, H, W] mask at the image size "
            f"{tuple(image.shape[-2:])}"
        )
    empty = ~fg.flatten(1).bool().any(1)
    if bool(empty.any()):
        raise ValueError(
            f"the foreground of sample(s) {empty.nonzero()[:, 0].tolist()} is empty: LRNet "
            "losses need blended pixels (check the masks and the blend regions)"
        )
    return fg.bool()


def composite_regions(
    regions_a: torch.Tensor, regions_b: torch.Tensor, fg: torch.Tensor
) -> torch.Tensor:
    """Region map of the blend ``x~``: A's regions inside ``fg``, B's outside."""
    return torch.where(fg.bool(), regions_a, regions_b)


def reconstruction_loss(
    output: torch.Tensor,
    x_a: torch.Tensor,
    x_b: torch.Tensor,
    fg: torch.Tensor,
    features: FeatureFn,
    alpha: float = ALPHA,
    layers: tuple[str, ...] = PERCEPTUAL_LAYERS,
) -> torch.Tensor:
    """Eq. 5: background MSE to ``x_B`` + ``alpha`` x foreground perceptual loss to ``x_A``."""
    fg = _check_fg(fg, output)
    bg = (~fg)[:, None].to(output.dtype)
    n = bg.flatten(1).sum(1).clamp_min(1.0)
    # Eq. 5, background term: 1/N sum_bg ||x_B - x~||^2  -> [B]
    background = ((x_b - output).square() * bg).flatten(1).sum(1) / n
    m = fg[:, None].to(output.dtype)
    feats_a, feats_out = features(x_a * m), features(output * m)
    perceptual = torch.zeros_like(background)
    for layer in layers:
        fa, fo = feats_a[layer], feats_out[layer]  # [B, C_l, h_l, w_l]
        fg_l = resize_labels(fg.long(), tuple(fa.shape[-2:]))[:, None].to(fa.dtype)
        count = fg_l.flatten(1).sum(1).clamp_min(1.0) * fa.shape[1]  # M_l C_l
        # Eq. 5, foreground term: 1/(M_l C_l) sum_fg ||VGG_l(x_A fg) - VGG_l(x~ fg)||^2
        perceptual = perceptual + ((fa - fo).square() * fg_l).flatten(1).sum(1) / count
    # Eq. 5: background + alpha * perceptual, averaged over the batch
    return (background + alpha * perceptual).mean()


def cycle_loss(x_a: torch.Tensor, x_cycle: torch.Tensor) -> torch.Tensor:
    """Eq. 6: per-pixel L1 (summed over channels) between ``x_A`` and the round trip."""
    # Eq. 6: 1/(N+M) ||x_A - LRNet(LRNet(x_A -> x_B) -> x_A)||_1
    return (x_a - x_cycle).abs().sum(1).mean()


def laplacian(images: torch.Tensor) -> torch.Tensor:
    """Discrete Laplacian ``[[0,1,0],[1,-4,1],[0,1,0]]`` per channel, replicate padding."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    c = images.shape[1]
    kernel = kernel.to(images).expand(c, 1, 3, 3)
    return F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), kernel, groups=c)


def gradient_loss(
    output: torch.Tensor, x_a: torch.Tensor, x_b: torch.Tensor, fg: torch.Tensor
) -> torch.Tensor:
    """Eq. 7: L1 between the output's Laplacian and A's inside ``fg`` / B's outside."""
    m = _check_fg(fg, output)[:, None].to(output.dtype)  # [B, 1, H, W]
    # Eq. 7, the target gradients: lap(x_A) * fg + lap(x_B) * bg
    target = laplacian(x_a) * m + laplacian(x_b) * (1 - m)
    # Eq. 7: 1/(N+M) ||target - lap(x~)||_1
    return (target - laplacian(output)).abs().sum(1).mean()


def local_style_loss(
    output: torch.Tensor,
    x_b: torch.Tensor,
    regions_out: torch.Tensor,
    regions_b: torch.Tensor,
    features: FeatureFn,
    num_regions: int,
    beta: float = BETA,
    layer: str = STYLE_LAYER,
) -> torch.Tensor:
    """Eq. 8: per-region, per-channel |mean| + beta |std| differences at relu1_1."""
    feat_out, feat_b = features(output)[layer], features(x_b)[layer]
    size = tuple(feat_out.shape[-2:])
    stats_out = region_mean_std(feat_out, resize_labels(regions_out, size), num_regions)
    stats_b = region_mean_std(feat_b, resize_labels(regions_b, size), num_regions)
    both = (stats_out.present & stats_b.present)[..., None].to(feat_out.dtype)  # [B, K, 1]
    # Eq. 8, per region k and channel c: |mu(x_B^k, c) - mu(x~^k, c)|
    #                                    + beta |sigma(x_B^k, c) - sigma(x~^k, c)|  -> [B, K, C]
    per_channel = (stats_b.mean - stats_out.mean).abs() + beta * (stats_b.std - stats_out.std).abs()
    k = both.flatten(1).sum(1).clamp_min(1.0)  # K: regions present in both
    # Eq. 8: 1/(KC) sum_k sum_c, over the regions present in both
    return ((per_channel * both).flatten(1).sum(1) / (k * feat_out.shape[1])).mean()


def total_loss(terms: dict[str, torch.Tensor], weights: LossWeights = LAMBDAS) -> torch.Tensor:
    """Eq. 9: ``sum_i lambda_i L_i`` over the terms ``rec``, ``cycle``, ``grad``, ``style``."""
    missing = [name for name in weights._fields if name not in terms]
    if missing:
        raise KeyError(f"total_loss needs the terms {weights._fields}, missing {missing}")
    # Eq. 9: lambda_1 L_rec + lambda_2 L_cycle + lambda_3 L_grad + lambda_4 L_style
    return sum(getattr(weights, name) * terms[name] for name in weights._fields)


def lrnet_losses(
    model: torch.nn.Module,
    features: FeatureFn,
    x_a: torch.Tensor,
    x_b: torch.Tensor,
    regions_a: torch.Tensor,
    regions_b: torch.Tensor,
    coords_a: torch.Tensor | None = None,
    coords_b: torch.Tensor | None = None,
    weights: LossWeights = LAMBDAS,
    num_regions: int = 10,
) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
    """One LRNet training step's losses: ``(total, terms, x~)``.

    Runs the model twice - ``x~ = LRNet(x_A -> x_B)`` and the cycle ``LRNet(x~ -> x_A)``
    (with ``x~``'s composite regions and coordinates) - and evaluates Eqs. 5-9. ``terms``
    holds the unweighted ``rec``, ``cycle``, ``grad``, ``style`` (and ``total``).
    """
    output = model(x_a, x_b, regions_a, regions_b, coords_a, coords_b)
    fg = model.foreground(regions_a)
    regions_out = composite_regions(regions_a, regions_b, fg)
    coords_out = None
    if coords_a is not None and coords_b is not None:
        coords_out = torch.where(fg[:, None], coords_a, coords_b)
    x_cycle = model(output, x_a, regions_out, regions_a, coords_out, coords_a)
    terms = {
        "rec": reconstruction_loss(output, x_a, x_b, fg, features),
        "cycle": cycle_loss(x_a, x_cycle),
        "grad": gradient_loss(output, x_a, x_b, fg),
        "style": local_style_loss(output, x_b, regions_out, regions_b, features, num_regions),
    }
    total = total_loss(terms, weights)
    terms["total"] = total
    return total, terms, output
