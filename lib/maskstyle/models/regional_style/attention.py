"""Multi-region style attention, MRSA (harmonized regional style transfer, Section 3.2,
Eqs. 4-5; Fig. 4).

``s_t [B, K, D]`` holds the target's region styles, ``s_r`` the reference's. The regions to
transfer take the reference's rows and the rest keep the target's: ``s'_r``. Then

    Q = W_q(s'_r),  K = W_k(s_t),  V = W_v(s_t)         (linear maps)
    M = softmax(Q K^T)         (row-wise)               (Eq. 4)
    s_c = M V,   s'_t = s'_r + alpha s_c                (Eq. 5)

so every region's style (the transferred ones included) is corrected by a mix of the
target's region styles chosen by attention: the target's lighting leaks into the
transferred skin. Attention is over the ``K`` region vectors, not pixels (``K x K``).

**Our reading:** (a) the scores are divided by ``sqrt(D)`` (Transformer scaling; with
``D = 512`` an unscaled softmax saturates at initialisation); ``scale=False`` gives the
literal ``softmax(Q K^T)``. (b) Regions absent from the target (zero rows from pooling) are
masked out of the keys when ``present`` is given. (c) ``alpha`` is a learned scalar that
starts at 0 (as SAGAN's gamma, the paper's ref. [49]), so training starts from SEAN's
behaviour and learns how much correction to add.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def check_style_matrix(s: torch.Tensor, name: str, like: torch.Tensor | None = None) -> None:
    """Raise a clear error unless ``s`` is a style matrix ``[B, K, D]`` (shaped like ``like``)."""
    if not isinstance(s, torch.Tensor) or s.dim() != 3:
        got = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
        raise ValueError(f"{name} must be a style matrix [B, regions, D], got {got}")
    if like is not None and s.shape != like.shape:
        raise ValueError(
            f"{name} {tuple(s.shape)} must have the target's shape {tuple(like.shape)} "
            "(same batch, regions and style size)"
        )


def transfer_mask(regions: torch.Tensor, batch: int, num_regions: int) -> torch.Tensor:
    """``[B, K]`` bool from a ``[K]`` or ``[B, K]`` bool mask, checked."""
    if not isinstance(regions, torch.Tensor) or regions.dtype != torch.bool:
        raise TypeError("regions must be a bool tensor [K] or [B, K] (True = take the reference)")
    if regions.dim() == 1:
        regions = regions.expand(batch, -1)
    if regions.shape != (batch, num_regions):
        raise ValueError(
            f"regions must be [{num_regions}] or [{batch}, {num_regions}], got "
            f"{tuple(regions.shape)}"
        )
    return regions


def swap_regions(s_t: torch.Tensor, s_r: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
    """``s'_r``: the reference's rows for ``regions`` (bool ``[K]`` or ``[B, K]``), the
    target's elsewhere. This alone is SEAN's regional style transfer."""
    check_style_matrix(s_t, "s_t")
    check_style_matrix(s_r, "s_r", like=s_t)
    mask = transfer_mask(regions.to(s_t.device), s_t.shape[0], s_t.shape[1])
    return torch.where(mask[..., None], s_r, s_t)


class MultiRegionStyleAttention(nn.Module):
    """MRSA: ``forward(s_t, s_r, regions, present=None) -> s'_t`` (Eqs. 4-5);
    :meth:`attention` returns ``M``."""

    def __init__(self, style_dim: int = 512, scale: bool = True, alpha: float = 0.0) -> None:
        super().__init__()
        self.style_dim = style_dim
        self.w_q = nn.Linear(style_dim, style_dim)
        self.w_k = nn.Linear(style_dim, style_dim)
        self.w_v = nn.Linear(style_dim, style_dim)
        self.scale = 1.0 / math.sqrt(style_dim) if scale else 1.0
        self.alpha = nn.Parameter(torch.tensor(float(alpha)))

    def attention(
        self, s_t: torch.Tensor, s_r_prime: torch.Tensor, present: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``M [B, K, K]`` = row-wise softmax of ``Q K^T`` (Eq. 4)."""
        check_style_matrix(s_t, "s_t")
        check_style_matrix(s_r_prime, "s'_r", like=s_t)
        if s_t.shape[-1] != self.style_dim:
            raise ValueError(f"style vectors must be {self.style_dim}-d, got {s_t.shape[-1]}")
        q, k = self.w_q(s_r_prime), self.w_k(s_t)
        scores = torch.bmm(q, k.transpose(1, 2)) * self.scale  # Q K^T
        if present is not None:
            if present.shape != s_t.shape[:2] or present.dtype != torch.bool:
                raise ValueError(f"present must be bool {tuple(s_t.shape[:2])}")
            keep = present.clone()
            keep[~keep.any(1)] = True  # a sample with no region keeps all keys
            scores = scores.masked_fill(~keep[:, None, :], float("-inf"))
        # Eq. 4: M = softmax(Q K^T), row-wise
        return torch.softmax(scores, dim=-1)

    def forward(
        self,
        s_t: torch.Tensor,
        s_r: torch.Tensor,
        regions: torch.Tensor,
        present: torch.Tensor | None = None,
    ) -> torch.Tensor:
        s_r_prime = swap_regions(s_t, s_r, regions)
        m = self.attention(s_t, s_r_prime, present)
        s_c = torch.bmm(m, self.w_v(s_t))  # s_c = M V
        # Eq. 5: s'_t = s'_r + alpha s_c
        return s_r_prime + self.alpha * s_c


__all__ = [
    "MultiRegionStyleAttention",
    "check_style_matrix",
    "swap_regions",
    "transfer_mask",
]
