"""Per-pixel unit-sphere face coordinates of a real photo, from MediaPipe's 3D face mesh.

LRNet's semantic correspondence constraint (Section 4.3) concatenates to the features the 3D
face vertices of PRNet "mapped to a sphere whose radius is 1", so that the dot product of
two pixels' coordinates measures how close they are *on the face*. The face world gives
every face pixel such a coordinate directly (:func:`maskstyle.data.synth.renderer.face_coords`:
the head ellipsoid's point scaled to the unit sphere, in the face's own frame - ``x``
toward the person's left, ``y`` down, ``z`` out of the face). PRNet's weights are not
available here; the reference notes allow "any per-pixel unit-sphere face coordinate map
with the same meaning". This module builds one from MediaPipe's face mesh (478 landmarks
with ``x, y`` normalised by the image width and height and a depth ``z`` on the scale of
``x``, smaller = closer to the camera):

1. **Camera space** (pixels): ``p = (x W, y H, -z W)`` - right, down, toward the camera.
2. **Face frame**: ``e_x`` = unit(right face edge 234 -> left face edge 454) (the
   person's left), ``e_y`` = forehead 10 -> chin 152 made orthogonal to ``e_x``,
   ``e_z = e_x x e_y`` (out of the face). ``q = R p`` with rows ``e_x, e_y, e_z``.
3. **Ellipsoid to sphere**, anchored on the face world's 16 contour points
   (:func:`~maskstyle.data.synth.renderer.contour_points`): the face edges 234/454 land on
   ``X = -/+ 0.86`` and ``Z = 0.51`` (the contour at the face's sides), the forehead 10 on
   ``Y = -0.78``, the chin 152 on ``Y = +0.93``; the depth semi-axis is the face world's
   ``head_depth / head_width`` times the width semi-axis. Then ``v = ((q - centre) / axes)``
   is normalised to unit length (the nose, standing out of the ellipsoid, points out: ``Z``
   near 1).
4. **Per pixel**: the landmark coordinates are interpolated linearly over the mesh's
   Delaunay triangulation in the image (:class:`scipy.interpolate.LinearNDInterpolator`),
   nearest landmark outside the mesh, renormalised to unit length, and kept on the face
   pixels only (labels in ``FACE_REGIONS`` when a label map is given, else the filled face
   oval), zero elsewhere - the face world's rule.

These coordinates are approximations (MediaPipe's depth is weakly constrained); they share
the face world's axes and anchors, which is what the reshuffle's dot products need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from maskstyle.data.labels import FACE_REGIONS, LABEL_INDEX

FOREHEAD, CHIN, RIGHT_EDGE, LEFT_EDGE = 10, 152, 234, 454
"""Face-mesh landmarks that fix the face frame (MediaPipe's LEFT = the person's left)."""
NOSE_TIP = 1
MIN_LANDMARKS = 468


def _anchors() -> tuple[float, float, float, float, float]:
    """The face world's anchors: side ``X``, side ``Z``, forehead ``Y``, chin ``Y``, c/a."""
    from maskstyle.data.synth.params import Geometry
    from maskstyle.data.synth.renderer import contour_points

    ring = contour_points()  # [16, 3]: forehead centre first, quarter turns at 4, 8, 12
    side, forehead, chin = ring[4], ring[0], ring[8]
    g = Geometry()
    return (
        float(side[0]),
        float(side[2]),
        float(forehead[1]),
        float(chin[1]),
        (g.head_depth / g.head_width),
    )


def face_landmarks_3d(image: Any) -> np.ndarray:
    """MediaPipe's 478 face-mesh landmarks of the one face in ``image`` as ``[478, 3]``:
    ``x / W``, ``y / H`` and the depth ``z`` (scale of ``x``, smaller = nearer the camera).

    ``image``: ``H x W x 3`` uint8, PIL image or float tensor ``[3, H, W]`` in [0, 1].
    Raises :class:`maskstyle.data.parse_face.NoFaceFoundError` when no face is found.
    """
    from maskstyle.data.parse_face import NoFaceFoundError, _face_mesh, to_rgb_uint8

    rgb = to_rgb_uint8(image)
    result = _face_mesh().process(rgb)
    if not result.multi_face_landmarks:
        h, w = rgb.shape[:2]
        raise NoFaceFoundError(
            f"no face found in the {w}x{h} image; face_coords needs one visible face that is "
            "not too small nor turned far from the camera"
        )
    marks = result.multi_face_landmarks[0].landmark
    return np.array([[p.x, p.y, p.z] for p in marks], dtype=np.float64)


def _check_landmarks(landmarks: np.ndarray) -> np.ndarray:
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 2 or landmarks.shape[1] != 3 or len(landmarks) < MIN_LANDMARKS:
        raise ValueError(
            f"landmarks must be MediaPipe's face mesh [468 or 478, 3] (x/W, y/H, z), got shape "
            f"{landmarks.shape}; get them with maskstyle.data.face_coords.face_landmarks_3d"
        )
    if not np.isfinite(landmarks).all():
        raise ValueError("landmarks hold NaN or inf values")
    return landmarks


