"""An explorer of the face world: choose a seed, toggle regions of the label map, switch one
attribute on or off, and see the face and its mask update.

The face shown is one side of a counterfactual pair
(:func:`maskstyle.data.synth.counterfactual_pair`): the same face without and with the
chosen attribute, identical outside the attribute's region. Hidden regions are dimmed in
the face and drawn grey in the mask. Every widget change calls :meth:`FaceWorldExplorer.
refresh`, which recomputes :attr:`~FaceWorldExplorer.panels` (the picture, an ``uint8``
array) and writes it as PNG into the ``Image`` widget, so tests can set widget values and
check what is shown without a browser.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from maskstyle.data.labels import LABELS, PALETTE
from maskstyle.widgets._common import busy, png_bytes

HIDDEN_GREY = np.array([96, 96, 96], dtype=np.uint8)
DIM = 0.25  # brightness of hidden regions in the face panel
GAP = 4  # pixels between the face and the mask panel


@functools.lru_cache(maxsize=64)
def _pair(seed: int, size: int, attribute: str) -> dict:
    from maskstyle.data.synth import counterfactual_pair

    return counterfactual_pair(seed, size, attribute)


def compose_panels(image: Any, mask: Any, visible: set[int]) -> np.ndarray:
    """``[H, 2W + GAP, 3]`` uint8: the face (hidden labels dimmed) beside its coloured mask
    (hidden labels grey). ``image`` float ``[3, H, W]`` in [0, 1], ``mask`` int ``[H, W]``."""
    face = np.asarray(image, dtype=np.float32).transpose(1, 2, 0)
    labels = np.asarray(mask, dtype=np.int64)
    if face.shape[:2] != labels.shape:
        raise ValueError(f"image {face.shape[:2]} and mask {labels.shape} sizes differ")
    shown = np.isin(labels, sorted(visible))
    face = np.where(shown[..., None], face, face * DIM)
    face_u8 = np.round(np.clip(face, 0.0, 1.0) * 255).astype(np.uint8)
    mask_u8 = np.asarray(PALETTE, dtype=np.uint8)[labels]
    mask_u8[~shown] = HIDDEN_GREY
    gap = np.full((labels.shape[0], GAP, 3), 255, dtype=np.uint8)
    return np.concatenate([face_u8, gap, mask_u8], axis=1)


class FaceWorldExplorer:
    """Widgets: ``seed`` (slider), ``attribute`` (dropdown), ``with_attribute`` (toggle),
    ``regions`` (one toggle per label), ``image`` (the picture), ``status`` (HTML text).
    Display it with ``display(explorer.widget)`` (or just put ``explorer`` last in a cell)."""

    def __init__(
        self, seed: int = 0, size: int = 128, attribute: str = "Eyeglasses", max_seed: int = 999
    ) -> None:
        import ipywidgets as w

        from maskstyle.data.synth import COUNTERFACTUALS

        if attribute not in COUNTERFACTUALS:
            raise ValueError(
                f"unknown attribute {attribute!r}; choose one of {', '.join(COUNTERFACTUALS)}"
            )
        if not isinstance(size, int) or size < 32:
            raise ValueError(f"size must be an int of at least 32 pixels, got {size!r}")
        if not 0 <= seed <= max_seed:
            raise ValueError(f"seed must be in [0, {max_seed}], got {seed}")
        self.size = size
        self.seed = w.IntSlider(value=seed, min=0, max=max_seed, description="seed")
        self.attribute = w.Dropdown(
            options=list(COUNTERFACTUALS), value=attribute, description="attribute"
        )
        self.with_attribute = w.ToggleButton(value=False, description="with attribute")
        self.regions = {
            name: w.ToggleButton(
                value=True,
                description=name,
                tooltip=f"label {i}: show or hide {name}",
                layout=w.Layout(width="80px"),
            )
            for i, name in enumerate(LABELS)
        }
        self.image = w.Image(format="png")
        self.image.add_class("maskstyle-output")
        for name in ("seed", "attribute", "with_attribute"):
            getattr(self, name).add_class(f"maskstyle-{name}")
        self.status = w.HTML()
        self.busy = w.HTML()
        for control in (self.seed, self.attribute, self.with_attribute, *self.regions.values()):
            control.observe(self.refresh, names="value")
        self.widget = w.VBox(
            [
                w.HBox([self.seed, self.attribute, self.with_attribute]),
                w.GridBox(
                    list(self.regions.values()),
                    layout=w.Layout(grid_template_columns="repeat(7, 84px)"),
                ),
                self.busy,
                self.image,
                self.status,
            ]
        )
        self.widget.add_class("maskstyle-demo")
        self.sample: dict = {}
        self.panels = np.zeros((0, 0, 3), dtype=np.uint8)
        self.refresh()

    @property
    def visible_labels(self) -> set[int]:
        """Label ids whose region toggle is on."""
        return {LABELS.index(name) for name, t in self.regions.items() if t.value}

    def current_pair(self) -> dict:
        """The counterfactual pair (without / with the attribute) of the current seed."""
        return _pair(int(self.seed.value), self.size, self.attribute.value)

    def refresh(self, _change: Any = None) -> None:
        """Re-render from the widgets' values: ``sample``, ``panels``, ``image``, ``status``."""
        with busy(self.busy):
            self._refresh()

    def _refresh(self) -> None:
        pair = self.current_pair()
        self.sample = pair["with" if self.with_attribute.value else "without"]
        self.panels = compose_panels(self.sample["image"], self.sample["mask"], self.visible_labels)
        self.image.value = png_bytes(self.panels)
        mask = self.sample["mask"]
        changed = int((pair["with"]["mask"] != pair["without"]["mask"]).sum())
        present = [LABELS[i] for i in sorted(np.unique(np.asarray(mask)).tolist())]
        hidden = sorted(set(LABELS) - {LABELS[i] for i in self.visible_labels})
        state = "with" if self.with_attribute.value else "without"
        self.status.value = (
            f"face world (synthetic) seed {self.seed.value}, {self.size} px, {state} "
            f"{self.attribute.value}: {changed} mask pixels differ between the two; "
            f"labels present: {', '.join(present)}; hidden: {', '.join(hidden) or 'none'}"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
