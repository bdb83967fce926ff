"""Total variation: how much neighbouring pixels differ.

For an image ``x`` with vertical and horizontal neighbour differences
``dy[i, j] = x[i+1, j] - x[i, j]`` and ``dx[i, j] = x[i, j+1] - x[i, j]``,

.. math::

    \\mathrm{TV}_p(x) = \\sum_{i,j} |dy_{ij}|^p + \\sum_{i,j} |dx_{ij}|^p

``p = 1`` is the anisotropic total variation (Rudin et al. 1992; Deep Image Blending's
smoothness loss), ``p = 2`` its squared form (Johnson et al. 2016's regulariser, the fast
semantic style decoder's). It serves as a loss that smooths outputs and as a measure of
grain (GeneGAN's :func:`~maskstyle.models.genegan.evaluate.edge_energy`). The callers differ
only in the reduction: a total, a per-image sum averaged over the batch, or the mean
difference per neighbour pair.
"""

from __future__ import annotations

import torch

REDUCTIONS = ("sum", "image", "pair")


def total_variation(x: torch.Tensor, p: int = 1, reduction: str = "sum") -> torch.Tensor:
    """``TV_p`` of ``x [B, C, H, W]`` (over channels too), reduced by ``reduction``:
    ``"sum"`` the whole batch's total, ``"image"`` each image's total averaged over the batch,
    ``"pair"`` the mean of ``|dy|^p`` and the mean of ``|dx|^p``, averaged (per neighbour pair,
    independent of the image size)."""
    if x.dim() != 4:
        raise ValueError(f"x must be images [B, C, H, W], got shape {tuple(x.shape)}")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 (anisotropic TV) or 2 (squared), got {p}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    dy = x[..., 1:, :] - x[..., :-1, :]
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy, dx = (dy.abs(), dx.abs()) if p == 1 else (dy.square(), dx.square())
    if reduction == "pair":
        return (dy.mean() + dx.mean()) / 2
    if reduction == "image":
        return (dy.sum((1, 2, 3)) + dx.sum((1, 2, 3))).mean()
    return dy.sum() + dx.sum()


__all__ = ["REDUCTIONS", "total_variation"]
