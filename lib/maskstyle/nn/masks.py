"""Label maps at feature resolution.

Every mask in maskstyle is an int64 label map ``[B, H, W]`` (values index
:data:`maskstyle.data.LABELS`). Layers that work on features of another size resize the
map once with :func:`resize_labels` (nearest neighbour: labels are categories, never
averaged).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def check_label_map(mask: torch.Tensor, name: str = "mask", batch: bool = True) -> None:
    """Raise a clear error unless ``mask`` is an integer label map of the expected layout."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor label map, got {type(mask).__name__}")
    want = 3 if batch else 2
    if mask.dim() != want:
        layout = "[B, H, W]" if batch else "[H, W]"
        hint = ""
        if mask.dim() == want + 1 and mask.shape[-3] == 1:
            hint = " (it has a channel axis of size 1: squeeze it, e.g. mask[:, 0])"
        raise ValueError(
            f"{name} must be a label map {layout}, got shape {tuple(mask.shape)}{hint}"
        )
    if mask.dtype.is_floating_point or mask.dtype == torch.bool:
        raise TypeError(
            f"{name} must hold integer labels (int64), got {mask.dtype}; "
            "convert one-hot masks with .argmax(1) and float maps with .long()"
        )


def check_image_label_map(image: torch.Tensor, mask: torch.Tensor, name: str = "mask") -> None:
    """Raise a clear error unless ``mask`` is an integer label map ``[B, H, W]`` with
    ``image``'s batch and size and no negative labels (the masks of the style losses and
    feature reconstructions, which resize it to each layer)."""
    check_label_map(mask, name)
    if mask.shape != (image.shape[0], *image.shape[-2:]):
        raise ValueError(
            f"{name} has shape {tuple(mask.shape)} but its image is {tuple(image.shape)}: "
            "give the label map at image resolution [B, H, W] (it is resized to each layer)"
        )
    if mask.numel() and int(mask.min()) < 0:
        raise ValueError(f"{name} holds negative labels ({int(mask.min())}); labels are >= 0")


def resize_labels(mask: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize an int label map ``[B, H, W]`` (or ``[H, W]``) to ``size`` by nearest neighbour.

    ``size`` is ``(h, w)`` or one int for a square. Returns int64 with the same leading layout.
    """
    if mask.dim() not in (2, 3):
        raise ValueError(f"mask must be [H, W] or [B, H, W], got shape {tuple(mask.shape)}")
    check_label_map(mask, batch=mask.dim() == 3)
    if isinstance(size, int):
        size = (size, size)
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask.long()
    squeeze = mask.dim() == 2
    m = mask[None] if squeeze else mask
    # nearest-exact picks the source pixel whose centre is nearest, symmetric for up/down.
    out = F.interpolate(m[:, None].float(), size=size, mode="nearest-exact")[:, 0].long()
    return out[0] if squeeze else out


def one_hot_labels(mask: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``[B, H, W]`` int labels -> ``[B, K, H, W]`` float one-hot."""
    check_label_map(mask)
    if mask.numel() and (mask.min() < 0 or mask.max() >= num_classes):
        raise ValueError(
            f"mask values must lie in [0, {num_classes}), "
            f"got [{int(mask.min())}, {int(mask.max())}]"
        )
    return F.one_hot(mask.long(), num_classes).permute(0, 3, 1, 2).float()
