"""Demo of LOMIT: pick an input and an exemplar (face-world faces, or upload a photo as the
input), see both co-segmentation masks and the translation, and paint or erase the masks
with the mouse to choose what is translated (the paper's mask editing, Fig. 4 a'-c').

The editable mask is drawn on an ``ipycanvas.Canvas``; its mouse callbacks
(:meth:`LOMITDemo.on_mouse_down`, :meth:`on_mouse_move`, :meth:`on_mouse_up`) call
:meth:`LOMITDemo.paint_at` and, at the end of a stroke, :meth:`LOMITDemo.refresh`, which
writes the panels (input | mask 1 | exemplar | mask 2 | output) as PNG into ``image``: tests
drive the same callbacks headless.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import torch

from maskstyle.models.lomit.model import LOMIT

GAP = 4
SCALE = 4  # canvas pixels per mask pixel


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    """``[3, H, W]`` in [0, 1] -> ``[H, W, 3]`` uint8; ``[1, H, W]`` masks become grey."""
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    array = image.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    return np.round(array * 255).astype(np.uint8)


class LOMITDemo:
    """Widgets: ``input_index``, ``exemplar_index``, ``upload`` (a photo as the input),
    ``editing`` (which mask the canvas edits), ``brush`` (paint / erase), ``brush_size``,
    ``reset``, ``canvas``, ``image``, ``status``.

    ``images`` ``[N, 3, H, W]`` are the faces to choose from (e.g. held-out face-world faces)
    at the model's size; ``weights`` says what the model is (for the status line).
    """

    def __init__(self, model: LOMIT, images: torch.Tensor, weights: str = "untrained",
                 input_index: int = 0, exemplar_index: int = 1) -> None:  # fmt: skip
        import ipywidgets as widgets
        from ipycanvas import Canvas

        size = model.config.image_size
        if images.dim() != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(
                f"images must be [N, 3, {size}, {size}] (the model's size), got "
                f"{tuple(images.shape)}: resize them or build the model for their size"
            )
        if not model.config.use_masks:
            raise ValueError("the demo edits masks: give a LOMIT with use_masks=True")
        self.model, self.images, self.weights, self.size = model.eval(), images, weights, size
        last = images.shape[0] - 1
        self.input_index = widgets.BoundedIntText(value=input_index, min=0, max=last,
                                                  description="input")  # fmt: skip
        self.exemplar_index = widgets.BoundedIntText(value=exemplar_index, min=0, max=last,
                                                     description="exemplar")  # fmt: skip
        self.upload = widgets.FileUpload(accept="image/*", multiple=False,
                                         description="input photo")  # fmt: skip
        self.editing = widgets.ToggleButtons(options=["input mask", "exemplar mask"])
        self.brush = widgets.ToggleButtons(options=["erase", "paint"], value="erase")
        self.brush_size = widgets.IntSlider(value=max(1, size // 16), min=1, max=size,
                                            description="brush")  # fmt: skip
        self.reset = widgets.Button(description="reset masks")
        self.canvas = Canvas(width=size * SCALE, height=size * SCALE)
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        self.uploaded: torch.Tensor | None = None
        self.masks: list[torch.Tensor | None] = [None, None]  # edited masks, [1, 1, H, W]
        self.auto: list[torch.Tensor] = []
        self.painting = False
        self.output: torch.Tensor | None = None
        for control in (self.input_index, self.exemplar_index):
            control.observe(self._new_pair, names="value")
        self.editing.observe(lambda _: self.draw_canvas(), names="value")
        self.upload.observe(self._on_upload, names="value")
        self.reset.on_click(lambda _: self._new_pair())
        self.canvas.on_mouse_down(self.on_mouse_down)
        self.canvas.on_mouse_move(self.on_mouse_move)
        self.canvas.on_mouse_up(self.on_mouse_up)
        self._new_pair()

    # ---- data -------------------------------------------------------------------------
    def pair(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x1, x2)`` ``[1, 3, H, W]``: the uploaded photo (if any) or face ``input_index``."""
        x1 = self.uploaded if self.uploaded is not None else self.images[self.input_index.value]
        return x1[None], self.images[self.exemplar_index.value][None]

    def _on_upload(self, change: Any) -> None:
        from PIL import Image

        files = change["new"]
        if not files:
            return
        item = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        data = bytes(item["content"])
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            side = min(img.size)
            left, top = (img.width - side) // 2, (img.height - side) // 2
            img = img.crop((left, top, left + side, top + side)).resize((self.size, self.size))
            array = np.asarray(img, dtype=np.float32) / 255.0
        self.uploaded = torch.from_numpy(array).permute(2, 0, 1).contiguous()
        self._new_pair()

    def _new_pair(self, _change: Any = None) -> None:
        """New input or exemplar: the co-segmentation masks become the editable masks."""
        x1, x2 = self.pair()
        with torch.no_grad():
            result = self.model.translate(x1, x2)
        self.auto = [result["mask1"], result["mask2"]]
        self.masks = [m.clone() for m in self.auto]
        self.draw_canvas()
        self.refresh()

    # ---- mouse ------------------------------------------------------------------------
    @property
    def edited(self) -> int:
        return 0 if self.editing.value == "input mask" else 1

    def paint_at(self, x: float, y: float) -> None:
        """Paint (1) or erase (0) a disc of ``brush_size`` mask pixels at canvas ``(x, y)``."""
        cx, cy = x / SCALE, y / SCALE
        yy, xx = torch.meshgrid(torch.arange(self.size) + 0.5, torch.arange(self.size) + 0.5,
                                indexing="ij")  # fmt: skip
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= self.brush_size.value**2
        value = 1.0 if self.brush.value == "paint" else 0.0
        self.masks[self.edited][0, 0][disc] = value

    def on_mouse_down(self, x: float, y: float) -> None:
        self.painting = True
        self.paint_at(x, y)
        self.draw_canvas()

    def on_mouse_move(self, x: float, y: float) -> None:
        if self.painting:
            self.paint_at(x, y)
            self.draw_canvas()

    def on_mouse_up(self, x: float, y: float) -> None:
        """End of a stroke: translate with the edited masks."""
        if self.painting:
            self.painting = False
            self.refresh()

    # ---- drawing ----------------------------------------------------------------------
    def draw_canvas(self) -> None:
        """The edited mask (red) over its image on the canvas."""
        x = self.pair()[self.edited][0]
        m = self.masks[self.edited][0]
        tint = torch.tensor([1.0, 0.1, 0.1])[:, None, None]
        over = x * (1 - 0.6 * m) + tint * 0.6 * m
        array = np.repeat(np.repeat(_to_uint8(over), SCALE, axis=0), SCALE, axis=1)
        self.canvas.put_image_data(array, 0, 0)

    def refresh(self, _change: Any = None) -> None:
        """Translate with the current (possibly edited) masks; update ``image`` and ``status``."""
        from PIL import Image

        x1, x2 = self.pair()
        with torch.no_grad():
            result = self.model.translate(x1, x2, mask_override=(self.masks[0], self.masks[1]))
        self.output = result["output"]
        panels = [x1[0], self.masks[0][0], x2[0], self.masks[1][0], self.output[0]]
        gap = np.full((self.size, GAP, 3), 255, dtype=np.uint8)
        tiles: list[np.ndarray] = []
        for p in panels:
            tiles += [_to_uint8(p), gap]
        self.panels = np.concatenate(tiles[:-1], axis=1)
        buffer = io.BytesIO()
        Image.fromarray(self.panels).save(buffer, format="PNG")
        self.image.value = buffer.getvalue()
        edited = [float((m - a).abs().mean()) for m, a in zip(self.masks, self.auto)]
        source = "uploaded photo" if self.uploaded is not None else f"face {self.input_index.value}"
        self.status.value = (
            f"input: {source}; exemplar: face {self.exemplar_index.value}; panels: input | "
            f"input mask | exemplar | exemplar mask | output; mask coverage "
            f"{float(self.masks[0].mean()):.2f} / {float(self.masks[1].mean()):.2f} (edited "
            f"{edited[0]:.2f} / {edited[1]:.2f} from co-segmentation); weights: {self.weights}"
        )

    def widget(self) -> Any:
        import ipywidgets as widgets

        controls = widgets.HBox([self.input_index, self.exemplar_index, self.upload])
        tools = widgets.HBox([self.editing, self.brush, self.brush_size, self.reset])
        return widgets.VBox([controls, tools, widgets.HBox([self.canvas, self.image]),
                             self.status])  # fmt: skip
