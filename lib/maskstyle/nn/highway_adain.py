"""Highway adaptive instance normalisation (HAdaIN; LOMIT, Yang et al. 2018, Section 3.2).

AdaIN restyles a whole content feature map with one style's affine parameters. LOMIT
translates only the attribute's region (e.g. the hair) and keeps the rest: its content
feature ``c`` is normalised once and then modulated by two AdaINs, one with the
foreground style's parameters inside the soft mask ``m`` and one with the background
style's outside it, like a highway network's gated mix (Eqs. 3-4):

    HAdaIN(c, m) = m * (gamma_f * norm(c) + beta_f) + (1 - m) * (gamma_b * norm(c) + beta_b)

where ``norm(c) = (c - mu(c)) / sigma(c)`` is instance normalisation over the spatial axes
(:func:`maskstyle.nn.stats.mean_std`: biased variance, eps 1e-5 inside the square root), and
``gamma``/``beta`` come from MLPs on the foreground and background style codes (LOMIT's
MLPs output a mean and a log-variance, ``gamma = exp(0.5 * logvar)``; that mapping lives in
the model, this function takes gamma and beta as they are).

With an all-ones mask HAdaIN is AdaIN with the foreground parameters, with an all-zeros
mask AdaIN with the background ones.
"""

from __future__ import annotations

import torch

from maskstyle.nn.region_stats import check_feature_map
from maskstyle.nn.stats import EPS, mean_std


def instance_norm(content: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """``(c - mu(c)) / sigma(c)`` per sample and channel (no affine parameters)."""
    mean, std = mean_std(content, eps)
    return (content - mean) / std


def highway_adain(
    content: torch.Tensor,
    mask: torch.Tensor,
    fg_gamma: torch.Tensor,
    fg_beta: torch.Tensor,
    bg_gamma: torch.Tensor,
    bg_beta: torch.Tensor,
    eps: float = EPS,
) -> torch.Tensor:
    """HAdaIN (LOMIT Eqs. 3-4): ``content [B, C, H, W]``, soft ``mask [B, 1, H, W]`` in
    [0, 1] at the content's size, ``gamma``/``beta`` ``[B, C]``; returns ``[B, C, H, W]``."""
    check_feature_map(content, "content")
    b, c, h, w = content.shape
    if not isinstance(mask, torch.Tensor) or mask.dim() != 4 or mask.shape[1] != 1:
        shape = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ValueError(f"mask must be a soft mask [B, 1, H, W], got {shape}")
    if mask.shape[0] != b or mask.shape[-2:] != content.shape[-2:]:
        raise ValueError(
            f"mask {tuple(mask.shape)} does not match content {tuple(content.shape)}: resize "
            "the mask to the content's size (F.interpolate(mask, size=content.shape[-2:], "
            "mode='bilinear'))"
        )
    if not mask.dtype.is_floating_point:
        raise TypeError(f"mask must be a float soft mask in [0, 1], got {mask.dtype}")
    for name, value in (("fg_gamma", fg_gamma), ("fg_beta", fg_beta),
                        ("bg_gamma", bg_gamma), ("bg_beta", bg_beta)):
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != (b, c):
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value)
            raise ValueError(f"{name} must be [B, C] = {(b, c)}, got {shape}")
    normed = instance_norm(content, eps)  # norm(c), shared by both branches
    fg = fg_gamma[..., None, None] * normed + fg_beta[..., None, None]  # Eq. 3, foreground AdaIN
    bg = bg_gamma[..., None, None] * normed + bg_beta[..., None, None]  # Eq. 3, background AdaIN
    return mask * fg + (1 - mask) * bg  # Eq. 4, the highway mix
