"""Channel statistics of feature maps and adaptive instance normalisation (AdaIN).

Instance statistics over the spatial axes, as in pytorch-AdaIN:

    mu(F)_c = 1/(HW) sum_{h,w} F_{c,h,w},
    sigma(F)_c = sqrt( 1/(HW) sum_{h,w} (F_{c,h,w} - mu_c)^2 + eps ),   eps = 1e-5

(the biased variance, with eps inside the square root), and

    AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)      (Huang & Belongie 2017, Eq. 8)
"""

from __future__ import annotations

import torch

EPS = 1e-5


def mean_std(feat: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std of ``feat [B, C, H, W]``, each ``[B, C, 1, 1]``."""
    if feat.dim() != 4:
        raise ValueError(f"feat must be [B, C, H, W], got shape {tuple(feat.shape)}")
    mean = feat.mean(dim=(2, 3), keepdim=True)
    var = feat.var(dim=(2, 3), keepdim=True, unbiased=False)
    return mean, (var + eps).sqrt()


def adain(content: torch.Tensor, style: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """AdaIN: give ``content [B, C, H, W]`` the channel mean/std of ``style [B, C, H', W']``."""
    if content.shape[:2] != style.shape[:2]:
        raise ValueError(
            f"content and style must share batch and channels, got {tuple(content.shape)} "
            f"and {tuple(style.shape)}"
        )
    c_mean, c_std = mean_std(content, eps)
    s_mean, s_std = mean_std(style, eps)
    return (content - c_mean) / c_std * s_std + s_mean
