"""The painter's canvas: layers composited back to front, with the label map alongside.

Each layer has a coverage ``alpha`` in ``[0, 1]`` and a colour; the image becomes
``I <- I (1 - alpha) + colour * alpha`` ("over" compositing) and the label map takes the
layer's label wherever ``alpha > 0.5``. A layer may be *tagged* (``"eyeglasses"``,
``"hair_colour"``, ...): the canvas keeps, per tag, where any tagged layer touched the
image (``alpha > 0``) - the exact support a counterfactual attribute can change.
"""

from __future__ import annotations

import numpy as np


class Canvas:
    def __init__(self, size: int) -> None:
        self.size = size
        self.image = np.zeros((size, size, 3), np.float32)
        self.label = np.zeros((size, size), np.int64)
        self.support: dict[str, np.ndarray] = {}

    def paint(
        self,
        alpha: np.ndarray,
        colour: np.ndarray | tuple[float, float, float],
        label: int | None = None,
        tag: str | tuple[str, ...] | None = None,
        keep: tuple[int, ...] = (),
        label_alpha: np.ndarray | None = None,
        win: tuple[slice, slice] | None = None,
    ) -> None:
        """Composite one layer.

        ``keep`` lists labels this layer must not overwrite; ``label_alpha`` (default
        ``alpha``) is the coverage that decides the label, for see-through layers such as
        tinted lenses whose region is labelled although they barely change the colour.
        ``win`` (row and column slices) says which pixels ``alpha`` and ``colour`` cover.
        """
        win = win or (slice(None), slice(None))
        alpha = np.asarray(alpha, np.float32)
        colour = np.asarray(colour, np.float32)
        image = self.image[win]
        a = alpha[..., None]
        # (1 - a) I + a c, not I + a (c - I): exact where a is 0 or 1, so opaque layers
        # leave no trace of what lies beneath (pairs compare pixels exactly)
        image *= 1.0 - a
        image += a * colour
        if label is not None:
            labels = self.label[win]
            inside = (alpha if label_alpha is None else label_alpha) > 0.5
            if keep:
                inside &= ~np.isin(labels, keep)
            labels[inside] = label
        if tag is not None:
            touched = alpha > 0
            if label_alpha is not None:
                touched |= label_alpha > 0
            for name in (tag,) if isinstance(tag, str) else tag:
                if name not in self.support:
                    self.support[name] = np.zeros((self.size, self.size), bool)
                self.support[name][win] |= touched
