"""face_coords: unit-sphere face coordinates from MediaPipe's face mesh (photo and face world)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from maskstyle.data.face_coords import (
    CHIN,
    FOREHEAD,
    LEFT_EDGE,
    RIGHT_EDGE,
    face_coords,
    face_landmarks_3d,
    landmark_sphere_coords,
)
from maskstyle.data.labels import LABEL_INDEX as L

pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


@pytest.fixture(scope="module")
def marks(astronaut):
    return face_landmarks_3d(astronaut)


@pytest.fixture(scope="module")
def coords(astronaut):
    return face_coords(astronaut)


def _landmark_value(coords: torch.Tensor, marks: np.ndarray, index: int) -> torch.Tensor:
    h, w = coords.shape[-2:]
    col, row = int(marks[index, 0] * w), int(marks[index, 1] * h)
    return coords[:, row, col]


def test_unit_norm_on_face_zero_outside(coords):
    norm = coords.norm(dim=0)
    face = norm > 0
    assert coords.shape == (3, 512, 512) and coords.dtype == torch.float32
    assert 2000 < int(face.sum()) < 40000  # the astronaut's face: roughly 90 x 110 px
    assert torch.allclose(norm[face], torch.ones(()), atol=1e-5)
    assert (coords[:, :, :100] == 0).all() and (coords[:, 300:] == 0).all()  # off the face


def test_axis_directions_match_the_face_world(coords, marks):
    """x toward the person's left (image right for a frontal face), y down, z out."""
    left, right = (
        _landmark_value(coords, marks, LEFT_EDGE),
        _landmark_value(coords, marks, RIGHT_EDGE),
    )
    top, chin = _landmark_value(coords, marks, FOREHEAD), _landmark_value(coords, marks, CHIN)
    assert left[0] > 0.5 and right[0] < -0.5
    assert top[1] < -0.4 and chin[1] > 0.4


def test_nose_stands_out_of_the_cheeks(coords, marks):
    nose = _landmark_value(coords, marks, 1)  # nose tip
    cheeks = [_landmark_value(coords, marks, i) for i in (50, 280)]
    assert nose[2] > 0.9
    assert all(nose[2] > c[2] + 0.05 for c in cheeks)
    assert abs(float(nose[0])) < 0.2


def test_landmark_anchors_on_the_face_world_contour(marks):
    """The face edges land on X = -/+0.86 direction and the forehead/chin on the contour."""
    from maskstyle.data.synth.renderer import contour_points

    sphere = landmark_sphere_coords(marks, 512)
    np.testing.assert_allclose(np.linalg.norm(sphere, axis=1), 1.0, atol=1e-9)
    ring = contour_points()
    np.testing.assert_allclose(sphere[LEFT_EDGE], ring[4] / np.linalg.norm(ring[4]), atol=0.15)
    assert sphere[RIGHT_EDGE][0] == pytest.approx(-sphere[LEFT_EDGE][0], abs=0.15)


def test_mirrored_photo_mirrors_x(astronaut, coords):
    """Same meaning under a mirror: the flipped face's X changes sign, Y and Z stay."""
    flipped = face_coords(np.ascontiguousarray(astronaut[:, ::-1]))
    back = flipped.flip(-1)
    both = (coords.norm(dim=0) > 0) & (back.norm(dim=0) > 0)
    assert int(both.sum()) > 1000
    mirror = torch.tensor([-1.0, 1.0, 1.0])[:, None]
    cos = (coords[:, both] * back[:, both] * mirror).sum(0)
    assert float(cos.mean()) > 0.95


def test_same_meaning_as_face_world_coords():
    """On a rendered face, the mesh coordinates agree with the face world's own."""
    from maskstyle.data.synth import SynthFaces

    sample = SynthFaces(1, size=96, seed=3, kind="single")[0]
    ours = face_coords(sample["image"], labels=sample["mask"])
    ref = sample["coords"]
    assert ((ours.norm(dim=0) > 0) == (ref.norm(dim=0) > 0)).float().mean() > 0.97
    on = (ours.norm(dim=0) > 0) & (ref.norm(dim=0) > 0)
    cos = (ours[:, on] * ref[:, on]).sum(0)
    assert float(cos.mean()) > 0.9


def test_landmarks_input_and_labels_choose_face_pixels(marks):
    labels = torch.zeros(64, 64, dtype=torch.long)
    labels[20:30, 25:35] = L["nose"]
    labels[0:5, 0:5] = L["hair"]
    out = face_coords(marks, (64, 64), labels=labels)
    face = out.norm(dim=0) > 0
    assert torch.equal(face, labels == L["nose"])


def test_deterministic(marks):
    assert torch.equal(face_coords(marks, 48), face_coords(marks, 48))


def test_bad_input():
    with pytest.raises(ValueError, match="landmarks must be"):
        face_coords(np.zeros((10, 3)), 32)
    with pytest.raises(ValueError, match="give the output size"):
        face_coords(np.zeros((478, 3)))
    with pytest.raises(ValueError, match="labels has shape"):
        face_coords(np.random.default_rng(0).random((478, 3)), 32, labels=torch.zeros(16, 16))
    with pytest.raises(ValueError, match="float"):
        face_coords(torch.zeros(1, 3, 8, 8))


def test_no_face_is_a_clear_error():
    from maskstyle.data.parse_face import NoFaceFoundError

    with pytest.raises(NoFaceFoundError, match="no face found"):
        face_coords(np.full((64, 64, 3), 128, dtype=np.uint8))
