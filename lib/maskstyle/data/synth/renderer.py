"""Render one face: parameters -> image, 19-class mask, attributes, landmarks, pose, coords.

Layers are painted back to front (:data:`LAYERS`), each writing its label where it covers
more than half a pixel, so the mask is exactly what the image shows. A sample is a dict:

- ``image`` float32 ``[3, H, W]`` in ``[0, 1]``; ``mask`` int64 ``[H, W]`` (``LABELS``);
- ``attrs``: the 40 CelebA attribute names -> bool;
- ``landmarks`` float32 ``[16, 2]``: a ring of face-contour points (forehead centre first,
  then clockwise on screen for a frontal face) as ``(x, y)`` in ``[0, 1]``;
- ``pose`` float32 ``[3]``: yaw, pitch, roll in degrees;
- ``coords`` float32 ``[3, H, W]``: the unit-sphere face coordinate of each face pixel
  (labels in ``FACE_REGIONS``), zero elsewhere - pose-invariant, as LRNet's 3D vertices;
- ``params``: the parameters as a plain dict (``FaceParams.from_dict`` rebuilds them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch

from maskstyle.data.labels import FACE_REGIONS, LABEL_INDEX
from maskstyle.data.synth import face_parts as fp
from maskstyle.data.synth import scene_parts as sp
from maskstyle.data.synth.attributes import attributes_from_params
from maskstyle.data.synth.canvas import Canvas
from maskstyle.data.synth.geometry import HeadView, check_size
from maskstyle.data.synth.params import FaceParams, sample_params
from maskstyle.data.synth.scene import Scene, build_scene
from maskstyle.data.synth.shading import camera

LAYERS: tuple[tuple[str, Callable[[Canvas, Scene], None]], ...] = (
    ("background", sp.paint_background),
    ("hair drape (behind)", partial(sp.paint_drape, front=False)),
    ("neck", sp.paint_neck),
    ("cloth", sp.paint_cloth),
    ("hair drape (over shoulders)", partial(sp.paint_drape, front=True)),
    ("necklace", sp.paint_necklace),
    ("ears", sp.paint_ears),
    ("skin", fp.paint_skin),
    ("makeup", fp.paint_makeup),
    ("beard", partial(fp.paint_facial_hair, part="beard")),
    ("goatee", partial(fp.paint_facial_hair, part="goatee")),
    ("nose", fp.paint_nose),
    ("eyes", fp.paint_eyes),
    ("brows", fp.paint_brows),
    ("mouth", fp.paint_mouth),
    ("mustache", partial(fp.paint_facial_hair, part="mustache")),
    ("earrings", sp.paint_earrings),
    ("hair", sp.paint_hair),
    ("eyeglasses", fp.paint_glasses),
    ("hat", sp.paint_hat),
)
"""Painting order, back to front."""

_FACE_LABELS = np.array([LABEL_INDEX[n] for n in FACE_REGIONS])


def contour_points() -> np.ndarray:
    """The 16 face-contour landmarks on the unit sphere ``[16, 3]`` (face frame)."""
    return _CONTOUR.copy()


def _contour() -> np.ndarray:
    theta = 2.0 * np.pi * np.arange(16) / 16
    x = 0.86 * np.sin(theta)
    y = -np.cos(theta) * np.where(np.cos(theta) > 0, 0.78, 0.93)
    z = np.sqrt(np.clip(1.0 - x * x - y * y, 0.0, None))
    return np.stack([x, y, z], axis=1)


_CONTOUR = _contour()


def landmarks(view: HeadView) -> np.ndarray:
    """Image positions of :func:`contour_points` as ``(x, y)`` in ``[0, 1]`` ``[16, 2]``."""
    uv = view.project(_CONTOUR)
    return np.clip((uv + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


def face_coords(view: HeadView, label: np.ndarray) -> np.ndarray:
    """Unit-sphere face coordinates ``[3, H, W]`` on face pixels, zero elsewhere."""
    xyz = np.stack([view.X, view.Y, view.Z])
    xyz = xyz / (np.linalg.norm(xyz, axis=0, keepdims=True) + 1e-12)
    on_face = np.isin(label, _FACE_LABELS) & view.hit
    return np.where(on_face[None], xyz, 0.0).astype(np.float32)


def paint(params: FaceParams, size: int) -> tuple[Canvas, Scene]:
    """Paint every layer; returns the canvas (image before the camera, label, supports)."""
    size = check_size(size)
    scene = build_scene(params, size)
    canvas = Canvas(size)
    for _, layer in LAYERS:
        layer(canvas, scene)
    return canvas, scene


def render(params: FaceParams, size: int = 128) -> dict:
    """Render a face from its parameters (deterministic: same params, same tensors)."""
    return render_with_support(params, size)[0]


def render_with_support(params: FaceParams, size: int = 128) -> tuple[dict, dict[str, np.ndarray]]:
    """:func:`render` plus, per layer tag, where tagged layers touched the image (bool)."""
    canvas, scene = paint(params, size)
    image = camera(canvas.image, params.environment)
    g = params.geometry
    sample = {
        "image": torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), np.float32)),
        "mask": torch.from_numpy(canvas.label),
        "attrs": attributes_from_params(params),
        "landmarks": torch.from_numpy(landmarks(scene.view)),
        "pose": torch.tensor([g.yaw, g.pitch, g.roll], dtype=torch.float32),
        "coords": torch.from_numpy(face_coords(scene.view, canvas.label)),
        "params": params.to_dict(),
    }
    return sample, canvas.support


def render_face(seed: int | np.random.Generator, size: int = 128) -> dict:
    """Sample parameters from ``seed`` and render them: ``render(sample_params(seed), size)``."""
    return render(sample_params(seed), size)
