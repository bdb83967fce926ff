"""Local reshuffle: region-restricted patch matching (LRNet, Zheng et al. 2020, Section 4.2).

LocalIN moves region statistics; texture needs more. Local reshuffle rebuilds the features
of image A out of patches of image B, *taking patches of a region only from the same
region* (A's nose from B's nose). For every position ``i`` of region ``k`` in A (Eq. 4):

    phi(i) = argmax_{j in B^k}  < patch(A, i), patch(B, j) > / || patch(B, j) ||

the normalised cross-correlation of style-swap (:mod:`maskstyle.nn.patch_swap`; Eq. 4
prints ``||patch * patch||_2`` and Algorithm 2 an ``argmin`` - both read as this
similarity). The output at ``i`` is, as Algorithm 2 states, the *centre* ``1 x 1 x C``
value of B's matched patch (``reconstruction="centre"``, the default; patches are taken
with zero padding so every pixel is a patch centre). ``reconstruction="average"`` instead
pastes whole patches and averages overlaps exactly as :func:`~maskstyle.nn.patch_swap`
does (patch label = its centre pixel, no padding): with the same masks it equals
``patch_swap(feat_a, feat_b, content_mask=mask_a, style_mask=mask_b)``.

**Semantic correspondence (Section 4.3).** Optional unit-sphere 3D coordinates
``coords_a``/``coords_b [B, 3, H, W]`` (PRNet vertices in the paper; the face world's
``coords`` here) are concatenated to the features *for matching only*, so the product of
two coordinate vectors (larger = closer on the sphere) adds to the score. Their weight:
the coordinate channels are multiplied by ``coord_weight * m_B``, where ``m_B`` is the
mean per-pixel L2 norm of B's features (per sample). With the default ``coord_weight =
1`` a coordinate vector carries the same energy as an average feature vector (the paper
concatenates raw vertices; against VGG features of norm ~10-100 that weight would be
negligible, so we state ours).

**Cost.** Restricting matches to regions makes the similarity matrix block-diagonal:
``sum_k N_A^k N_B^k`` products instead of ``N_A N_B`` for one unrestricted swap. Each
block is one matrix product over all of its region's patches; the blocks have different
sizes, so batching them would pad every region to the largest - the loop runs over the at
most ``K`` non-empty blocks per sample, never over positions. Patches are gathered only at
the positions of the reshuffled regions, so reshuffling a face costs what the face costs,
not what the image costs (LRNet reshuffles ~10 % of a 256 px image). Regions outside
``regions``, or absent from B, keep A's features (``missing="raise"`` makes the latter an
error).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from maskstyle.nn.local_in import active_regions, num_regions_of
from maskstyle.nn.patch_swap import patch_labels
from maskstyle.nn.region_stats import check_feature_mask

DEFAULT_COORD_WEIGHT = 1.0
"""Weight of the 3D coordinate channels, relative to B's mean feature norm (see above)."""

RECONSTRUCTIONS = ("centre", "average")


