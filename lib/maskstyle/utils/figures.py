"""Figure grids for notebooks and reports, saved under a size cap.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot state, nothing
leaks between cells); a notebook displays a returned Figure. :func:`save_figure` keeps
committed PNGs small: it lowers the resolution until the file fits ``max_bytes``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from maskstyle.utils.convert import to_numpy_image
from maskstyle.utils.palette import colorize_mask

ImageLike = torch.Tensor | np.ndarray


def _as_displayable(image: ImageLike) -> tuple[np.ndarray, dict]:
    """An array for ``imshow`` and its options: RGB images, label maps (palette), gray."""
    if isinstance(image, torch.Tensor):
        is_labels = image.dim() == 2 and not image.dtype.is_floating_point
    elif isinstance(image, np.ndarray):
        is_labels = image.ndim == 2 and np.issubdtype(image.dtype, np.integer)
    else:
        raise TypeError(f"images must be tensors or arrays, got {type(image).__name__}")
    if is_labels:
        return colorize_mask(image), {"interpolation": "nearest"}
    array = to_numpy_image(image, dtype="uint8")
    if array.ndim == 2:
        return array, {"cmap": "gray", "vmin": 0, "vmax": 255}
    return array, {}


def image_grid(
    images: Sequence[ImageLike] | torch.Tensor,
    nrow: int = 4,
    titles: Sequence[str] | None = None,
    cell_size: float = 2.0,
) -> Figure:
    """A Figure showing ``images`` in rows of ``nrow`` (torchvision's ``make_grid`` meaning).

    ``images``: a batch ``[B, 3, H, W]`` or a list of ``[3, H, W]`` float images in [0, 1],
    ``[H, W]`` integer label maps (drawn with the label palette), ``[H, W]`` float gray
    images or ``[H, W, 3]`` arrays. ``titles``: one per image.
    """
    if isinstance(images, torch.Tensor):
        if images.dim() != 4:
            raise ValueError(f"a batch of images must be [B, C, H, W], got {tuple(images.shape)}")
        images = list(images)
    images = list(images)
    if not images:
        raise ValueError("image_grid needs at least one image")
    if nrow < 1:
        raise ValueError(f"nrow (images per row) must be >= 1, got {nrow}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    cols = min(nrow, len(images))
    rows = math.ceil(len(images) / cols)
    fig = Figure(figsize=(cell_size * cols, cell_size * rows + (0.3 * rows if titles else 0)))
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= len(images):
            continue
        array, options = _as_displayable(images[k])
        ax.imshow(array, **options)
        if titles is not None:
            ax.set_title(titles[k], fontsize="small")
    fig.tight_layout()
    return fig


def show_images(
    images: Sequence[ImageLike] | torch.Tensor,
    nrow: int = 4,
    titles: Sequence[str] | None = None,
    cell_size: float = 2.0,
) -> Figure:
    """:func:`image_grid`, displayed at once when running under IPython/Jupyter."""
    fig = image_grid(images, nrow=nrow, titles=titles, cell_size=cell_size)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return fig
    if get_ipython() is not None:
        display(fig)
    return fig


@dataclass(frozen=True)
class SavedFigure:
    """Where a figure went, at which resolution, and how big the file is."""

    path: Path
    dpi: float
    num_bytes: int


def _render_png(fig: Figure, dpi: float) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def save_figure(
    fig: Figure,
    path: str | Path,
    max_bytes: int = 1_000_000,
    dpi: float = 150,
    min_dpi: float = 20,
) -> SavedFigure:
    """Save ``fig`` as PNG, lowering dpi until the file is at most ``max_bytes``.

    PNG size grows with the pixel count, i.e. with dpi squared, so each retry scales dpi
    by ``0.95 * sqrt(max_bytes / size)``. Raises if even ``min_dpi`` does not fit.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG; give a .png path, got {path.name}")
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    data = _render_png(fig, dpi)
    while len(data) > max_bytes:
        if dpi <= min_dpi:
            raise ValueError(
                f"{path.name}: {len(data)} bytes at the minimum {min_dpi} dpi still exceeds "
                f"max_bytes={max_bytes}; show fewer or smaller panels, or raise the cap"
            )
        dpi = max(min_dpi, math.floor(dpi * 0.95 * math.sqrt(max_bytes / len(data))))
        data = _render_png(fig, dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return SavedFigure(path=path, dpi=dpi, num_bytes=len(data))
