"""Input validation shared by the metrics: image layout and range, region masks.

Images are float ``[B, C, H, W]`` (or one image ``[C, H, W]``) in ``[0, 1]`` with C = 3
(RGB) or 1. Regions are boolean masks ``[B, H, W]`` / ``[H, W]``, or an int64 label map
together with ``region=`` (label ids or names, see :data:`maskstyle.data.labels.LABELS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

RANGE_TOLERANCE = 1e-4
"""How far outside [0, 1] a value may stray (resampling round-off) before it is an error."""


class MetricUnavailableError(RuntimeError):
    """A metric cannot be computed here (e.g. its network weights are absent); the message
    says what is missing and how to provide it. Report it as unavailable, never as a value."""


def as_image_batch(x: torch.Tensor, name: str) -> torch.Tensor:
    """Validate an image (batch) in [0, 1] and return it as ``[B, C, H, W]``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor image, got {type(x).__name__}")
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4:
        raise ValueError(
            f"{name} must be an image [C, H, W] or a batch [B, C, H, W], got shape {tuple(x.shape)}"
        )
    if x.shape[1] not in (1, 3):
        hint = " (channels-last? use .permute(0, 3, 1, 2))" if x.shape[-1] in (1, 3) else ""
        raise ValueError(f"{name} must have 1 or 3 channels in dim -3, got {tuple(x.shape)}{hint}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must be float in [0, 1], got {x.dtype}; use x.float() / 255")
    if x.numel():
        lo, hi = (float(v) for v in torch.aminmax(x.detach()))
        if not (lo >= -RANGE_TOLERANCE and hi <= 1 + RANGE_TOLERANCE):
            raise ValueError(
                f"{name} values span [{lo:.4g}, {hi:.4g}]; metrics expect images in [0, 1] "
                "(clamp network outputs with .clamp(0, 1); divide 0..255 images by 255; "
                "map [-1, 1] outputs with (x + 1) / 2)"
            )
    return x


def image_pair(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate two image batches of identical shape."""
    pred = as_image_batch(pred, "pred")
    target = as_image_batch(target, "target")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )
    return pred, target


def _label_ids(region: int | str | Sequence[int | str]) -> list[int]:
    from maskstyle.data.labels import label_id

    items = [region] if isinstance(region, int | str) else list(region)
    if not items:
        raise ValueError("region is empty: name at least one label id or name")
    return [label_id(r) if isinstance(r, str) else int(r) for r in items]


def region_mask(
    mask: torch.Tensor,
    region: int | str | Sequence[int | str] | None = None,
) -> torch.Tensor:
    """A boolean region ``[B, H, W]``/``[H, W]`` from a bool mask, or a label map + ``region``."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.dim() not in (2, 3):
        hint = (
            " (drop the channel axis: mask[:, 0])" if mask.dim() == 4 and mask.shape[1] == 1 else ""
        )
        raise ValueError(f"mask must be [H, W] or [B, H, W], got shape {tuple(mask.shape)}{hint}")
    if region is None:
        if mask.dtype != torch.bool:
            raise TypeError(
                f"mask has dtype {mask.dtype}: pass a bool region mask, or a label map together "
                "with region=<label id/name or list of them> (e.g. region='hair')"
            )
        return mask
    if mask.dtype.is_floating_point or mask.dtype == torch.bool:
        raise TypeError(f"with region=..., mask must be an int64 label map, got {mask.dtype}")
    ids = torch.tensor(_label_ids(region), device=mask.device)
    return torch.isin(mask, ids)


def batch_region(
    region: torch.Tensor, images: torch.Tensor, inside: bool = True, what: str = "region"
) -> torch.Tensor:
    """Broadcast a bool region to ``[B, H, W]`` for ``images [B, C, H, W]``; reject empty ones."""
    if region.dim() == 2:
        region = region[None].expand(images.shape[0], -1, -1)
    if region.shape[0] != images.shape[0] or region.shape[-2:] != images.shape[-2:]:
        raise ValueError(
            f"mask of shape {tuple(region.shape)} does not match images {tuple(images.shape)}; "
            "it must be [B, H, W] or [H, W] at image resolution (resize label maps with "
            "maskstyle.nn.masks.resize_labels)"
        )
    region = region.to(images.device)
    if not inside:
        region = ~region
    counts = region.flatten(1).sum(1)
    empty = torch.nonzero(counts == 0).flatten().tolist()
    if empty:
        side = "inside" if inside else "outside"
        raise ValueError(
            f"the {what} has no pixels {side} the mask in image(s) {empty}; a metric over an "
            "empty region is undefined - skip those images or choose another region"
        )
    return region


def reduce(values: torch.Tensor, reduction: str) -> torch.Tensor | float:
    """``"mean"`` -> Python float over the batch; ``"none"`` -> per-image tensor ``[B]``."""
    if reduction == "none":
        return values
    if reduction == "mean":
        return float(values.mean())
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