def coords_at(coords: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize unit-sphere coordinates ``[B, 3, H, W]`` to ``size`` and renormalise to norm 1.

    Area averaging, then projection back onto the sphere; all-zero pixels (no face) stay 0.
    """
    if coords.dim() != 4 or coords.shape[1] != 3:
        raise ValueError(f"coords must be [B, 3, H, W], got shape {tuple(coords.shape)}")
    if tuple(coords.shape[-2:]) != tuple(size):
        coords = F.interpolate(coords, size=size, mode="area")
    return F.normalize(coords, dim=1, eps=1e-8)


def _check_coords(coords: torch.Tensor | None, feat: torch.Tensor, name: str) -> None:
    if coords is None:
        return
    if not isinstance(coords, torch.Tensor) or coords.dim() != 4 or coords.shape[1] != 3:
        shape = tuple(coords.shape) if isinstance(coords, torch.Tensor) else type(coords)
        raise ValueError(f"{name} must be unit-sphere coordinates [B, 3, H, W], got {shape}")
    if coords.shape[0] != feat.shape[0] or coords.shape[-2:] != feat.shape[-2:]:
        raise ValueError(
            f"{name} {tuple(coords.shape)} does not match the features {tuple(feat.shape)}: "
            "coordinates must be at the features' resolution - resize them with "
            "maskstyle.nn.local_reshuffle.coords_at(coords, feat.shape[-2:])"
        )


class _PatchGrid:
    """Gathers ``k x k`` patches at chosen patch indices, in ``F.unfold``'s layout.

    Patch ``l`` of a map of size ``(H, W)`` zero-padded by ``pad`` has its top-left corner
    at ``(l // w_out, l % w_out)`` of the padded map (``w_out = W + 2 pad - k + 1``); its
    column is ``[C * k * k]`` ordered channel-major, then kernel rows, then columns - the
    same as ``F.unfold(x, k, padding=pad)[:, :, l]``.
    """

    def __init__(self, size: tuple[int, int], k: int, pad: int, device: torch.device) -> None:
        self.width = size[1] + 2 * pad
        self.w_out = self.width - k + 1
        dy, dx = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
        self.offsets = (dy * self.width + dx).flatten().to(device)  # [k * k]

    def patches(self, padded: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """``padded [C, Hp * Wp]``, ``positions [n]`` -> columns ``[C * k * k, n]``."""
        corner = (positions // self.w_out) * self.width + positions % self.w_out
        index = corner[None, :] + self.offsets[:, None]  # [k * k, n]
        return padded[:, index].reshape(-1, len(positions))


def _matching_features(
    feat: torch.Tensor, coords: torch.Tensor | None, scale: torch.Tensor | None
) -> torch.Tensor:
    if coords is None:
        return feat
    return torch.cat([feat, coords.to(feat.dtype) * scale], dim=1)


def reshuffle_index(
    feat_a: torch.Tensor,
    feat_b: torch.Tensor,
    mask_a: torch.Tensor,
    mask_b: torch.Tensor,
    coords_a: torch.Tensor | None = None,
    coords_b: torch.Tensor | None = None,
    patch_size: int = 3,
    *,
    coord_weight: float = DEFAULT_COORD_WEIGHT,
    regions: Sequence[int] | None = None,
    num_regions: int | None = None,
    missing: str = "keep",
    reconstruction: str = "centre",
    max_scores: int = 2**25,
) -> torch.Tensor:
    """``phi`` of Eq. 4: for every patch of A, the index of its match in B (``-1``: keep A).

    Returns ``[B, L_A]`` int64; patch order is ``F.unfold``'s (with ``reconstruction=
    "centre"``: one patch per pixel, row-major). Arguments as :func:`local_reshuffle`.
    """
    check_feature_mask(feat_a, mask_a, "feat_a")
    check_feature_mask(feat_b, mask_b, "feat_b")
    if feat_a.shape[:2] != feat_b.shape[:2]:
        raise ValueError(
            f"feat_a and feat_b must share batch and channels, got {tuple(feat_a.shape)} "
            f"and {tuple(feat_b.shape)}"
        )
    if (coords_a is None) != (coords_b is None):
        raise ValueError("give coords for both images (coords_a and coords_b) or for neither")
    _check_coords(coords_a, feat_a, "coords_a")
    _check_coords(coords_b, feat_b, "coords_b")
    if not isinstance(patch_size, int) or patch_size < 1 or patch_size % 2 == 0:
        raise ValueError(
            f"patch_size must be a positive odd int (a patch has a centre), got {patch_size!r}"
        )
    if reconstruction not in RECONSTRUCTIONS:
        raise ValueError(f"reconstruction must be one of {RECONSTRUCTIONS}, got {reconstruction!r}")
    pad = patch_size // 2 if reconstruction == "centre" else 0
    for name, feat in (("feat_a", feat_a), ("feat_b", feat_b)):
        if pad == 0 and min(feat.shape[-2:]) < patch_size:
            raise ValueError(f"{name} {tuple(feat.shape)} is smaller than patch_size {patch_size}")

    k = num_regions_of(mask_a, mask_b)
    if num_regions is not None:
        if num_regions < k:
            raise ValueError(f"num_regions={num_regions} but the masks hold label {k - 1}")
        k = num_regions
    if min(int(mask_a.min()), int(mask_b.min())) < 0:
        raise ValueError("masks hold negative labels; labels are >= 0")
    if reconstruction == "centre":
        labels_a, labels_b = mask_a.flatten(1), mask_b.flatten(1)
    else:
        labels_a = patch_labels(mask_a, patch_size)
        labels_b = patch_labels(mask_b, patch_size)
    counts_a = F.one_hot(labels_a, k).sum(1)  # [B, K] (raises on labels >= K)
    counts_b = F.one_hot(labels_b, k).sum(1)
    active = active_regions(counts_a > 0, counts_b > 0, regions, missing, "local_reshuffle")

    with torch.no_grad():  # the argmax is not differentiable; the gather afterwards is
        scale = None
        if coords_a is not None:
            scale = coord_weight * feat_b.norm(dim=1).mean(dim=(1, 2)).view(-1, 1, 1, 1)
        match_a = _matching_features(feat_a, coords_a, scale)
        match_b = _matching_features(feat_b, coords_b, scale)
        # Patches are gathered only where they are needed (the active regions' positions),
        # so the cost follows the blended area, not the image. Rows = patches, so every
        # argmax below reduces along contiguous memory.
        padded_a = F.pad(match_a, (pad, pad, pad, pad)).flatten(2)  # [B, D_c, Hp * Wp]
        padded_b = F.pad(match_b, (pad, pad, pad, pad)).flatten(2)
        grid_a = _PatchGrid(match_a.shape[-2:], patch_size, pad, match_a.device)
        grid_b = _PatchGrid(match_b.shape[-2:], patch_size, pad, match_b.device)
        index = torch.full(labels_a.shape, -1, dtype=torch.long, device=feat_a.device)
        for b in range(feat_a.shape[0]):
            order_a = torch.argsort(labels_a[b], stable=True)
            order_b = torch.argsort(labels_b[b], stable=True)
            starts_a = (torch.cumsum(counts_a[b], 0) - counts_a[b]).tolist()
            starts_b = (torch.cumsum(counts_b[b], 0) - counts_b[b]).tolist()
            for r in active[b].nonzero()[:, 0].tolist():
                pos_a = order_a[starts_a[r] : starts_a[r] + int(counts_a[b, r])]
                pos_b = order_b[starts_b[r] : starts_b[r] + int(counts_b[b, r])]
                filters = F.normalize(grid_b.patches(padded_b[b], pos_b), dim=0, eps=1e-8)
                chunk = max(1, max_scores // len(pos_b))
                for start in range(0, len(pos_a), chunk):
                    rows = pos_a[start : start + chunk]
                    scores = grid_a.patches(padded_a[b], rows).T @ filters  # [n, n_B]
                    index[b, rows] = pos_b[scores.argmax(1)]
    return index


def local_reshuffle(
    feat_a: torch.Tensor,
    feat_b: torch.Tensor,
    mask_a: torch.Tensor,
    mask_b: torch.Tensor,
    coords_a: torch.Tensor | None = None,
    coords_b: torch.Tensor | None = None,
    patch_size: int = 3,
    *,
    coord_weight: float = DEFAULT_COORD_WEIGHT,
    regions: Sequence[int] | None = None,
    num_regions: int | None = None,
    missing: str = "keep",
    reconstruction: str = "centre",
) -> torch.Tensor:
    """Local reshuffle (Eq. 4, Algorithm 2): rebuild A's features from B's same-region patches.

    ``feat_a [B, C, H, W]``, ``feat_b [B, C, H', W']`` with int64 label maps ``mask_a`` /
    ``mask_b`` at those resolutions; optional unit-sphere ``coords_a``/``coords_b [B, 3, ...]``
    at the same resolutions (see :func:`coords_at`) join the matching with weight
    ``coord_weight`` (module docstring). ``regions`` limits which labels are reshuffled
    (default all); regions absent from B keep A (``missing="keep"``) or raise
    (``missing="raise"``). Returns ``[B, C, H, W]``, differentiable in ``feat_b``.
    """
    index = reshuffle_index(
        feat_a, feat_b, mask_a, mask_b, coords_a, coords_b, patch_size,
        coord_weight=coord_weight, regions=regions, num_regions=num_regions,
        missing=missing, reconstruction=reconstruction,
    )  # fmt: skip
    keep = index < 0
    if reconstruction == "centre":
        values_b, values_a = feat_b.flatten(2), feat_a.flatten(2)  # [B, C, L]
    else:
        values_b = F.unfold(feat_b, patch_size)  # [B, C k k, L_B]
        values_a = F.unfold(feat_a, patch_size)
    gather = index.clamp_min(0)[:, None, :].expand(-1, values_b.shape[1], -1)
    chosen = torch.where(keep[:, None, :], values_a, values_b.gather(2, gather))
    if reconstruction == "centre":
        return chosen.view_as(feat_a)
    size = tuple(feat_a.shape[-2:])
    summed = F.fold(chosen, size, patch_size)
    ones = torch.ones_like(feat_a[:1, :1])
    overlap = F.fold(F.unfold(ones, patch_size), size, patch_size)
    return summed / overlap
