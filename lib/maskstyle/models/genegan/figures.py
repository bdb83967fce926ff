"""Figures of the GeneGAN series (one place for what several notebooks draw).

Every function returns a ``matplotlib.figure.Figure`` built with
:func:`maskstyle.utils.figures.image_grid`; :func:`save_and_show` writes it with
:func:`maskstyle.workbook.save_figure` (under 1 MB) and displays it in a notebook.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from matplotlib.figure import Figure

from maskstyle.utils.figures import image_grid

CHILD_TITLES = ("Au (parent)", "Be (parent)", "Ae = Dec(A,0)", "Bu = Dec(B,u)", "Au'", "Be'")


def save_and_show(fig: Figure, output_dir: str | os.PathLike, name: str):
    """Save ``fig`` as ``<output_dir>/<name>.png`` and display it (under IPython)."""
    from maskstyle import workbook

    path = workbook.save_figure(fig, output_dir, name)
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return path
    if get_ipython() is not None:
        display(Image(filename=str(path)))
    return path


def rows_figure(
    rows: Sequence[Sequence[torch.Tensor]],
    titles: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
    cell_size: float = 1.3,
) -> Figure:
    """A grid with one list of ``[3, H, W]`` images per row; ``titles`` label the first row's
    columns, ``row_labels`` prefix each row's first title."""
    ncol = len(rows[0])
    if any(len(r) != ncol for r in rows):
        raise ValueError("every row needs the same number of images")
    images = [img for row in rows for img in row]
    labels = None
    if titles is not None or row_labels is not None:
        labels = []
        for i in range(len(rows)):
            for j in range(ncol):
                text = titles[j] if (titles is not None and i == 0) else ""
                if row_labels is not None and j == 0:
                    text = f"{row_labels[i]}: {text}" if text else row_labels[i]
                labels.append(text)
    return image_grid(images, nrow=ncol, titles=labels, cell_size=cell_size)


def children_figure(snapshots: dict[int, torch.Tensor], max_rows: int = 4) -> Figure:
    """The four children (and parents) of one fixed training pair at several steps."""
    steps = sorted(snapshots)
    if len(steps) > max_rows:
        pick = torch.linspace(0, len(steps) - 1, max_rows).round().long().tolist()
        steps = [steps[i] for i in pick]
    rows = [list(snapshots[s][0]) for s in steps]  # pair 0: [6, 3, H, W]
    return rows_figure(rows, CHILD_TITLES, [f"step {s}" for s in steps])


def swap_figure(heads: torch.Tensor, rows: torch.Tensor, grid: torch.Tensor) -> Figure:
    """Fig. 4: ``grid[i, j]`` = row image ``i`` with column head ``j``'s object; the first
    row shows the heads, the first column the row images."""
    blank = torch.ones_like(heads[0])
    table = [[blank, *heads]] + [[rows[i], *grid[i]] for i in range(len(rows))]
    titles = ["row image / head"] + [f"head {j}" for j in range(len(heads))]
    return rows_figure(table, titles)


__all__ = ["CHILD_TITLES", "children_figure", "rows_figure", "save_and_show", "swap_figure"]
