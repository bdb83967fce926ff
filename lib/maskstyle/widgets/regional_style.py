"""Demo of harmonized regional style transfer (Fig. 10 of the paper): a target and a
reference, the regions to transfer, random styles per region group and fine-tuning along a
random direction, and the target's label map edited with the shared mask painter.

Target and reference are face-world faces (by seed) or uploaded photos whose label maps come
from :func:`maskstyle.data.parse_face`. The target's label map sits in a
:class:`~maskstyle.widgets.mask_painter.MaskPainter`: painting changes the *shapes* the
generator draws (e.g. longer hair), and the transfer and samples follow the painted map.
Every control change and every stroke calls :meth:`RegionalStyleDemo.refresh`, which writes
the panels (target | reference | transfer [| sampled style]) as PNG into the ``Image``
widget, so tests can drive the widgets headless.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
import torch

from maskstyle.data.labels import LABELS
from maskstyle.widgets._common import (
    FacePhotoSlots,
    HoldRefresh,
    busy,
    png_bytes,
    to_uint8,
)
from maskstyle.widgets.mask_painter import MaskPainter

GAP = 4
SAMPLE_GROUPS = ("none", "skin", "hair")


@functools.lru_cache(maxsize=32)
def _face(seed: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from maskstyle.data.synth import SynthFaces

    item = SynthFaces(1, size, seed)[0]
    return item["image"], item["mask"].long()


class RegionalStyleDemo(FacePhotoSlots, HoldRefresh):
    """Widgets: ``target_seed`` / ``reference_seed`` (face-world faces), ``upload_target`` /
    ``upload_reference`` (photos), ``regions`` (a checkbox per label: transfer it from the
    reference), ``sample_group`` (none / skin / hair: draw that group's style from the
    mapping network), ``sample_seed``, ``eta`` (fine-tune the sampled style along a random
    direction in the CNF's latent space, Eqs. 7-8), ``painter`` (the target's label map),
    ``image``, ``busy``, ``status``.

    ``model`` is a trained :class:`~maskstyle.models.regional_style.RegionalStyleNet`;
    ``style_models`` is ``{"mapping": RegionalStyleMapping, "cnf": {group: StyleCNF}}``
    (:func:`maskstyle.models.regional_style.notebook.load_style_models`), ``None`` disables
    sampling (the status says so).
    """

    def __init__(
        self,
        model: Any,
        style_models: dict[str, Any] | None = None,
        target_seed: int = 0,
        reference_seed: int = 1,
        max_seed: int = 999,
        regions: tuple[str, ...] = ("hair",),
        paint_label: str = "hair",
    ) -> None:
        import ipywidgets as w

        from maskstyle.models.regional_style.model import RegionalStyleNet

        if not isinstance(model, RegionalStyleNet):
            raise TypeError(
                f"model must be a RegionalStyleNet (ours or a SEAN variant), got "
                f"{type(model).__name__}; SPADE/CLADE cannot transfer a region"
            )
        unknown = [r for r in regions if r not in LABELS]
        if unknown:
            raise ValueError(f"unknown region(s) {unknown}; choose from {LABELS[1:]}")
        self.model = model.eval()
        self.style_models = style_models
        self.size = model.config.image_size
        self.target_seed = w.IntSlider(value=target_seed, min=0, max=max_seed, description="target")
        self.reference_seed = w.IntSlider(value=reference_seed, min=0, max=max_seed,
                                          description="reference")  # fmt: skip
        self.upload_target = w.FileUpload(accept="image/*", multiple=False,
                                          description="photo target")  # fmt: skip
        self.upload_reference = w.FileUpload(accept="image/*", multiple=False,
                                             description="photo reference")  # fmt: skip
        self.regions = {
            name: w.Checkbox(value=name in regions, description=name, indent=False,
                             layout=w.Layout(width="90px"))
            for name in LABELS[1:]
        }  # fmt: skip
        self.sample_group = w.Dropdown(options=SAMPLE_GROUPS, value="none", description="sample")
        self.sample_seed = w.IntSlider(value=0, min=0, max=max_seed, description="style seed")
        self.eta = w.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.25, description="fine-tune")
        self.image = w.Image(format="png")
        self.image.add_class("maskstyle-output")
        for name in ("target_seed", "reference_seed", "upload_target", "upload_reference",
                     "sample_group", "sample_seed", "eta"):  # fmt: skip
            getattr(self, name).add_class(f"maskstyle-{name}")
        for name, box in self.regions.items():
            box.add_class(f"maskstyle-box-{name}")
        self.busy = w.HTML()
        self.status = w.HTML()
        self.uploads: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        first = self._raw_inputs()
        self.painter = MaskPainter(first["target"][0], first["target_labels"][0], label=paint_label,
                                   brush=max(1, self.size // 16))  # fmt: skip
        self._painted = first["key"]
        self.painter.on_edit(self.refresh)
        for control in (self.target_seed, self.reference_seed, self.sample_group,
                        self.sample_seed, self.eta, *self.regions.values()):  # fmt: skip
            control.observe(self.refresh, names="value")
        self.upload_target.observe(functools.partial(self._on_upload, "target"), names="value")
        self.upload_reference.observe(functools.partial(self._on_upload, "reference"),
                                      names="value")  # fmt: skip
        self.widget = w.VBox(
            [
                w.HBox([self.target_seed, self.upload_target]),
                w.HBox([self.reference_seed, self.upload_reference]),
                w.HTML("<b>transfer from the reference:</b>"),
                w.GridBox(list(self.regions.values()),
                          layout=w.Layout(grid_template_columns="repeat(6, 95px)")),
                w.HBox([self.sample_group, self.sample_seed, self.eta]),
                w.HTML("<b>target's label map</b>: paint to change the shapes (e.g. longer hair)"),
                self.painter.widget,
                self.busy,
                self.image,
                self.status,
            ]
        )  # fmt: skip
        self.widget.add_class("maskstyle-demo")
        self.outputs: dict[str, torch.Tensor] = {}
        self.seconds: dict[str, float] = {}
        self.panels = np.zeros((0, 0, 3), dtype=np.uint8)
        self.refresh()

    @property
    def transfer_regions(self) -> torch.Tensor:
        """Bool ``[K]``: the ticked labels."""
        k = self.model.config.num_classes
        out = torch.zeros(k, dtype=torch.bool)
        for name, box in self.regions.items():
            if box.value:
                out[LABELS.index(name)] = True
        return out

    def _raw_inputs(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        sources = []
        for which, slider in (("target", self.target_seed), ("reference", self.reference_seed)):
            if which in self.uploads:
                image, labels = self.uploads[which]
                data[which], data[f"{which}_labels"] = image[None], labels[None]
                sources.append(f"{which}: uploaded photo (mask by parse_face)")
                if which == "target":
                    data["key"] = ("upload", id(image))
            else:
                image, labels = _face(int(slider.value), self.size)
                data[which], data[f"{which}_labels"] = image[None], labels[None]
                sources.append(f"{which}: face world seed {slider.value}")
                if which == "target":
                    data["key"] = ("seed", slider.value)
        data["source"] = "; ".join(sources)
        return data

    def inputs(self) -> dict[str, Any]:
        """The current target/reference as batched tensors; the target's labels come from the
        painter (edited)."""
        data = self._raw_inputs()
        if data["key"] != self._painted:  # a new target: the painter starts over
            self.painter.set_image(data["target"][0], data["target_labels"][0])
            self._painted = data["key"]
        painted = torch.as_tensor(np.asarray(self.painter.label_map()), dtype=torch.long)
        data["target_labels"] = painted[None]
        if self.painter.state.edited_pixels:
            data["source"] += f" (target map: {self.painter.state.edited_pixels} pixels painted)"
        return data

    @torch.no_grad()
    def sampled(self, data: dict[str, Any]) -> torch.Tensor | None:
        """The target with ``sample_group``'s style drawn from the mapping network (Eq. 3)
        by ``sample_seed``, moved by ``eta`` along a random direction in the CNF's latent
        space (Eqs. 7-8); ``None`` when no group is chosen or no style models are loaded."""
        group = self.sample_group.value
        if group == "none" or self.style_models is None:
            return None
        from maskstyle.models.regional_style.cnf import random_direction
        from maskstyle.models.regional_style.data import group_regions

        mapping = self.style_models["mapping"]
        g = torch.Generator().manual_seed(int(self.sample_seed.value))
        rows = mapping.sample(group, 1, generator=g)
        if self.eta.value != 0:
            cnf = self.style_models["cnf"][group]
            d = random_direction(1, cnf.dim, g)
            rows = cnf.fine_tune(rows.flatten(1), d, float(self.eta.value)).view_as(rows)
        labels = data["target_labels"]
        s_t = self.model.encode(data["target"], labels)
        regions = group_regions(group, s_t.shape[1])
        s_r = mapping.insert(s_t, group, rows)
        mixed = self.model.mix(s_t, s_r, regions, self.model.present(labels))
        return self.model.decode(labels, mixed)

    def refresh(self, _change: Any = None) -> None:
        """Transfer (and sample) for the current controls; update ``panels``, ``image``,
        ``status``."""
        if self._held:
            return
        with busy(self.busy):
            self._refresh()

    def _refresh(self) -> None:
        data = self.inputs()
        regions = self.transfer_regions
        notes = []
        self.outputs, self.seconds = {}, {}
        start = time.perf_counter()
        with torch.no_grad():
            self.outputs["transfer"] = self.model.transfer(
                data["target"], data["target_labels"], data["reference"],
                data["reference_labels"], regions,
            )  # fmt: skip
        self.seconds["transfer"] = time.perf_counter() - start
        if not bool(regions.any()):
            notes.append("no region ticked: the transfer is the target's reconstruction")
        if self.sample_group.value != "none":
            if self.style_models is None:
                notes.append("no style models loaded: sampling is off (run 05_multimodal)")
            else:
                start = time.perf_counter()
                self.outputs["sampled"] = self.sampled(data)
                self.seconds["sampled"] = time.perf_counter() - start
        images = [data["target"], data["reference"], *self.outputs.values()]
        titles = ["target", "reference", *self.outputs]
        gap = np.full((self.size, GAP, 3), 255, dtype=np.uint8)
        tiles = []
        for image in images:
            tiles += [to_uint8(image[0]), gap]
        self.panels = np.concatenate(tiles[:-1], axis=1)
        self.image.value = png_bytes(self.panels)
        names = ", ".join(n for n, box in self.regions.items() if box.value) or "none"
        sample = ""
        if "sampled" in self.outputs:
            sample = (f"; sampled {self.sample_group.value} style seed {self.sample_seed.value}, "
                      f"fine-tuned eta {self.eta.value:g}")  # fmt: skip
        times = ", ".join(f"{k} {v:.3f} s" for k, v in self.seconds.items())
        weights = getattr(self.model, "provenance", "untrained (random init)")
        self.status.value = (
            f"{data['source']}; panels: {' | '.join(titles)}; transferred: {names}{sample}; "
            f"times: {times}; weights: {weights}" + "".join(f"; {n}" for n in notes)
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
