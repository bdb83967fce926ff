"""Demo of LRNet face blending: choose a pair, the regions of A to blend and the branches,
and see LRNet next to the Section 5.3 baselines (alpha, Poisson, style blending).

A pair is a face-world blend pair (by seed; it comes with the ground truth "A onto B" and
3D coordinates) or two uploaded photos whose label maps come from
:func:`maskstyle.data.parse_face` (no ground truth, no coordinates). A's label map is shown in a
:class:`~maskstyle.widgets.mask_painter.MaskPainter`: painting a ticked region's label over
more of A (or erasing it) grows (or shrinks) the blend region by hand. Every control change
and every stroke calls :meth:`LRNetDemo.refresh`, which runs every method on the current
pair and writes the panels (A | B | alpha | Poisson | style | LRNet [| ground truth]) as PNG
into the ``Image`` widget, so tests can drive the widgets headless; ``busy`` shows a spinner
while it runs. The status line gives each method's time
and the weights' provenance (random VGG weights and untrained decoders say so).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
import torch

from maskstyle.models.lrnet.model import BRANCHES, LRNet
from maskstyle.models.lrnet.regions import LRNET_FACE_REGIONS, LRNET_REGIONS, to_lrnet_regions
from maskstyle.widgets._common import (
    FacePhotoSlots,
    HoldRefresh,
    busy,
    png_bytes,
    to_uint8,
)
from maskstyle.widgets.mask_painter import MaskPainter

GAP = 4
METHODS = ("alpha", "poisson", "style", "lrnet")


@functools.lru_cache(maxsize=16)
def _pair(seed: int, size: int) -> dict:
    from maskstyle.data.synth.pairs import blend_pair

    return blend_pair(seed, size)


class LRNetDemo(FacePhotoSlots, HoldRefresh):
    """Widgets: ``pair_seed``, ``upload_a``/``upload_b`` (photos), ``regions`` (a checkbox per
    face region of A), ``branches`` (a checkbox per LRNet branch), ``use_coords``, ``painter``
    (A's label map, editable), ``image``, ``busy`` (spinner while computing), ``status``.

    ``model`` is an :class:`LRNet` (trained in the notebook); ``None`` builds one with random
    VGG weights and an untrained decoder (a timing demo only). ``style`` is a
    :class:`~maskstyle.baselines.blending.StyleBlending` (``None``: random weights).
    """

    photo_names = {"a": "photo A", "b": "photo B"}

    def __init__(
        self,
        model: LRNet | None = None,
        style: Any = None,
        size: int = 64,
        pair_seed: int = 0,
        max_seed: int = 999,
        paint_label: str = "skin",
    ) -> None:
        import ipywidgets as w

        from maskstyle.baselines.blending import StyleBlending

        if not isinstance(size, int) or size <= 32:
            raise ValueError(f"size must be an int above 32 pixels (LRNet's minimum), got {size!r}")
        self.model = (model if model is not None else LRNet(weights="random")).eval()
        self.style = style if style is not None else StyleBlending(weights="random")
        self.size = size
        self.pair_seed = w.IntSlider(value=pair_seed, min=0, max=max_seed, description="pair")
        self.upload_a = w.FileUpload(accept="image/*", multiple=False, description="photo A")
        self.upload_b = w.FileUpload(accept="image/*", multiple=False, description="photo B")
        self.regions = {
            LRNET_REGIONS[r]: w.Checkbox(value=True, description=LRNET_REGIONS[r], indent=False)
            for r in LRNET_FACE_REGIONS
        }
        self.branches = {
            b: w.Checkbox(value=b in self.model.branches, description=b, indent=False)
            for b in BRANCHES
        }
        self.use_coords = w.Checkbox(value=True, description="3D coords", indent=False)
        self.image = w.Image(format="png")
        self.image.add_class("maskstyle-output")
        for name in ("pair_seed", "upload_a", "upload_b", "use_coords"):
            getattr(self, name).add_class(f"maskstyle-{name}")
        for name, box in (*self.regions.items(), *self.branches.items()):
            box.add_class(f"maskstyle-box-{name}")
        self.busy = w.HTML()
        self.status = w.HTML()
        self.uploads: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        first = self._raw_inputs()
        self.painter = MaskPainter(first["x_a"][0], first["labels_a"], label=paint_label,
                                   brush=max(1, size // 16))  # fmt: skip
        self._painted = first["key"]
        self.painter.on_edit(self.refresh)
        controls = [self.pair_seed, self.use_coords, *self.regions.values(),
                    *self.branches.values()]  # fmt: skip
        for control in controls:
            control.observe(self.refresh, names="value")
        self.upload_a.observe(functools.partial(self._on_upload, "a"), names="value")
        self.upload_b.observe(functools.partial(self._on_upload, "b"), names="value")
        self.widget = w.VBox(
            [
                w.HBox([self.pair_seed, self.upload_a, self.upload_b]),
                w.HBox([w.Label("blend from A:"), *self.regions.values()]),
                w.HBox([w.Label("branches:"), *self.branches.values(), self.use_coords]),
                w.HTML(
                    "<b>A's label map</b>: paint or erase a ticked region's label to change "
                    "the blend region"
                ),
                self.painter.widget,
                self.busy,
                self.image,
                self.status,
            ]
        )
        self.widget.add_class("maskstyle-demo")
        self.outputs: dict[str, torch.Tensor] = {}
        self.seconds: dict[str, float] = {}
        self.failures: dict[str, str] = {}
        self.panels = np.zeros((0, 0, 3), dtype=np.uint8)
        self.refresh()

    @property
    def blend_regions(self) -> tuple[int, ...]:
        """LRNet region ids of the checked regions."""
        return tuple(LRNET_REGIONS.index(n) for n, box in self.regions.items() if box.value)

    @property
    def active_branches(self) -> tuple[str, ...]:
        return tuple(b for b, box in self.branches.items() if box.value)

    def _raw_inputs(self) -> dict[str, Any]:
        """The current pair as batched tensors, A's first label map and a key naming it."""
        if len(self.uploads) == 2:
            (x_a, labels_a), (x_b, labels_b) = self.uploads["a"], self.uploads["b"]
            return {
                "x_a": x_a[None], "x_b": x_b[None], "labels_a": labels_a,
                "regions_b": to_lrnet_regions(labels_b[None]),
                "coords_a": None, "coords_b": None, "target": None, "key": ("upload", id(x_a)),
                "source": "uploaded photos (masks by parse_face; no coordinates, no ground truth)",
            }  # fmt: skip
        pair = _pair(int(self.pair_seed.value), self.size)
        return {
            "x_a": pair["a"]["image"][None], "x_b": pair["b"]["image"][None],
            "labels_a": pair["a"]["mask"],
            "regions_b": to_lrnet_regions(pair["b"]["mask"][None]),
            "coords_a": pair["a"]["coords"][None], "coords_b": pair["b"]["coords"][None],
            "target": pair["target"]["image"][None], "key": ("seed", self.pair_seed.value),
            "source": f"face world blend pair seed {self.pair_seed.value} (synthetic)",
        }  # fmt: skip

    def inputs(self) -> dict[str, Any]:
        """The current pair as batched tensors (+ ``target``/coords when it has them); A's
        regions come from the painter's (edited) label map."""
        data = self._raw_inputs()
        if data["key"] != self._painted:  # a new pair: the painter starts over
            self.painter.set_image(data["x_a"][0], data["labels_a"])
            self._painted = data["key"]
        data["regions_a"] = to_lrnet_regions(self.painter.label_map()[None])
        if self.painter.state.edited_pixels:
            data["source"] += f" (A's map: {self.painter.state.edited_pixels} pixels painted)"
        return data

    def run_methods(self, data: dict[str, Any]) -> None:
        """Blend with every method; fills ``outputs`` and ``seconds``."""
        from maskstyle.baselines.blending import alpha_blending, poisson_blending

        regions, branches = self.blend_regions, self.active_branches
        fg = self.model.foreground(data["regions_a"], regions)
        coords = (data["coords_a"], data["coords_b"])
        if not self.use_coords.value:
            coords = (None, None)
        calls = {
            "alpha": lambda: alpha_blending(data["x_a"], data["x_b"], fg),
            "poisson": lambda: poisson_blending(data["x_a"], data["x_b"], fg),
            "style": lambda: self.style(data["x_a"], data["x_b"], fg),
            "lrnet": lambda: self.model(
                data["x_a"], data["x_b"], data["regions_a"], data["regions_b"], *coords,
                blend_regions=regions, branches=branches,
            ),
        }  # fmt: skip
        self.outputs, self.seconds, self.failures = {}, {}, {}
        with torch.no_grad():
            for name, call in calls.items():
                start = time.perf_counter()
                try:
                    self.outputs[name] = call()
                except ValueError as err:  # e.g. a region too small for seamlessClone
                    self.failures[name] = str(err)
                    self.outputs[name] = torch.full_like(data["x_b"], 0.5)
                self.seconds[name] = time.perf_counter() - start

    def refresh(self, _change: Any = None) -> None:
        """Run every method for the current controls; update ``panels``, ``image``, ``status``."""
        if self._held:
            return
        with busy(self.busy):
            self._refresh()

    def _refresh(self) -> None:
        data = self.inputs()
        problems = []
        if not self.blend_regions:
            problems.append("tick at least one region of A to blend")
        if not self.active_branches:
            problems.append("tick at least one LRNet branch")
        if not problems and not bool(
            self.model.foreground(data["regions_a"], self.blend_regions).any()
        ):
            problems.append("the ticked regions have no pixels in A")
        if problems:
            self.status.value = f"{data['source']}: nothing to blend - {'; '.join(problems)}"
            return
        self.run_methods(data)
        images = [data["x_a"], data["x_b"], *(self.outputs[m] for m in METHODS)]
        titles = ["A", "B", *METHODS]
        if data["target"] is not None:
            images.append(data["target"])
            titles.append("ground truth")
        gap = np.full((self.size, GAP, 3), 255, dtype=np.uint8)
        tiles = []
        for image in images:
            tiles += [to_uint8(image[0]), gap]
        self.panels = np.concatenate(tiles[:-1], axis=1)
        self.image.value = png_bytes(self.panels)
        times = ", ".join(f"{m} {self.seconds[m]:.3f} s" for m in METHODS)
        failed = "".join(f"; {m} failed (grey panel): {e}" for m, e in self.failures.items())
        names = ", ".join(LRNET_REGIONS[r] for r in self.blend_regions)
        coords = "with" if self.use_coords.value and data["coords_a"] is not None else "without"
        self.status.value = (
            f"{data['source']}; panels: {' | '.join(titles)}; blended: {names}; LRNet branches "
            f"{'+'.join(self.active_branches)} {coords} 3D coords; times: {times}; weights: "
            f"LRNet {self.model.provenance}, style {self.style.provenance}{failed}"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
