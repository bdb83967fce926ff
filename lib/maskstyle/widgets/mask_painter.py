"""A mask painter: an image with its 19-class label map as a translucent overlay; paint or
erase a label with a round brush, undo, reset to the first map, and hand out the edited map.
Other class sets work too (``classes=``/``palette=``): LOMIT's demo paints a two-class
map, "keep" (0) and "translate" (1), over its attention mask.

Two layers:

- :class:`MaskPainterState` is the pure NumPy state (no widgets): the label map, the first
  map (``reset`` returns to it), an undo stack, :meth:`~MaskPainterState.paint` /
  :meth:`~MaskPainterState.erase` along a stroke, and :func:`overlay`. Tests drive it headless.
- :class:`MaskPainter` shows the overlay in an ``ipywidgets.Image`` whose mouse events come
  from ``ipyevents`` (pixel coordinates in the picture; the picture is the map scaled up by
  a whole factor), with a label chooser, a paint/erase switch, a brush-size slider, undo and
  reset buttons and a legend of the 19 classes in the workbook's palette
  (:data:`maskstyle.data.labels.PALETTE`). While the mouse drags, the stroke so far is drawn
  on a provisional copy of the map; when the button goes up it is committed (one undo step)
  and every callback registered with :meth:`MaskPainter.on_edit` runs (a demo re-runs its
  method on the edited map). The picture is widget state (not canvas drawing commands), so
  it shows the same in JupyterLab and in Voila. An image given without a map gets its first map
  from :func:`maskstyle.data.parse_face.parse_face`.

Coordinates: ``(x, y)`` in label-map pixels, pixel ``(i, j)``'s centre at ``x = j, y = i``.
A brush of radius ``r`` covers the pixels whose centre lies within ``r`` (Euclidean) of
the stroke: the segments between consecutive points, or the one point of a click.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from maskstyle.data.labels import LABELS, PALETTE
from maskstyle.widgets._common import to_uint8

_PALETTE = np.asarray(PALETTE, dtype=np.uint8)
BACKGROUND = 0
ALPHA = 0.45
"""Opacity of the label colours over the image (background stays unpainted)."""


def _check_labels(labels: Any, num_classes: int = len(LABELS)) -> np.ndarray:
    if hasattr(labels, "detach"):
        labels = labels.detach().cpu().numpy()
    array = np.asarray(labels)
    if array.ndim != 2:
        raise ValueError(f"a label map must be [H, W], got shape {array.shape}")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"a label map must hold integer labels, got {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"label values span [{array.min()}, {array.max()}]; labels are 0..{num_classes - 1}"
        )
    return array.astype(np.int64)


def _label_id(label: int | str, classes: Sequence[str] = LABELS) -> int:
    if isinstance(label, str):
        if label not in classes:
            raise ValueError(f"unknown label {label!r}; choose one of {', '.join(classes)}")
        return list(classes).index(label)
    if not 0 <= int(label) < len(classes):
        raise ValueError(f"label {label} is outside 0..{len(classes) - 1}")
    return int(label)


def _check_palette(palette: Any, classes: Sequence[str]) -> np.ndarray:
    array = np.asarray(palette, dtype=np.uint8)
    if array.shape != (len(classes), 3):
        raise ValueError(
            f"palette must give one RGB colour per class ({len(classes)} x 3), got {array.shape}"
        )
    return array


def brush_footprint(
    shape: tuple[int, int], points: Sequence[tuple[float, float]], radius: float
) -> np.ndarray:
    """Bool ``[H, W]``: pixels whose centre lies within ``radius`` of the polyline ``points``
    (``(x, y)`` pairs; one point is a round dot)."""
    if radius < 0:
        raise ValueError(f"brush radius must be >= 0, got {radius}")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError("a stroke needs at least one (x, y) point")
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    hit = np.zeros((h, w), dtype=bool)
    starts, ends = pts if len(pts) == 1 else pts[:-1], pts if len(pts) == 1 else pts[1:]
    for (x0, y0), (x1, y1) in zip(starts, ends):  # loop over stroke segments, not pixels
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0, 1)
        dist2 = (xs - (x0 + t * dx)) ** 2 + (ys - (y0 + t * dy)) ** 2
        hit |= dist2 <= radius * radius
    return hit


def overlay(image: np.ndarray, labels: np.ndarray, alpha: float = ALPHA,
            palette: Any = _PALETTE) -> np.ndarray:  # fmt: skip
    """``[H, W, 3]`` uint8: the image with every non-background label's palette colour laid
    over it at opacity ``alpha`` (``palette``: one RGB row per class)."""
    palette = np.asarray(palette, dtype=np.uint8)
    labels = _check_labels(labels, len(palette))
    image = np.asarray(image)
    if image.shape != (*labels.shape, 3) or image.dtype != np.uint8:
        raise ValueError(
            f"image must be uint8 [H, W, 3] matching the map {labels.shape}, got "
            f"{image.dtype} {image.shape}"
        )
    colour = palette[labels].astype(np.float32)
    mixed = (1 - alpha) * image.astype(np.float32) + alpha * colour
    out = np.where((labels != BACKGROUND)[..., None], mixed, image.astype(np.float32))
    return np.round(out).astype(np.uint8)


class MaskPainterState:
    """The editable label map: ``paint``, ``erase``, ``undo``, ``reset``, ``label_map``.

    ``labels``: the first map (int ``[H, W]``, values 0..``len(classes) - 1``; the face
    parser's 19 classes by default). Every edit that changes a pixel pushes the previous map
    on the undo stack (at most ``max_undo`` steps kept); ``reset`` is an edit too (undo
    brings the painted map back).
    """

    def __init__(self, labels: Any, max_undo: int = 50, classes: Sequence[str] = LABELS) -> None:
        self.classes = tuple(classes)
        self.original = _check_labels(labels, len(self.classes))
        self.labels = self.original.copy()
        self.max_undo = max_undo
        self._undo: list[np.ndarray] = []

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape  # type: ignore[return-value]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def edited_pixels(self) -> int:
        """Pixels whose label differs from the first map."""
        return int((self.labels != self.original).sum())

    def _apply(self, new: np.ndarray) -> int:
        changed = int((new != self.labels).sum())
        if changed:
            self._undo.append(self.labels)
            del self._undo[: -self.max_undo]
            self.labels = new
        return changed

    def paint(self, points: Sequence[tuple[float, float]], label: int | str, radius: float) -> int:
        """Set every pixel under the stroke to ``label``; returns how many pixels changed."""
        hit = brush_footprint(self.shape, points, radius)
        return self._apply(np.where(hit, _label_id(label, self.classes), self.labels))

    def erase(self, points: Sequence[tuple[float, float]], label: int | str, radius: float) -> int:
        """Pixels of ``label`` under the stroke become background; returns how many changed."""
        hit = brush_footprint(self.shape, points, radius) & (
            self.labels == _label_id(label, self.classes)
        )
        return self._apply(np.where(hit, BACKGROUND, self.labels))

    def undo(self) -> bool:
        """Go back one edit; False when there is nothing to undo."""
        if not self._undo:
            return False
        self.labels = self._undo.pop()
        return True

    def reset(self) -> int:
        """Back to the first map (undoable); returns how many pixels changed."""
        return self._apply(self.original.copy())

    def label_map(self) -> np.ndarray:
        """A copy of the current map, int64 ``[H, W]``."""
        return self.labels.copy()


def legend_html(labels: Sequence[str] = LABELS, palette: Any = _PALETTE) -> str:
    """HTML: a colour swatch and the name of each label (the workbook's palette by default;
    ``palette`` gives one RGB row per label)."""
    palette = _check_palette(palette, labels)
    items = "".join(
        f'<span style="display:inline-block;margin:1px 6px 1px 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:11px;height:11px;border:1px solid #444;'
        f"background:rgb{tuple(int(c) for c in palette[i])};"
        f'vertical-align:middle"></span> {i} {name}</span>'
        for i, name in enumerate(labels)
    )
    return f'<div class="maskstyle-legend" style="font-size:11px;max-width:520px">{items}</div>'


def _as_uint8_image(image: Any) -> np.ndarray:
    if hasattr(image, "detach") or (np.asarray(image).ndim == 3 and np.asarray(image).shape[0] == 3
                                    and np.asarray(image).dtype != np.uint8):  # fmt: skip
        return to_uint8(image)
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"image must be [3, H, W] float or [H, W, 3] uint8, got {array.shape}")
    return array.astype(np.uint8)


class MaskPainter:
    """The painting widget (``display(painter.widget)``).

    ``image``: ``[3, H, W]`` float in [0, 1] (tensor or array) or ``[H, W, 3]`` uint8.
    ``labels``: its first label map; ``None`` asks ``parse_face`` (a photo of a face).
    ``display_size``: the picture's side in screen pixels (the map is scaled by a whole
    factor). ``classes``/``palette``: another class set than the face parser's 19 (names, and
    one RGB row each; class 0 is the unpainted background). Widgets: ``view`` (the picture),
    ``label`` (dropdown), ``mode`` (paint/erase),
    ``brush`` (radius in map pixels), ``undo_button``, ``reset_button``, ``legend``, ``info``.
    """

    def __init__(
        self,
        image: Any,
        labels: Any = None,
        label: int | str = "skin",
        brush: int = 3,
        display_size: int = 256,
        alpha: float = ALPHA,
        classes: Sequence[str] = LABELS,
        palette: Any = _PALETTE,
    ) -> None:
        import ipywidgets as w
        from ipyevents import Event

        self.alpha, self.display_size = alpha, display_size
        self.classes = tuple(classes)
        self.palette = _check_palette(palette, self.classes)
        self.label = w.Dropdown(
            options=[(f"{i} {name}", i) for i, name in enumerate(self.classes)],
            value=_label_id(label, self.classes), description="label",
            layout=w.Layout(width="190px"),
        )  # fmt: skip
        self.mode = w.ToggleButtons(options=["paint", "erase"], value="paint",
                                    style={"button_width": "60px"})  # fmt: skip
        self.brush = w.IntSlider(value=brush, min=1, max=16, description="brush",
                                 layout=w.Layout(width="260px"))  # fmt: skip
        self.undo_button = w.Button(description="undo", icon="undo", layout=w.Layout(width="80px"))
        self.reset_button = w.Button(description="reset", icon="refresh",
                                     layout=w.Layout(width="80px"))  # fmt: skip
        self.legend = w.HTML(legend_html(self.classes, self.palette))
        self.info = w.HTML()
        self.view = w.Image(format="png")
        self.view.add_class("maskstyle-painter-view")
        self.undo_button.on_click(lambda _b: self.undo())
        self.reset_button.on_click(lambda _b: self.reset())
        # clicks unthrottled (a lost button-up would leave a stroke open), moves throttled
        self._clicks = Event(source=self.view, prevent_default_action=True,
                             watched_events=["mousedown", "mouseup", "mouseleave"])  # fmt: skip
        self._moves = Event(
            source=self.view, watched_events=["mousemove"], wait=40,
            throttle_or_debounce="throttle", prevent_default_action=True,
        )  # fmt: skip
        self._clicks.on_dom_event(self._on_event)
        self._moves.on_dom_event(self._on_event)
        self.widget = w.VBox(
            [
                w.HBox([self.label, self.mode, self.brush]),
                w.HBox([self.view, w.VBox([self.undo_button, self.reset_button])]),
                self.legend,
                self.info,
            ]
        )
        self.widget.add_class("maskstyle-painter")
        self._callbacks: list[Callable[[MaskPainter], Any]] = []
        self._stroke: list[tuple[float, float]] = []
        self.set_image(image, labels)

    # ---- state ----------------------------------------------------------------------------
    def set_image(self, image: Any, labels: Any = None) -> None:
        """Show a new image; its map (or ``parse_face``'s) becomes the first map. No callback
        runs (the caller changed the image and knows)."""
        self.image = _as_uint8_image(image)
        if labels is None:
            if self.classes != tuple(LABELS):
                raise ValueError(
                    "no label map given: parse_face makes the 19-class face map only; give "
                    f"a map of the painter's classes {self.classes}"
                )
            from maskstyle.data.parse_face import parse_face

            labels = parse_face(self.image)
        self.state = MaskPainterState(labels, classes=self.classes)
        if self.state.shape != self.image.shape[:2]:
            raise ValueError(
                f"image {self.image.shape[:2]} and label map {self.state.shape} sizes differ"
            )
        self.scale = max(1, self.display_size // max(self.state.shape))
        h, w = self.state.shape
        self.view.layout.width = f"{w * self.scale}px"
        self.view.layout.height = f"{h * self.scale}px"
        self._provisional: np.ndarray | None = None
        self.redraw()

    def label_map(self) -> Any:
        """The edited map as an int64 ``torch`` tensor ``[H, W]`` (the library's convention)."""
        import torch

        return torch.from_numpy(self.state.label_map())

    def on_edit(self, callback: Callable[[MaskPainter], Any]) -> None:
        """Call ``callback(painter)`` after every stroke, undo and reset that changed the map."""
        self._callbacks.append(callback)

    def _edited(self, changed: int | bool) -> None:
        self.redraw()
        if changed:
            for callback in self._callbacks:
                callback(self)

    def stroke(self, points: Sequence[tuple[float, float]]) -> int:
        """Paint or erase (``mode``) the chosen ``label`` along ``points`` (map pixels) with
        the ``brush`` radius; what a mouse drag does. Returns the pixels changed."""
        action = self.state.paint if self.mode.value == "paint" else self.state.erase
        changed = action(points, self.label.value, self.brush.value)
        self._edited(changed)
        return changed

    def undo(self) -> bool:
        done = self.state.undo()
        self._edited(done)
        return done

    def reset(self) -> int:
        changed = self.state.reset()
        self._edited(changed)
        return changed

    # ---- drawing --------------------------------------------------------------------------
    def picture(self) -> np.ndarray:
        """``[H, W, 3]`` uint8: the image with the current map over it."""
        return overlay(self.image, self.state.labels, self.alpha, self.palette)

    def redraw(self, labels: np.ndarray | None = None) -> None:
        """Show :meth:`picture` (or the overlay of ``labels``), scaled up, nearest neighbour."""
        from maskstyle.widgets._common import png_bytes

        shown = (self.picture() if labels is None
                 else overlay(self.image, labels, self.alpha, self.palette))  # fmt: skip
        self.view.value = png_bytes(np.repeat(np.repeat(shown, self.scale, 0), self.scale, 1))
        present = np.unique(self.state.labels).tolist()
        self.info.value = (
            f"<small>{self.state.shape[1]}x{self.state.shape[0]} label map; "
            f"{self.state.edited_pixels} pixels edited; labels present: "
            f"{', '.join(self.classes[i] for i in present)}</small>"
        )

    # ---- mouse ----------------------------------------------------------------------------
    def _on_event(self, event: dict) -> None:
        """An ipyevents mouse event; ``dataX``/``dataY`` are pixels of the shown picture."""
        handlers = {"mousedown": self._mouse_down, "mousemove": self._mouse_move,
                    "mouseup": self._mouse_up, "mouseleave": self._mouse_up}  # fmt: skip
        handler = handlers.get(event.get("type", ""))
        if handler is not None and "dataX" in event:
            handler(float(event["dataX"]), float(event["dataY"]))

    def _to_map(self, x: float, y: float) -> tuple[float, float]:
        return x / self.scale - 0.5, y / self.scale - 0.5

    def _mouse_down(self, x: float, y: float) -> None:
        self._stroke = [self._to_map(x, y)]
        self._provisional = self.state.label_map()
        self._draw_segment(self._stroke)

    def _mouse_move(self, x: float, y: float) -> None:
        if self._stroke:
            self._stroke.append(self._to_map(x, y))
            self._draw_segment(self._stroke[-2:])

    def _mouse_up(self, x: float, y: float) -> None:
        if self._stroke:
            points, self._stroke, self._provisional = self._stroke, [], None
            self.stroke(points)

    def _draw_segment(self, points: list[tuple[float, float]]) -> None:
        """Immediate feedback while dragging: paint the last segment on a provisional map."""
        if self._provisional is None:
            return
        hit = brush_footprint(self.state.shape, points, self.brush.value)
        if self.mode.value == "erase":
            hit &= self._provisional == self.label.value
            self._provisional[hit] = BACKGROUND
        else:
            self._provisional[hit] = self.label.value
        self.redraw(self._provisional)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