def landmark_sphere_coords(landmarks: np.ndarray, size: int | Sequence[int]) -> np.ndarray:
    """Unit-sphere face coordinates ``[N, 3]`` of each landmark (steps 1-3 of the module
    docstring); ``size`` (``h, w`` or one int) is the image the landmarks are normalised by."""
    landmarks = _check_landmarks(landmarks)
    h, w = _as_size(size)
    side_x, side_z, forehead_y, chin_y, depth_ratio = _anchors()
    p = landmarks * np.array([w, h, -w], dtype=np.float64)  # right, down, toward camera
    e_x = p[LEFT_EDGE] - p[RIGHT_EDGE]
    if np.linalg.norm(e_x[:2]) < 1e-9:
        raise ValueError("degenerate landmarks: the two face edges coincide")
    e_x /= np.linalg.norm(e_x)
    e_y = p[CHIN] - p[FOREHEAD]
    e_y -= (e_y @ e_x) * e_x
    if np.linalg.norm(e_y) < 1e-9:
        raise ValueError("degenerate landmarks: forehead and chin lie on the face-edge line")
    e_y /= np.linalg.norm(e_y)
    e_z = np.cross(e_x, e_y)
    q = p @ np.stack([e_x, e_y, e_z]).T  # face frame
    a = (q[LEFT_EDGE, 0] - q[RIGHT_EDGE, 0]) / (2 * side_x)
    b = (q[CHIN, 1] - q[FOREHEAD, 1]) / (chin_y - forehead_y)
    c = a * depth_ratio
    centre = np.array([
        0.5 * (q[LEFT_EDGE, 0] + q[RIGHT_EDGE, 0]),
        q[FOREHEAD, 1] - forehead_y * b,
        0.5 * (q[LEFT_EDGE, 2] + q[RIGHT_EDGE, 2]) - side_z * c,
    ])  # fmt: skip
    v = (q - centre) / np.array([a, b, c])
    return v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-12)


def _as_size(size: int | Sequence[int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int | np.integer) else tuple(size)
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"size must be positive (h, w), got {size!r}")
    return int(h), int(w)


def _oval_mask(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    from maskstyle.data.parse_face import _connections, _loop

    layer = np.zeros(size, dtype=np.uint8)
    polygon = pixels[_loop(_connections()["oval"])] - 0.5  # pixel j is centred on j + 0.5
    cv2.fillPoly(layer, [np.round(polygon).astype(np.int32).reshape(-1, 1, 2)], 1)
    return layer > 0


def face_coords(
    image_or_landmarks: Any,
    size: int | Sequence[int] | None = None,
    labels: torch.Tensor | np.ndarray | None = None,
) -> torch.Tensor:
    """Per-pixel unit-sphere face coordinates float32 ``[3, H, W]`` (zero off the face).

    ``image_or_landmarks``: an image (``H x W x 3`` uint8, PIL, float tensor ``[3, H, W]``;
    MediaPipe runs on it at its own resolution) or landmarks ``[478, 3]`` from
    :func:`face_landmarks_3d`. ``size``: output ``H, W`` (default: the image's size;
    required with landmarks). ``labels``: optional 19-class label map ``[H, W]`` at ``size``
    whose ``FACE_REGIONS`` pixels are the face (default: the filled face oval of the mesh).
    """
    from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

    array = np.asarray(image_or_landmarks) if isinstance(image_or_landmarks, np.ndarray) else None
    if array is not None and array.ndim == 2:
        landmarks = _check_landmarks(array)
        if size is None:
            raise ValueError("face_coords(landmarks, size): give the output size with landmarks")
    else:
        from maskstyle.data.parse_face import to_rgb_uint8

        rgb = to_rgb_uint8(image_or_landmarks)
        landmarks = face_landmarks_3d(rgb)
        size = rgb.shape[:2] if size is None else size
    h, w = _as_size(size)
    if labels is not None:
        labels = torch.as_tensor(labels)
        if tuple(labels.shape) != (h, w):
            raise ValueError(
                f"labels has shape {tuple(labels.shape)} but the coordinates are {h}x{w}: give "
                "the 19-class label map [H, W] at the output size"
            )
    sphere = landmark_sphere_coords(landmarks, (h, w))
    pixels = landmarks[:, :2] * np.array([w, h])
    if labels is None:
        face = _oval_mask(pixels, (h, w))
    else:
        ids = [LABEL_INDEX[n] for n in FACE_REGIONS]
        face = np.isin(labels.cpu().numpy(), ids)
    out = np.zeros((3, h, w), dtype=np.float32)
    rows, cols = np.nonzero(face)
    if len(rows):
        query = np.stack([cols + 0.5, rows + 0.5], axis=1)
        values = LinearNDInterpolator(pixels, sphere)(query)
        outside = np.isnan(values).any(axis=1)
        if outside.any():
            values[outside] = NearestNDInterpolator(pixels, sphere)(query[outside])
        values /= np.linalg.norm(values, axis=1, keepdims=True).clip(1e-12)
        out[:, rows, cols] = values.T
    return torch.from_numpy(out)
