"""Label maps for real photos from MediaPipe's face mesh and selfie segmentation.

No face-parsing network weights can be downloaded here (reference notes), but MediaPipe
0.10.9 ships two small models inside its wheel: the **face mesh** (468 landmarks, 478 with
``refine_landmarks=True``, which adds the irises and sharpens eye and lip contours) and
**selfie segmentation** (a person/background probability per pixel). :func:`parse_face`
turns them into a 19-class CelebAMask-HQ label map by painting, in this order (later layers
overwrite earlier ones, as CelebAMask-HQ's own part merging does):

1. **cloth** - every person pixel not claimed by the layers below (body, shoulders,
   a raised collar beside the face);
2. **neck** - person pixels in a band from the chin down ``NECK_LENGTH`` face heights and
   within ``NECK_HALF_WIDTH`` face widths of the face's centre line;
3. **hair** - person pixels above the chin line within ``HAIR_HALF_WIDTH`` face widths of
   the face's centre line and outside the face oval (this also takes in ears, hats and a
   raised hand: the mesh does not cover them);
4. **skin** - the face oval (``FACEMESH_FACE_OVAL``) filled;
5. **nose** - convex hull of ``FACEMESH_NOSE`` (bridge to nostrils);
6. **brows** - the polygon between the upper and lower brow contour
   (``FACEMESH_LEFT/RIGHT_EYEBROW``);
7. **eyes** - the eye-opening contour (``FACEMESH_LEFT/RIGHT_EYE``), irises included;
8. **lips** - from ``FACEMESH_LIPS``: upper lip = outer upper arc + inner upper arc,
   lower lip likewise; **mouth** = the inner lip contour (teeth, tongue, gap).

"Above" and "below" follow the face's own axis (forehead landmark 10 to chin 152), so a
tilted head keeps its neck under its chin. These are geometric approximations: hair
hidden behind the head, long hair over the shoulders (it lands in cloth), ears, hats,
glasses, earrings and necklaces are not separated; use the map for region statistics and
blending masks, not as a parser benchmark.

**Left and right.** MediaPipe's ``LEFT_EYE`` is the subject's left eye (it appears on the
image's right in a frontal photo). CelebAMask-HQ's README does not define its ``l_`` / ``r_``
parts; maskstyle uses the *person's* left throughout (the face world puts ``l_eye`` at the
person's left, :mod:`maskstyle.data.synth.face_parts`), so the default ``sides="subject"``
maps MediaPipe's left to ``l_`` unchanged. ``sides="image"`` names parts by the image side
instead (``l_eye`` = the eye on the image's left). Results computed on these maps are
``parse_face`` results, not those of the papers' parsers (the harmonized paper parsed FFHQ
with a DeepLab-v3 whose weights are not published): record which one made a mask.

Models are created on first use and reused (module-level cache); ``mediapipe`` is imported
lazily, so ``import maskstyle.data`` stays light.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from maskstyle.data.labels import LABEL_INDEX

SIDES = ("image", "subject")
NECK_LENGTH = 0.35
"""Neck band length below the chin, in face heights (forehead-to-chin distance)."""
NECK_HALF_WIDTH = 0.3
"""Half width of the neck column, in face widths (oval width)."""
HAIR_HALF_WIDTH = 0.8
"""Hair is looked for within this many face widths of the face's centre line."""
PERSON_THRESHOLD = 0.5
"""Selfie-segmentation probability above which a pixel belongs to the person."""

_FOREHEAD, _CHIN = 10, 152  # face-mesh landmarks on the face's vertical axis
_OUTER_CORNERS, _INNER_CORNERS = (61, 291), (78, 308)  # mouth corners on the lip contours
_OUTER_UPPER_MID, _INNER_UPPER_MID = 0, 13  # landmarks on the upper arcs


class NoFaceFoundError(ValueError):
    """MediaPipe's face mesh found no face in the image."""


@functools.cache
def _face_mesh() -> Any:
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=1, refine_landmarks=True,
        min_detection_confidence=0.5,
    )


@functools.cache
def _selfie_segmentation() -> Any:
    import mediapipe as mp

    return mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)


