"""Demo of LOMIT: pick an input and an exemplar (face-world faces, or upload a photo as the
input), see both co-segmentation masks and the translation, and paint or erase the masks
with the mouse to choose what is translated (the paper's mask editing, Fig. 4 a'-c').

The mask being edited is shown in the shared
:class:`~maskstyle.widgets.mask_painter.MaskPainter` as a two-class map over its image:
"keep" (0, the background of the translation) and "translate" (1), the co-segmentation mask
thresholded at 0.5. Pixels a stroke changed take the painted value (0 or 1); the others keep
the network's soft mask, so an unedited mask translates exactly as
:meth:`LOMIT.translate` does. After every stroke, undo and reset the painter calls
:meth:`LOMITDemo.refresh`, which writes the panels (input | mask 1 | exemplar | mask 2 |
output) as PNG into ``image``; tests drive the same callbacks headless.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import torch

from maskstyle.models.lomit.model import LOMIT
from maskstyle.widgets._common import busy, png_bytes, to_uint8, uploaded_bytes
from maskstyle.widgets.mask_painter import MaskPainter, MaskPainterState

GAP = 4
MASK_CLASSES = ("keep", "translate")
"""The painter's two classes: 0 keeps the input (HAdaIN's background), 1 is translated."""
MASK_PALETTE = ((0, 0, 0), (230, 40, 40))
EDITING = ("input mask", "exemplar mask")


def _uint8(image: torch.Tensor) -> np.ndarray:
    """``[3, H, W]`` (or a ``[1, H, W]`` mask, shown grey) -> ``[H, W, 3]`` uint8."""
    return to_uint8(image.expand(3, -1, -1) if image.shape[0] == 1 else image)


class LOMITDemo:
    """Widgets: ``input_index``, ``exemplar_index`` (sliders over ``images``), ``upload`` (a
    photo as the input), ``editing`` (which mask the painter edits), ``painter`` (the
    :class:`MaskPainter`: label, paint/erase, brush, undo, reset), ``image`` (the panels),
    ``busy``, ``status``.

    ``images`` ``[N, 3, H, W]`` are the faces to choose from (e.g. held-out face-world faces)
    at the model's size; ``weights`` says what the model is (for the status line).
    """

    def __init__(self, model: LOMIT, images: torch.Tensor, weights: str = "untrained",
                 input_index: int = 0, exemplar_index: int = 1) -> None:  # fmt: skip
        import ipywidgets as w

        size = model.config.image_size
        if images.dim() != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(
                f"images must be [N, 3, {size}, {size}] (the model's size), got "
                f"{tuple(images.shape)}: resize them or build the model for their size"
            )
        if not model.config.use_masks:
            raise ValueError("the demo edits masks: give a LOMIT with use_masks=True")
        if images.shape[0] < 2:
            raise ValueError("give at least two faces (an input and an exemplar)")
        self.model, self.images, self.weights, self.size = model.eval(), images, weights, size
        last = images.shape[0] - 1
        self.input_index = w.IntSlider(value=input_index, min=0, max=last, description="input")
        self.exemplar_index = w.IntSlider(value=exemplar_index, min=0, max=last,
                                          description="exemplar")  # fmt: skip
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="input photo")
        self.editing = w.ToggleButtons(options=EDITING, value=EDITING[0])
        self.image = w.Image(format="png")
        self.image.add_class("maskstyle-output")
        for name in ("input_index", "exemplar_index", "upload", "editing"):
            getattr(self, name).add_class(f"maskstyle-{name}")
        self.busy = w.HTML()
        self.status = w.HTML()
        self.uploaded: torch.Tensor | None = None
        self.auto: list[torch.Tensor] = []  # co-segmentation masks, [1, 1, H, W]
        self.states: list[MaskPainterState] = []  # each mask's painted map and undo stack
        self.output: torch.Tensor | None = None
        self.panels = np.zeros((0, 0, 3), dtype=np.uint8)
        self._shown = 0  # which mask the painter holds
        x1, _ = self.pair()
        self.painter = MaskPainter(x1[0], np.zeros((size, size), np.int64), label="translate",
                                   brush=max(1, size // 16), classes=MASK_CLASSES,
                                   palette=MASK_PALETTE)  # fmt: skip
        self.painter.on_edit(self._on_paint)
        for control in (self.input_index, self.exemplar_index):
            control.observe(self._new_pair, names="value")
        self.editing.observe(self._switch_mask, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.widget = w.VBox([
            w.HBox([self.input_index, self.exemplar_index, self.upload]),
            w.HBox([w.Label("edit:"), self.editing]),
            w.HTML("<b>mask</b> (red: translated): paint <i>translate</i> to add a region, "
                   "erase it to keep the input there"),
            self.painter.widget, self.busy, self.image, self.status,
        ])  # fmt: skip
        self.widget.add_class("maskstyle-demo")
        self._new_pair()

    # ---- data -------------------------------------------------------------------------
    def pair(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x1, x2)`` ``[1, 3, H, W]``: the uploaded photo (if any) or face ``input_index``."""
        x1 = self.uploaded if self.uploaded is not None else self.images[self.input_index.value]
        return x1[None], self.images[self.exemplar_index.value][None]

    def _on_upload(self, change: Any) -> None:
        from PIL import Image

        data = uploaded_bytes(change)
        if data is None:
            self.uploaded = None
        else:
            with busy(self.busy), Image.open(io.BytesIO(data)) as img:
                img = img.convert("RGB")
                side = min(img.size)
                left, top = (img.width - side) // 2, (img.height - side) // 2
                img = img.crop((left, top, left + side, top + side)).resize((self.size,) * 2)
                array = np.asarray(img, dtype=np.float32) / 255.0
            self.uploaded = torch.from_numpy(array).permute(2, 0, 1).contiguous()
        self._new_pair()

    def _new_pair(self, _change: Any = None) -> None:
        """New input or exemplar: the co-segmentation masks become the editable masks."""
        with busy(self.busy):
            x1, x2 = self.pair()
            with torch.no_grad():
                result = self.model.translate(x1, x2)
            self.auto = [result["mask1"], result["mask2"]]
            self.states = [MaskPainterState((m[0, 0] >= 0.5).long().numpy(), classes=MASK_CLASSES)
                           for m in self.auto]  # fmt: skip
            self._show_in_painter(self._shown)
            self._refresh()

    # ---- masks ------------------------------------------------------------------------
    @property
    def edited(self) -> int:
        """0 while the painter edits the input's mask, 1 for the exemplar's."""
        return EDITING.index(self.editing.value)

    @property
    def masks(self) -> list[torch.Tensor]:
        """The masks the translation uses, ``[1, 1, H, W]`` each: the painted value where a
        stroke changed the thresholded map, the network's soft mask elsewhere."""
        out = []
        for auto, state in zip(self.auto, self.states):
            painted_t = torch.from_numpy(state.label_map())
            changed = painted_t != (auto[0, 0] >= 0.5).long()
            out.append(torch.where(changed, painted_t.float(), auto[0, 0])[None, None])
        return out

    def _show_in_painter(self, k: int) -> None:
        """Hand mask ``k``'s state (its map and undo stack) to the painter."""
        self.painter.set_image(self.pair()[k][0], self.states[k].original)
        self.painter.state = self.states[k]
        self.painter.redraw()
        self._shown = k

    def _switch_mask(self, _change: Any = None) -> None:
        self._show_in_painter(self.edited)

    def _on_paint(self, _painter: MaskPainter) -> None:
        self.refresh()

    # ---- output -----------------------------------------------------------------------
    def refresh(self, _change: Any = None) -> None:
        """Translate with the current (possibly edited) masks; update ``image`` and ``status``."""
        with busy(self.busy):
            self._refresh()

    def _refresh(self) -> None:
        x1, x2 = self.pair()
        masks = self.masks
        with torch.no_grad():
            result = self.model.translate(x1, x2, mask_override=(masks[0], masks[1]))
        self.output = result["output"]
        panels = [x1[0], masks[0][0], x2[0], masks[1][0], self.output[0]]
        gap = np.full((self.size, GAP, 3), 255, dtype=np.uint8)
        tiles: list[np.ndarray] = []
        for p in panels:
            tiles += [_uint8(p), gap]
        self.panels = np.concatenate(tiles[:-1], axis=1)
        self.image.value = png_bytes(self.panels)
        edited = [float((m - a).abs().mean()) for m, a in zip(masks, self.auto)]
        source = "uploaded photo" if self.uploaded is not None else f"face {self.input_index.value}"
        self.status.value = (
            f"input: {source}; exemplar: face {self.exemplar_index.value}; panels: input | "
            f"input mask | exemplar | exemplar mask | output; mask coverage "
            f"{float(masks[0].mean()):.2f} / {float(masks[1].mean()):.2f} (edited "
            f"{edited[0]:.2f} / {edited[1]:.2f} from co-segmentation); weights: {self.weights}"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


__all__ = ["LOMITDemo", "MASK_CLASSES"]
