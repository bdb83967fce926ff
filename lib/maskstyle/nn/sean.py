"""SEAN: semantic region-adaptive normalisation (Zhu et al. 2020, Eqs. 1-3; the SEAN block
used as decoder by the harmonized regional style transfer paper, Section 3.3).

Given an activation ``h [B, C, H, W]``, a label map ``m`` and a style matrix
``ST [B, K, D]`` (one style code per region, from
:func:`maskstyle.nn.region_average_pool`), as in the official ``ACE`` module:

1. per-channel learned noise: ``h' = h + n * w_noise`` with one ``N(0, 1)`` value per pixel
   shared by all channels and scaled per channel (``w_noise`` starts at 0);
2. a parameter-free normalisation ``x_hat = (h' - mu) / sigma`` (instance or batch);
3. per region ``k`` a ``Linear(D, D) + ReLU`` turns its code into ``ST'_k``; the codes are
   broadcast into their region's pixels (:func:`maskstyle.nn.region_stats.broadcast_regions`)
   and two 3x3 convolutions give the style-driven ``gamma_s, beta_s``;
4. SPADE's mask-driven ``gamma_o, beta_o`` (:class:`maskstyle.nn.spade.SPADEModulation`) are
   blended with them by learned weights ``a = sigmoid(alpha)`` (``alpha`` starts at 0, so
   ``a = 0.5``): ``gamma = a_gamma gamma_s + (1 - a_gamma) gamma_o`` (SEAN Eq. 3), same for beta;
5. ``out = x_hat * (1 + gamma) + beta`` (SEAN Eq. 1 in the official code's form).

The per-region linear layers are one batched ``einsum`` over a ``[K, D, D]`` weight - no
loop over regions or pixels. A region absent from the map only affects pixels it does not
have, so its code (zeros from pooling) is harmless.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.nn.region_stats import broadcast_regions
from maskstyle.nn.spade import SPADEModulation, labels_at, param_free_norm


class RegionLinear(nn.Module):
    """``K`` independent ``Linear(d_in, d_out)`` layers, region ``k``'s applied to row ``k``
    of ``[B, K, d_in]`` (one einsum). Initialised like ``nn.Linear``."""

    def __init__(self, num_regions: int, d_in: int, d_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(num_regions, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num_regions, d_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, d_in, _ = self.weight.shape
        if x.dim() != 3 or x.shape[1:] != (k, d_in):
            raise ValueError(
                f"style codes must be [B, {k}, {d_in}] (one {d_in}-d code per region), "
                f"got {tuple(x.shape)}"
            )
        return torch.einsum("bkd,kde->bke", x, self.weight) + self.bias


class SEAN(nn.Module):
    """SEAN normalisation block (Zhu et al. 2020): ``forward(x, labels, style_codes)``.

    ``style_codes`` is ``[B, num_classes, style_dim]``; ``labels`` an int64 label map
    ``[B, H', W']`` (resized to ``x`` by nearest neighbour).
    """

    def __init__(
        self,
        channels: int,
        num_classes: int,
        style_dim: int = 512,
        hidden: int = 128,
        norm: str = "instance",
        noise: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes, self.style_dim = num_classes, style_dim
        self.norm = param_free_norm(norm, channels)
        self.noise_scale = nn.Parameter(torch.zeros(channels)) if noise else None
        self.style_fc = RegionLinear(num_classes, style_dim, style_dim)
        self.conv_gamma = nn.Conv2d(style_dim, channels, 3, padding=1)
        self.conv_beta = nn.Conv2d(style_dim, channels, 3, padding=1)
        self.spade = SPADEModulation(channels, num_classes, hidden)
        # sigmoid(0) = 0.5: style and mask branches start equally weighted.
        self.blend_gamma = nn.Parameter(torch.zeros(1))
        self.blend_beta = nn.Parameter(torch.zeros(1))

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor, style_codes: torch.Tensor
    ) -> torch.Tensor:
        labels = labels_at(x, labels, self.num_classes)
        if not isinstance(style_codes, torch.Tensor) or style_codes.shape != (
            x.shape[0],
            self.num_classes,
            self.style_dim,
        ):
            got = tuple(style_codes.shape) if isinstance(style_codes, torch.Tensor) else None
            raise ValueError(
                f"style_codes must be [B, num_classes, style_dim] = "
                f"[{x.shape[0]}, {self.num_classes}, {self.style_dim}], got {got}"
            )
        if self.noise_scale is not None:
            b, _, h, w = x.shape
            noise = torch.randn(b, 1, h, w, device=x.device, dtype=x.dtype)
            x = x + noise * self.noise_scale.view(1, -1, 1, 1)  # per-channel learned noise
        x_hat = self.norm(x)
        codes = F.relu(self.style_fc(style_codes))  # per-region Linear(D, D) + ReLU
        style_map = broadcast_regions(codes, labels)  # [B, D, H, W]
        gamma_s, beta_s = self.conv_gamma(style_map), self.conv_beta(style_map)
        gamma_o, beta_o = self.spade(labels)
        a_gamma, a_beta = torch.sigmoid(self.blend_gamma), torch.sigmoid(self.blend_beta)
        # SEAN Eq. 3: gamma = a gamma_s + (1 - a) gamma_o, beta likewise
        gamma = a_gamma * gamma_s + (1 - a_gamma) * gamma_o
        beta = a_beta * beta_s + (1 - a_beta) * beta_o
        # SEAN Eq. 1 (official form): x_hat * (1 + gamma) + beta
        return x_hat * (1 + gamma) + beta


__all__ = ["SEAN", "RegionLinear"]