@functools.cache
def _connections() -> dict[str, frozenset]:
    import mediapipe as mp

    fm = mp.solutions.face_mesh
    return {
        "oval": fm.FACEMESH_FACE_OVAL,
        "nose": fm.FACEMESH_NOSE,
        "lips": fm.FACEMESH_LIPS,
        "left_eye": fm.FACEMESH_LEFT_EYE,
        "right_eye": fm.FACEMESH_RIGHT_EYE,
        "left_brow": fm.FACEMESH_LEFT_EYEBROW,
        "right_brow": fm.FACEMESH_RIGHT_EYEBROW,
    }


def to_rgb_uint8(image: Any) -> np.ndarray:
    """An ``H x W x 3`` uint8 array, a PIL image or a float tensor ``[3, H, W]`` in [0, 1]
    -> contiguous ``H x W x 3`` uint8 RGB."""
    if isinstance(image, torch.Tensor):
        if image.dim() != 3 or image.shape[0] != 3 or not image.dtype.is_floating_point:
            raise ValueError(
                f"a tensor image must be float [3, H, W] in [0, 1], got {image.dtype} "
                f"{tuple(image.shape)}; for a batch, parse each image (image[i])"
            )
        array = (image.detach().cpu().clamp(0, 1) * 255).round().byte().permute(1, 2, 0)
        return np.ascontiguousarray(array.numpy())
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL image
        return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"a numpy image must be H x W x 3 (RGB), got shape {image.shape}; drop an "
                "alpha channel with image[..., :3] and stack grey images to 3 channels"
            )
        if image.dtype != np.uint8:
            raise TypeError(
                f"a numpy image must be uint8 0..255, got {image.dtype}; convert with "
                "(image * 255).round().astype(np.uint8) if it holds floats in [0, 1]"
            )
        return np.ascontiguousarray(image)
    raise TypeError(
        f"parse_face takes an H x W x 3 uint8 array, a PIL image or a float tensor "
        f"[3, H, W]; got {type(image).__name__}"
    )


def face_landmarks(image: Any) -> np.ndarray:
    """The 478 face-mesh landmarks of the one face in ``image``, ``(x, y)`` in pixels.

    Raises :class:`NoFaceFoundError` when no face is found.
    """
    rgb = to_rgb_uint8(image)
    result = _face_mesh().process(rgb)
    if not result.multi_face_landmarks:
        h, w = rgb.shape[:2]
        raise NoFaceFoundError(
            f"no face found in the {w}x{h} image; parse_face needs one visible face that "
            "is not too small (say 64 px or more across) nor turned far from the camera"
        )
    h, w = rgb.shape[:2]
    marks = result.multi_face_landmarks[0].landmark
    return np.array([[p.x * w, p.y * h] for p in marks], dtype=np.float64)


def person_probability(image: Any) -> np.ndarray:
    """Selfie segmentation: ``H x W`` float32 probability that a pixel shows the person."""
    return np.asarray(_selfie_segmentation().process(to_rgb_uint8(image)).segmentation_mask,
                      dtype=np.float32)


