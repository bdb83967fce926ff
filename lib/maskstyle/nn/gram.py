"""Gram matrices of feature maps, global and per region.

Gatys et al. (2016, Eq. 3) describe the style of a layer by the channel correlations

    G_{ij} = 1/N sum_p F_{i p} F_{j p},         F in R^{C x N}  (N = H W positions)

(normalised by N here so that regions of different sizes are comparable). Matching Gram
matrices is minimising the maximum mean discrepancy with the quadratic kernel
``k(x, y) = (x^T y)^2`` (Li et al. 2017, "Demystifying neural style transfer"):

    || G(F_o) - G(F_s) ||_F^2 = 1/N^2 sum k(o, o') - 2/(N M) sum k(o, s) + 1/M^2 sum k(s, s').

Guided (semantic) style transfer (Gatys et al. 2017, "Controlling perceptual factors",
Sec. 4 with hard masks) takes one Gram matrix per region ``k``:

    G^k = 1/N_k sum_{p in region k} f_p f_p^T .

:func:`region_gram` computes all ``K`` of them at once. A weighted product with one-hot masks
would cost ``K`` times one Gram matrix; instead the positions are sorted by label and every
region multiplies only its own columns, so the total cost equals one global Gram matrix
(``C^2 N``). The loop runs over the regions present (at most ``K``), never over positions.
"""

from __future__ import annotations

import torch

from maskstyle.nn.region_stats import check_feature_mask


def gram_matrix(feat: torch.Tensor) -> torch.Tensor:
    """``feat [B, C, H, W]`` -> ``[B, C, C]``, ``G = F F^T / (H W)``."""
    if feat.dim() != 4:
        raise ValueError(f"feat must be [B, C, H, W], got shape {tuple(feat.shape)}")
    flat = feat.flatten(2)
    return torch.bmm(flat, flat.transpose(1, 2)) / flat.shape[-1]


def region_gram(
    feat: torch.Tensor, mask: torch.Tensor, num_regions: int, first: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-region Gram matrices of ``feat [B, C, H, W]`` under label map ``mask [B, H, W]``.

    Returns ``(gram [B, K, C, C], counts [B, K])``; ``gram[b, k] = F_k F_k^T / N_k`` and an
    absent region (``counts == 0``) gets a zero matrix. ``first=R`` computes only the Gram
    matrices of labels ``0..R-1`` (``gram`` is then ``[B, R, C, C]``; counts stay ``K``).
    Differentiable in ``feat``.
    """
    check_feature_mask(feat, mask)
    if mask.numel() and (int(mask.min()) < 0 or int(mask.max()) >= num_regions):
        raise ValueError(
            f"mask labels must lie in [0, {num_regions}), got "
            f"[{int(mask.min())}, {int(mask.max())}]"
        )
    b, c = feat.shape[:2]
    flat = feat.flatten(2)  # [B, C, N]
    labels = mask.flatten(1)  # [B, N]
    counts = torch.zeros(b, num_regions, dtype=torch.long, device=feat.device)
    counts.scatter_add_(1, labels, torch.ones_like(labels))
    grams = []
    for i in range(b):
        order = torch.argsort(labels[i], stable=True)
        sorted_cols = flat[i][:, order]
        per_region = []
        wanted = num_regions if first is None else first
        for cols in sorted_cols.split(counts[i].tolist(), dim=1)[:wanted]:
            if cols.shape[1] == 0:
                per_region.append(feat.new_zeros(c, c))
            else:
                per_region.append(cols @ cols.T / cols.shape[1])
        grams.append(torch.stack(per_region))
    return torch.stack(grams), counts
