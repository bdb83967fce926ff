"""parse_face on a real photo (scikit-image's astronaut) with MediaPipe's bundled models."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from maskstyle.data.labels import LABEL_INDEX as L
from maskstyle.data.parse_face import (
    NoFaceFoundError,
    _arcs,
    _paths,
    face_landmarks,
    parse_face,
    to_rgb_uint8,
)

pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


@pytest.fixture(scope="module")
def astronaut_mask(astronaut):
    return parse_face(astronaut)


def _centre(mask: torch.Tensor, label: int) -> tuple[float, float]:
    ys, xs = torch.nonzero(mask == label, as_tuple=True)
    assert len(ys), f"label {label} is absent"
    return float(xs.float().mean()), float(ys.float().mean())


def test_astronaut_has_every_face_part(astronaut, astronaut_mask):
    mask = astronaut_mask
    assert mask.dtype == torch.int64 and mask.shape == astronaut.shape[:2]
    for name in (
        "skin",
        "l_eye",
        "r_eye",
        "l_brow",
        "r_brow",
        "nose",
        "u_lip",
        "l_lip",
        "hair",
        "neck",
        "cloth",
    ):
        assert (mask == L[name]).sum() > 20, name
    assert int(mask.max()) < 19 and int(mask.min()) == 0


def test_astronaut_part_geometry(astronaut_mask):
    mask = astronaut_mask
    eyes_y = max(_centre(mask, L["l_eye"])[1], _centre(mask, L["r_eye"])[1])
    brows_y = max(_centre(mask, L["l_brow"])[1], _centre(mask, L["r_brow"])[1])
    nose_y = _centre(mask, L["nose"])[1]
    mouth_y = _centre(mask, L["l_lip"])[1]
    assert brows_y < eyes_y < nose_y < mouth_y
    assert _centre(mask, L["u_lip"])[1] < _centre(mask, L["l_lip"])[1]
    assert (
        _centre(mask, L["hair"])[1]
        < _centre(mask, L["skin"])[1]
        < _centre(mask, L["neck"])[1]
        < _centre(mask, L["cloth"])[1]
    )
    # default sides="subject": the person's left parts lie on the image's right
    assert _centre(mask, L["l_eye"])[0] > _centre(mask, L["r_eye"])[0]
    assert _centre(mask, L["l_brow"])[0] > _centre(mask, L["r_brow"])[0]


def test_sides_image_swaps_left_and_right(astronaut, astronaut_mask):
    by_image = parse_face(astronaut, sides="image")
    swap = torch.arange(19)
    for a, b in (("l_eye", "r_eye"), ("l_brow", "r_brow")):
        swap[L[a]], swap[L[b]] = L[b], L[a]
    assert torch.equal(by_image, swap[astronaut_mask])
    assert _centre(by_image, L["l_eye"])[0] < _centre(by_image, L["r_eye"])[0]
    with pytest.raises(ValueError, match="sides"):
        parse_face(astronaut, sides="viewer")


def test_input_types_agree(astronaut, astronaut_mask):
    tensor = torch.from_numpy(astronaut).permute(2, 0, 1).float() / 255
    assert torch.equal(parse_face(Image.fromarray(astronaut)), astronaut_mask)
    assert torch.equal(parse_face(tensor), astronaut_mask)  # exact round trip to uint8
    assert face_landmarks(astronaut).shape == (478, 2)


def test_blank_image_raises_no_face_found():
    with pytest.raises(NoFaceFoundError, match="no face found in the 128x96 image"):
        parse_face(np.full((96, 128, 3), 127, np.uint8))
    assert issubclass(NoFaceFoundError, ValueError)


def test_bad_inputs_name_the_fix():
    with pytest.raises(ValueError, match="alpha"):
        to_rgb_uint8(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(TypeError, match="astype"):
        to_rgb_uint8(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"image\[i\]"):
        to_rgb_uint8(torch.zeros(1, 3, 8, 8))
    with pytest.raises(TypeError, match="PIL"):
        to_rgb_uint8([[0, 0, 0]])


def test_contour_chaining_and_arcs():
    square = {(0, 1), (1, 2), (2, 3), (3, 0)}
    (loop,) = _paths(square)
    assert sorted(loop) == [0, 1, 2, 3] and len(loop) == 4
    assert _paths({(5, 6), (6, 7), (8, 9)}) == [[5, 6, 7], [8, 9]]
    hexagon = [0, 1, 2, 3, 4, 5]  # corners 0 and 3, upper arc through 1
    upper, lower = _arcs(hexagon, (0, 3), 1)
    assert upper == [0, 1, 2, 3] and lower == [0, 5, 4, 3]


def test_import_maskstyle_data_does_not_import_mediapipe():
    code = "import sys, maskstyle.data; print('mediapipe' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_package_re_export_stays_the_function():
    """``maskstyle.data.parse_face`` must stay the function after the submodule is imported
    (a lazy re-export would be shadowed by the submodule of the same name)."""
    import maskstyle.data

    if "parse_face" not in maskstyle.data.__all__:
        pytest.skip("maskstyle.data does not re-export parse_face yet")
    assert maskstyle.data.parse_face is parse_face
    assert maskstyle.data.parse_face is parse_face  # second access too
