"""Figure helpers shared by the LRNet notebooks (one copy here, not one per notebook).

- :func:`rgb`: a ``[3, H, W]`` tensor in [0, 1] as an ``H x W x 3`` numpy image;
- :func:`show`: save a matplotlib figure under ``output_dir`` (<= 1 MB), close it and
  display the PNG inline;
- :func:`image_rows`: a grid of labelled image panels (every panel gets a title);
- :func:`amplified_difference`: ``|x - y|`` scaled so small differences become visible;
- :func:`region_colours`: one colour per LRNet region, for region maps.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def rgb(x: torch.Tensor) -> np.ndarray:
    """``[3, H, W]`` (or ``[1, 3, H, W]``) tensor -> ``H x W x 3`` float array in [0, 1]."""
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 3 or x.shape[0] != 3:
        raise ValueError(f"rgb expects an image [3, H, W], got {tuple(x.shape)}")
    return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def show(fig: Any, output_dir: str | os.PathLike, name: str) -> str:
    """Save ``fig`` as ``<output_dir>/<name>.png`` (workbook.save_figure), close it and
    display it in the notebook; returns the path."""
    import matplotlib.pyplot as plt

    from maskstyle import workbook

    path = workbook.save_figure(fig, output_dir, name)
    plt.close(fig)
    try:
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    except ImportError:  # pragma: no cover - outside Jupyter
        pass
    return str(path)


def amplified_difference(x: torch.Tensor, y: torch.Tensor, gain: float = 4.0) -> torch.Tensor:
    """``clamp(gain * |x - y|, 0, 1)`` (mean over colour channels, as grey RGB)."""
    if x.shape != y.shape:
        raise ValueError(f"images of different shapes: {tuple(x.shape)} vs {tuple(y.shape)}")
    diff = (gain * (x - y).abs().mean(dim=-3, keepdim=True)).clamp(0, 1)
    return diff.expand_as(x)


def region_colours() -> np.ndarray:
    """``[10, 3]`` colours in [0, 1]: the palette colour of each LRNet region's first label."""
    from maskstyle.data.labels import PALETTE
    from maskstyle.models.lrnet.regions import LABEL_TO_LRNET, LRNET_REGIONS

    return np.array([PALETTE[LABEL_TO_LRNET.index(r)] for r in range(len(LRNET_REGIONS))]) / 255


def image_rows(
    rows: Sequence[Sequence[tuple[Any, str]]],
    panel: float = 1.7,
    fontsize: int = 7,
    titles_every_row: bool = True,
):
    """A figure with one row per entry of ``rows``; each panel is ``(image, title)`` where
    ``image`` is a ``[3, H, W]`` tensor or an ``H x W (x 3)`` array. Returns the figure."""
    import matplotlib.pyplot as plt

    cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(
        len(rows), cols, figsize=(panel * cols, panel * 1.08 * len(rows)), squeeze=False
    )
    for i, row in enumerate(rows):
        for j in range(cols):
            ax = axes[i, j]
            ax.axis("off")
            if j >= len(row):
                continue
            image, title = row[j]
            ax.imshow(rgb(image) if isinstance(image, torch.Tensor) else image)
            if titles_every_row or i == 0:
                ax.set_title(title, fontsize=fontsize)
    fig.tight_layout()
    return fig
