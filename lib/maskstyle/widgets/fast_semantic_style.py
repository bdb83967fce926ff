"""Demo of fast semantic style transfer: choose content and style, which style region feeds
which content region, lambda, iterations and layer, and see the result and its time.

Content is a face-world face (by seed) or an uploaded photo whose label map comes from
:func:`maskstyle.data.parse_face`; style is a face-world painted portrait (by seed and paint
style). The content's label map is shown in a :class:`~maskstyle.widgets.mask_painter.
MaskPainter`: painting a label over a content region gives that area the style of the
portrait's region of that label (region mapping by hand; the per-label dropdowns remap whole
regions). Every control change and every stroke calls
:meth:`FastSemanticStyleDemo.refresh`, which runs the pipeline
(:class:`maskstyle.models.fast_semantic_style.FastSemanticStyleTransfer`) and writes the
panels (content | content label map as used | style | result) as PNG into the ``Image``
widget, so tests can drive the widgets headless. While it runs, ``busy`` shows a spinner
(sent to the browser before the work starts). The status line gives the time and the
weights' provenance (random VGG weights and untrained decoders are named as such).
"""

from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
import torch

from maskstyle.data.labels import LABELS
from maskstyle.utils.palette import colorize_mask
from maskstyle.widgets._common import busy, png_bytes, to_uint8, uploaded_bytes
from maskstyle.widgets.mask_painter import MaskPainter

GAP = 4


@functools.lru_cache(maxsize=32)
def _face(seed: int, size: int) -> dict:
    from maskstyle.data.synth import render_face

    return render_face(seed, size)


@functools.lru_cache(maxsize=32)
def _portrait(seed: int, size: int, style: str) -> dict:
    from maskstyle.data.synth import painted_portrait

    return painted_portrait(seed, size, style)


PARSE_SIZE = 512
"""An upload is parsed at up to this many pixels a side (the face mesh needs detail), then its
label map is resized (nearest) to the demo's size."""


