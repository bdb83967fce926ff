"""Demo of GeneGAN: pick two faces (or upload a photo for A), then remove A's object,
transplant B's object onto A, or move A's object code in the 2-D subspace spanned by four
exemplars' object codes (Eq. 6's bilinear interpolation, the sliders ``x`` and ``y``).

Faces are face-world faces by seed (A drawn without the attribute, B with it); an uploaded
photo is cropped to the face world's framing by MediaPipe landmarks
(:func:`maskstyle.models.genegan.data.face_crop`). Every control change calls
:meth:`GeneGANDemo.refresh`, which writes the panels (A | B | result) as PNG into the
``Image`` widget, so tests drive it headless.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
import torch

from maskstyle.models.genegan.data import face_seed, render_face
from maskstyle.models.genegan.operations import bilinear_codes, evaluating, remove, transplant
from maskstyle.widgets._common import busy, png_bytes, to_uint8, uploaded_bytes

MODES = ("remove", "transplant", "interpolate")
GAP = 4


@functools.lru_cache(maxsize=64)
def _face(seed: int, size: int, attribute: str, present: bool) -> torch.Tensor:
    return render_face(seed, size, attribute, present)["image"]


class GeneGANDemo:
    """Widgets: ``face_a``, ``face_b`` (seeds), ``upload`` (a photo for A), ``mode``
    (remove / transplant / interpolate), ``x``, ``y`` (object-subspace coordinates in
    [0, 1]), ``image``, ``status``. ``model`` is a trained :class:`GeneGAN`."""

    def __init__(self, model, attribute: str = "Eyeglasses", seed: int = 0, face_a: int = 0,
                 face_b: int = 1, max_seed: int = 999) -> None:  # fmt: skip
        import ipywidgets as w

        if not hasattr(model, "encode"):
            raise TypeError(
                "GeneGANDemo needs a GeneGAN (with encode/decode), e.g. load_trained(...)"
            )
        self.model = model.eval()
        self.size = model.image_size
        self.attribute, self.seed = attribute, seed
        self.face_a = w.IntSlider(value=face_a, min=0, max=max_seed, description="face A")
        self.face_b = w.IntSlider(value=face_b, min=0, max=max_seed, description="face B")
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="photo A")
        self.mode = w.ToggleButtons(options=MODES, value="transplant", description="operation")
        self.x = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="x")
        self.y = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="y")
        self.image = w.Image(format="png")
        self.image.add_class("maskstyle-output")
        for name in ("face_a", "face_b", "upload", "mode", "x", "y"):
            getattr(self, name).add_class(f"maskstyle-{name}")
        self.busy = w.HTML()
        self.status = w.HTML()
        self.photo: torch.Tensor | None = None
        corners = [_face(face_seed(seed, "test", 700_000 + k), self.size, attribute, True)
                   for k in range(4)]  # fmt: skip
        self.corners = torch.stack(corners)
        with evaluating(self.model):
            self.corner_codes = self.model.encode(self.corners)[1]
        for control in (self.face_a, self.face_b, self.mode, self.x, self.y):
            control.observe(self.refresh, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.widget = w.VBox([w.HBox([self.face_a, self.face_b, self.upload]),
                              w.HBox([self.mode, self.x, self.y]), self.busy, self.image,
                              self.status])  # fmt: skip
        self.widget.add_class("maskstyle-demo")
        self.result = torch.zeros(3, self.size, self.size)
        self.panels = np.zeros((0, 0, 3), dtype=np.uint8)
        self.refresh()

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor, str]:
        """``(A, B, description)`` for the current controls."""
        b = _face(face_seed(self.seed, "test", 600_000 + int(self.face_b.value)), self.size,
                  self.attribute, True)  # fmt: skip
        if self.photo is not None:
            return self.photo, b, "A: uploaded photo (face crop)"
        a = _face(face_seed(self.seed, "test", 600_000 + int(self.face_a.value)), self.size,
                  self.attribute, False)  # fmt: skip
        return a, b, f"A: face {self.face_a.value} (without), B: face {self.face_b.value} (with)"

    def _on_upload(self, change: Any) -> None:
        from PIL import Image

        from maskstyle.models.genegan.data import face_crop

        data = uploaded_bytes(change)
        if data is None:
            self.photo = None
        else:
            with busy(self.busy):  # the face crop (landmarks) takes a moment: say so at once
                with Image.open(io.BytesIO(data)) as img:
                    array = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
                self.photo = face_crop(torch.from_numpy(array).permute(2, 0, 1), self.size)
        self.refresh()

    def run(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The current operation on faces ``a``, ``b`` (``[3, H, W]``) -> ``[3, H, W]``."""
        mode = self.mode.value
        if mode == "remove":
            return remove(self.model, a[None])[0]
        if mode == "transplant":
            return transplant(self.model, a[None], b[None])[0]
        u = self.corner_codes
        code = bilinear_codes(u[0], u[1], u[2], u[3], torch.tensor([float(self.x.value)]),
                              torch.tensor([float(self.y.value)]))[0, 0]  # Eq. 6
        with evaluating(self.model):
            background = self.model.encode(a[None])[0]
            return self.model.decode(background, code[None])[0]

    def refresh(self, _change: Any = None) -> None:
        """Recompute the result and the panels for the current controls."""
        with busy(self.busy):
            self._refresh()

    def _refresh(self) -> None:
        a, b, source = self.inputs()
        self.result = self.run(a, b)
        gap = np.full((self.size, GAP, 3), 255, dtype=np.uint8)
        self.panels = np.concatenate([to_uint8(a), gap, to_uint8(b), gap, to_uint8(self.result)],
                                     axis=1)  # fmt: skip
        self.image.value = png_bytes(self.panels)
        what = {
            "remove": "Dec(A, 0): A's object removed",
            "transplant": "Dec(A, u_B): B's object on A",
            "interpolate": f"Dec(A, u(x={self.x.value:.2f}, y={self.y.value:.2f})) between four "
                           "exemplars' objects (Eq. 6)",
        }[self.mode.value]  # fmt: skip
        config = getattr(self.model, "config", {})
        self.status.value = (f"{source}; panels: A | B | result; {what}; model: GeneGAN "
                             f"{config.get('image_size')} px, width {config.get('width')} "
                             "(trained in this series on the face world)")  # fmt: skip

    def save_panels(self, path) -> None:
        """Write the current panels as a PNG file."""
        from PIL import Image

        Image.fromarray(self.panels).save(path)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


__all__ = ["GeneGANDemo", "MODES"]
