"""Label maps as colour images, and a legend that names the colours.

Every label of :data:`maskstyle.data.labels.LABELS` has a fixed RGB colour in
:data:`maskstyle.data.labels.PALETTE`, so the same region looks the same in every figure.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from maskstyle.data.labels import LABELS, PALETTE, label_id

_PALETTE = np.asarray(PALETTE, dtype=np.uint8)


def colorize_mask(
    mask: torch.Tensor | np.ndarray, as_tensor: bool = False
) -> np.ndarray | torch.Tensor:
    """Label map ``[H, W]`` or ``[B, H, W]`` -> uint8 RGB ``[..., H, W, 3]``.

    ``as_tensor=True`` gives a float32 tensor ``[3, H, W]``/``[B, 3, H, W]`` in [0, 1]
    instead, ready to sit next to images in a grid.
    """
    labels = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if labels.ndim not in (2, 3):
        raise ValueError(f"mask must be [H, W] or [B, H, W], got shape {labels.shape}")
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"mask must hold integer labels, got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(_PALETTE)):
        raise ValueError(
            f"mask values span [{labels.min()}, {labels.max()}]; the palette covers labels "
            f"0..{len(_PALETTE) - 1} ({', '.join(LABELS)})"
        )
    rgb = _PALETTE[labels]
    if not as_tensor:
        return rgb
    return torch.from_numpy(np.moveaxis(rgb, -1, -3).astype(np.float32) / 255)


def _present_ids(labels_present: Iterable[int | str] | torch.Tensor | np.ndarray) -> list[int]:
    if isinstance(labels_present, torch.Tensor):
        labels_present = labels_present.detach().cpu().numpy()
    if isinstance(labels_present, np.ndarray):
        return sorted(int(v) for v in np.unique(labels_present))
    ids = [label_id(v) if isinstance(v, str) else int(v) for v in labels_present]
    for i in ids:
        if not 0 <= i < len(LABELS):
            raise ValueError(f"label {i} is outside 0..{len(LABELS) - 1}")
    return sorted(set(ids))


def label_legend(ax, labels_present: Iterable[int | str] | torch.Tensor | np.ndarray, **kwargs):
    """Add a legend of palette colours to matplotlib ``ax`` for the given labels.

    ``labels_present``: label ids or names, or a label map (its distinct values are used).
    Keyword arguments go to ``ax.legend`` (default: outside the axes, to the right).
    """
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=_PALETTE[i] / 255, edgecolor="black", linewidth=0.3, label=LABELS[i])
        for i in _present_ids(labels_present)
    ]
    options = {"loc": "upper left", "bbox_to_anchor": (1.0, 1.0), "fontsize": "small",
               "frameon": False}  # fmt: skip
    options.update(kwargs)
    return ax.legend(handles=handles, **options)