def load_upload(data: bytes, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """An uploaded image file -> ``([3, size, size] float, [size, size] label map)``.

    The photo is centre-cropped to a square; its mask comes from ``parse_face`` on the crop
    at up to :data:`PARSE_SIZE` pixels (raises ``NoFaceFoundError`` when no face is found),
    then image and mask are resized to ``size``.
    """
    from PIL import Image

    from maskstyle.data.parse_face import parse_face

    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        crop = img.crop((left, top, left + side, top + side))
        parse_side = min(side, PARSE_SIZE)
        labels = parse_face(np.asarray(crop.resize((parse_side, parse_side), Image.BICUBIC)))
        small = crop.resize((size, size), Image.BICUBIC)
        array = np.asarray(small, dtype=np.float32) / 255.0
    mask = Image.fromarray(labels.numpy().astype(np.uint8)).resize((size, size), Image.NEAREST)
    image = torch.from_numpy(array).permute(2, 0, 1).contiguous()
    return image, torch.from_numpy(np.asarray(mask, dtype=np.int64).copy())


class FastSemanticStyleDemo:
    """Widgets: ``content_seed``, ``style_seed``, ``paint_style``, ``upload``, ``layer``,
    ``style_weight`` (lambda, log slider), ``iterations``, ``method``, ``region_sources``
    (per content label: the style label that feeds it), ``painter`` (the content's label
    map, editable), ``image``, ``busy`` (spinner while computing), ``status``.

    ``pipeline`` is a :class:`FastSemanticStyleTransfer` (trained decoders in the notebook);
    ``None`` builds one with random VGG weights and untrained decoders (timing demo only).
    """

    def __init__(
        self,
        pipeline: Any = None,
        size: int = 128,
        content_seed: int = 0,
        style_seed: int = 1,
        max_seed: int = 999,
        iterations: int = 500,
        paint_label: str = "hair",
    ) -> None:
        import ipywidgets as w

        from maskstyle.data.synth import PAINT_STYLES
        from maskstyle.models.fast_semantic_style import FastSemanticStyleTransfer
        from maskstyle.nn.vgg_decoder import VGGDecoder

        if not isinstance(size, int) or size < 32:
            raise ValueError(f"size must be an int of at least 32 pixels, got {size!r}")
        if pipeline is None:
            pipeline = FastSemanticStyleTransfer(VGGDecoder("relu3_1"), weights="random")
        self.pipeline, self.size = pipeline, size
        layers = list(pipeline.decoders)
        self.content_seed = w.IntSlider(
            value=content_seed, min=0, max=max_seed, description="content"
        )
        self.style_seed = w.IntSlider(value=style_seed, min=0, max=max_seed, description="style")
        self.paint_style = w.Dropdown(options=list(PAINT_STYLES), value="oil", description="paint")
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="photo")
        self.layer = w.Dropdown(options=layers, value=layers[0], description="layer")
        self.style_weight = w.FloatLogSlider(
            value=1e8, base=10, min=4, max=12, description="lambda"
        )
        self.iterations = w.IntSlider(
            value=iterations, min=0, max=1000, step=10, description="iterations"
        )
        self.method = w.Dropdown(
            options=["linear", "patch_swap"], value="linear", description="method"
        )
        self.region_sources = {
            name: w.Dropdown(options=list(LABELS), value=name, description=name) for name in LABELS
        }
        self.image = w.Image(format="png")
        self.image.add_class("maskstyle-output")
        for name in ("content_seed", "style_seed", "paint_style", "upload", "layer", "method"):
            getattr(self, name).add_class(f"maskstyle-{name}")
        self.busy = w.HTML()
        self.status = w.HTML()
        self.uploaded: tuple[torch.Tensor, torch.Tensor] | None = None
        self._painted: tuple | None = None  # which content the painter shows
        content, c_mask, _ = self._content()
        self.painter = MaskPainter(content, c_mask, label=paint_label, brush=max(1, size // 16))
        self._painted = self._content_key()
        self.painter.on_edit(self.refresh)
        controls = [self.content_seed, self.style_seed, self.paint_style, self.layer,
                    self.style_weight, self.iterations, self.method,
                    *self.region_sources.values()]  # fmt: skip
        for control in controls:
            control.observe(self.refresh, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.widget = w.VBox(
            [
                w.HBox([self.content_seed, self.upload]),
                w.HBox([self.style_seed, self.paint_style]),
                w.HBox([self.layer, self.method]),
                w.HBox([self.style_weight, self.iterations]),
                w.Accordion(
                    [
                        w.GridBox(
                            list(self.region_sources.values()),
                            layout=w.Layout(grid_template_columns="repeat(3, 300px)"),
                        )
                    ],
                    titles=("which style region feeds each content region",),
                ),  # fmt: skip
                w.HTML(
                    "<b>content label map</b>: paint a label over a region to give it the "
                    "style of that label's region in the portrait"
                ),
                self.painter.widget,
                self.busy,
                self.image,
                self.status,
            ]
        )
        self.widget.add_class("maskstyle-demo")
        self.result: Any = None
        self.panels = np.zeros((0, 0, 3), dtype=np.uint8)
        self.refresh()

    @property
    def region_map(self) -> dict[int, int]:
        """Content label -> style label, for the labels whose source was changed."""
        return {
            LABELS.index(name): LABELS.index(d.value)
            for name, d in self.region_sources.items()
            if d.value != name
        }

    def _content_key(self) -> tuple:
        if self.uploaded is not None:
            return ("upload", id(self.uploaded[0]))
        return ("seed", self.content_seed.value)

    def _content(self) -> tuple[torch.Tensor, torch.Tensor, str]:
        """The content image, its first label map and where it came from."""
        if self.uploaded is not None:
            content, c_mask = self.uploaded
            return content, c_mask, "uploaded photo (mask by parse_face)"
        face = _face(int(self.content_seed.value), self.size)
        return face["image"], face["mask"], f"face world face seed {self.content_seed.value}"

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, str]:
        """Content, style, their label maps (batched; the content's as painted) and a
        description of where they came from."""
        content, c_mask, source = self._content()
        if self._painted != self._content_key():  # new content: the painter starts over
            self.painter.set_image(content, c_mask)
            self._painted = self._content_key()
        c_mask = self.painter.label_map()
        if self.painter.state.edited_pixels:
            source += f" ({self.painter.state.edited_pixels} mask pixels painted)"
        portrait = _portrait(int(self.style_seed.value), self.size, self.paint_style.value)
        source += f"; {self.paint_style.value} portrait seed {self.style_seed.value} (synthetic)"
        return (content[None].float(), portrait["image"][None].float(),
                c_mask[None].long(), portrait["mask"][None].long(), source)  # fmt: skip

    def _on_upload(self, change: Any) -> None:
        from maskstyle.data.parse_face import NoFaceFoundError

        data = uploaded_bytes(change)
        if data is None:
            self.uploaded = None
        else:
            try:
                with busy(self.busy):  # parsing the photo takes a moment: say so at once
                    self.uploaded = load_upload(data, self.size)
            except NoFaceFoundError as err:
                self.status.value = f"upload not used: {err} - try a photo with a visible face"
                return
        self.refresh()

    def refresh(self, _change: Any = None) -> None:
        """Run the transfer for the current controls; update ``panels``, ``image``, ``status``."""
        with busy(self.busy):
            self._refresh()

    def _refresh(self) -> None:
        content, style, c_mask, s_mask, source = self.inputs()
        options: dict[str, Any] = {}
        if self.method.value == "linear":
            options["region_map"] = self.region_map
            options["track_losses"] = False
        self.result = self.pipeline(
            content, style, c_mask, s_mask, layers=self.layer.value, method=self.method.value,
            style_weight=float(self.style_weight.value), iterations=int(self.iterations.value),
            **options,
        )  # fmt: skip
        gap = np.full((self.size, GAP, 3), 255, dtype=np.uint8)
        tiles = [to_uint8(content[0]), colorize_mask(c_mask[0]), to_uint8(style[0]),
                 to_uint8(self.result.image[0])]  # fmt: skip
        self.panels = np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], axis=1)
        self.image.value = png_bytes(self.panels)
        seconds = self.result.seconds
        mapping = ", ".join(f"{LABELS[k]} <- {LABELS[v]}" for k, v in self.region_map.items())
        self.status.value = (
            f"{source}; {self.method.value} at {self.layer.value}, lambda "
            f"{self.style_weight.value:.3g}, {self.iterations.value} iterations: "
            f"{seconds['total']:.3f} s (encode {seconds['encode']:.3f}, reconstruct "
            f"{seconds['reconstruct']:.4f}, decode {seconds['decode']:.3f}); regions remapped: "
            f"{mapping or 'none'}; weights: {self.pipeline.provenance}"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
