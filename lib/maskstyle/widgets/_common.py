"""Helpers shared by the demo widgets: PNG encoding, tensors to pictures, a busy indicator,
the bytes of an uploaded file, and holding refreshes while several controls change."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import numpy as np

BUSY_HTML = '<span class="maskstyle-busy" style="color:#b35c00">&#8987; computing...</span>'
"""What a demo's busy indicator shows while its kernel works on a change."""


def to_uint8(image: Any) -> np.ndarray:
    """``[3, H, W]`` float tensor/array in [0, 1] -> ``[H, W, 3]`` uint8."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    array = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0).transpose(1, 2, 0)
    return np.round(array * 255).astype(np.uint8)


def png_bytes(picture: np.ndarray) -> bytes:
    """``[H, W, 3]`` uint8 -> PNG file bytes (for an ``ipywidgets.Image``)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture)).save(buffer, format="PNG")
    return buffer.getvalue()


@contextlib.contextmanager
def busy(indicator: Any) -> Iterator[None]:
    """Show :data:`BUSY_HTML` in ``indicator`` (an ``ipywidgets.HTML``) while the block runs.

    The widget update is sent to the browser before the work starts, so a slow control shows
    at once that it is working; the browser stays responsive (the work runs in the kernel).
    """
    indicator.value = BUSY_HTML
    try:
        yield
    finally:
        indicator.value = ""


def uploaded_bytes(change: Any) -> bytes | None:
    """The first file of a ``FileUpload`` value change (``change["new"]``) as bytes; ``None``
    when the upload was cleared. ipywidgets 8 gives a tuple of dicts, 7 a dict of dicts."""
    files = change["new"]
    if not files:
        return None
    entry = files[0] if isinstance(files, list | tuple) else next(iter(files.values()))
    return bytes(entry["content"])


class HoldRefresh:
    """For a demo whose ``refresh()`` returns early while ``_held``: ``with demo.hold(): ...``
    changes several controls, then refreshes once."""

    _held = False
    refresh: Any  # the demo's own method

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        self._held = True
        try:
            yield
        finally:
            self._held = False
            self.refresh()


class FacePhotoSlots:
    """For a demo with named photo slots: ``_on_upload(which, change)`` parses an uploaded
    face photo (:func:`~maskstyle.widgets.fast_semantic_style.load_upload`, busy indicator
    meanwhile) into ``uploads[which]``, drops the slot when the upload is cleared, says in
    ``status`` why a photo without a face is not used, and refreshes. ``photo_names`` maps a
    slot to how the status line calls it (default: "<which> photo")."""

    photo_names: dict[str, str] = {}
    uploads: dict[str, Any]
    size: int
    busy: Any
    status: Any
    refresh: Any

    def _on_upload(self, which: str, change: Any) -> None:
        from maskstyle.data.parse_face import NoFaceFoundError
        from maskstyle.widgets.fast_semantic_style import load_upload

        data = uploaded_bytes(change)
        if data is None:
            self.uploads.pop(which, None)
        else:
            try:
                with busy(self.busy):  # parsing the photo takes a moment: say so at once
                    self.uploads[which] = load_upload(data, self.size)
            except NoFaceFoundError as err:
                name = self.photo_names.get(which, f"{which} photo")
                self.status.value = f"{name} not used: {err} - try a photo with a visible face"
                return
        self.refresh()