def _paths(connections: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Chain an edge set into vertex sequences (open paths first, then closed loops)."""
    neighbours: dict[int, list[int]] = {}
    for a, b in connections:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    ends = sorted(v for v, n in neighbours.items() if len(n) == 1)
    seen: set[int] = set()
    paths = []
    for start in ends + sorted(neighbours):
        if start in seen:
            continue
        path, previous, current = [start], None, start
        seen.add(start)
        while True:
            step = [n for n in neighbours[current] if n != previous and n not in seen]
            if not step:
                break
            previous, current = current, step[0]
            path.append(current)
            seen.add(current)
        paths.append(path)
    return paths


def _loop(connections: Iterable[tuple[int, int]]) -> list[int]:
    paths = _paths(connections)
    if len(paths) != 1:
        raise RuntimeError(f"expected one closed contour, got {len(paths)} paths")
    return paths[0]


def _arcs(loop: list[int], corners: tuple[int, int], upper_mid: int) -> tuple[list, list]:
    """Split a closed contour at two corner vertices: ``(upper arc, lower arc)``, each
    running from ``corners[0]`` to ``corners[1]``."""
    i = loop.index(corners[0])
    loop = loop[i:] + loop[:i]
    j = loop.index(corners[1])
    first, second = loop[: j + 1], [corners[0], *reversed(loop[j:])]
    return (first, second) if upper_mid in first else (second, first)


def _brow_polygon(connections: Iterable[tuple[int, int]], points: np.ndarray) -> np.ndarray:
    """Brows are two open contours (upper, lower): join them into one polygon."""
    paths = _paths(connections)
    if len(paths) == 1:
        return points[paths[0]]
    first, second = paths[0], paths[1]
    if np.linalg.norm(points[first[-1]] - points[second[0]]) > np.linalg.norm(
        points[first[-1]] - points[second[-1]]
    ):
        second = second[::-1]
    return points[first + second]


def _vertices(connections: Iterable[tuple[int, int]]) -> list[int]:
    return sorted({v for edge in connections for v in edge})


def _fill(label_map: np.ndarray, polygon: np.ndarray, label: int) -> None:
    import cv2

    layer = np.zeros(label_map.shape, dtype=np.uint8)
    cv2.fillPoly(layer, [np.round(polygon).astype(np.int32).reshape(-1, 1, 2)], 1,
                 lineType=cv2.LINE_8)
    label_map[layer > 0] = label


def parse_face(
    image: Any,
    sides: str = "subject",
    person_threshold: float = PERSON_THRESHOLD,
) -> torch.Tensor:
    """A 19-class int64 ``[H, W]`` label map of the face in ``image`` (see module docstring).

    ``image``: ``H x W x 3`` uint8 array, PIL image or float tensor ``[3, H, W]`` in [0, 1].
    ``sides``: ``"subject"`` (``l_eye`` = the person's left eye) or ``"image"`` (``l_eye`` =
    the eye on the image's left).
    Raises :class:`NoFaceFoundError` when MediaPipe finds no face.
    """
    if sides not in SIDES:
        raise ValueError(f"sides must be one of {SIDES}, got {sides!r}")
    import cv2

    rgb = to_rgb_uint8(image)
    points = face_landmarks(rgb)
    person = person_probability(rgb) > person_threshold
    h, w = rgb.shape[:2]
    links = _connections()
    L = LABEL_INDEX
    labels = np.zeros((h, w), dtype=np.int64)

    # The face's own frame: "down" from forehead to chin, "across" perpendicular to it.
    oval = points[_loop(links["oval"])]
    chin = points[_CHIN]
    down = chin - points[_FOREHEAD]
    face_height = float(np.linalg.norm(down))
    down /= face_height
    across = np.array([-down[1], down[0]])
    lateral = oval @ across
    face_width = float(lateral.max() - lateral.min())
    centre_lateral = 0.5 * float(lateral.max() + lateral.min())
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    below_chin = ((xs - chin[0]) * down[0] + (ys - chin[1]) * down[1]) / face_height
    off_centre = np.abs(xs * across[0] + ys * across[1] - centre_lateral) / face_width

    labels[person] = L["cloth"]
    labels[person & (below_chin >= 0) & (below_chin <= NECK_LENGTH)
           & (off_centre <= NECK_HALF_WIDTH)] = L["neck"]
    labels[person & (below_chin < 0) & (off_centre <= HAIR_HALF_WIDTH)] = L["hair"]

    _fill(labels, oval, L["skin"])
    nose = points[_vertices(links["nose"])]
    _fill(labels, cv2.convexHull(nose.astype(np.float32)).reshape(-1, 2), L["nose"])

    # MediaPipe's LEFT is the subject's left, i.e. the image's right in a frontal photo.
    ours_left = "right" if sides == "image" else "left"
    ours_right = "left" if sides == "image" else "right"
    for ours, theirs in (("l", ours_left), ("r", ours_right)):
        _fill(labels, _brow_polygon(links[f"{theirs}_brow"], points), L[f"{ours}_brow"])
        _fill(labels, points[_loop(links[f"{theirs}_eye"])], L[f"{ours}_eye"])

    outer, inner = _paths(links["lips"])[:2]
    if _polygon_area(points[outer]) < _polygon_area(points[inner]):
        outer, inner = inner, outer
    outer_upper, outer_lower = _arcs(outer, _OUTER_CORNERS, _OUTER_UPPER_MID)
    inner_upper, inner_lower = _arcs(inner, _INNER_CORNERS, _INNER_UPPER_MID)
    _fill(labels, points[outer_upper + inner_upper[::-1]], L["u_lip"])
    _fill(labels, points[outer_lower + inner_lower[::-1]], L["l_lip"])
    _fill(labels, points[inner], L["mouth"])
    return torch.from_numpy(labels)


def _polygon_area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
