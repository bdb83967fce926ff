"""Region-restricted metrics: did the edit change the region it should, and only that?

Regional style transfer and blending (LRNet, LOMIT, harmonised regional transfer) are
judged on two sides of the mask ``M`` (a set of pixels, ``|M|`` of them):

- fidelity inside (or outside) the region, PSNR over the region's pixels only,

      MSE_M(x, y) = 1/(C |M|) sum_{p in M} sum_c (x_cp - y_cp)^2,   PSNR_M = 10 log10(1 / MSE_M),

  and SSIM averaged over the region, ``SSIM_M = 1/(C |M|) sum_{p in M} sum_c SSIM_cp``, from
  the full SSIM map (local windows still see neighbouring pixels across the boundary);
- background preservation, the mean absolute error outside the edited region,

      BPE = 1/(C |~M|) sum_{p not in M} sum_c |out_cp - orig_cp|,

  which is 0 when everything outside the mask is untouched (LOMIT/LRNet-style evaluations
  of whether a local edit leaked into the rest of the face).

The region is a bool mask ``[B, H, W]``/``[H, W]``, or an int64 label map with ``region=``
(label ids or names). An image whose region has no pixels raises an error: a metric over
an empty set is undefined, and silently returning 0 or NaN would poison averages.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from maskstyle.metrics._checks import as_image_batch, batch_region, image_pair, reduce
from maskstyle.metrics._checks import region_mask as as_region
from maskstyle.metrics.pixel import ssim_map

Region = int | str | Sequence[int | str] | None


def _masked_mean(values: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Mean of ``values [B, C, H, W]`` over channels and the pixels of ``region [B, H, W]``."""
    weights = region[:, None].to(values.dtype)
    return (values * weights).sum(dim=(1, 2, 3)) / (weights.sum(dim=(1, 2, 3)) * values.shape[1])


def masked_psnr(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    inside: bool = True,
    *,
    region: Region = None,
    reduction: str = "mean",
) -> torch.Tensor | float:
    """PSNR (dB) over the region's pixels only (``inside=False``: over the complement)."""
    pred, target = image_pair(pred, target)
    where = batch_region(as_region(mask, region), pred, inside)
    mse = _masked_mean((pred - target).square(), where)
    return reduce(10 * torch.log10(1.0 / mse), reduction)


def masked_ssim(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    inside: bool = True,
    *,
    region: Region = None,
    reduction: str = "mean",
) -> torch.Tensor | float:
    """SSIM map averaged over the region's pixels (``inside=False``: over the complement)."""
    pred, target = image_pair(pred, target)
    where = batch_region(as_region(mask, region), pred, inside)
    return reduce(_masked_mean(ssim_map(pred, target), where), reduction)


def background_preservation_error(
    output: torch.Tensor,
    original: torch.Tensor,
    region_mask: torch.Tensor,
    *,
    region: Region = None,
    reduction: str = "mean",
) -> torch.Tensor | float:
    """Mean absolute error between ``output`` and ``original`` outside the edited region.

    ``region_mask`` marks the edited region (True = edited). 0 means a perfectly preserved
    background; values are on the [0, 1] image scale.
    """
    output = as_image_batch(output, "output")
    original = as_image_batch(original, "original")
    if output.shape != original.shape:
        raise ValueError(
            f"output and original must have the same shape, got {tuple(output.shape)} and "
            f"{tuple(original.shape)}"
        )
    edited = as_region(region_mask, region)
    outside = batch_region(edited, output, inside=False, what="background")
    return reduce(_masked_mean((output - original).abs(), outside), reduction)
