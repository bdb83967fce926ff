"""The face-world explorer, headless: set widget values, check the picture it shows."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from maskstyle.data.labels import LABEL_INDEX, PALETTE
from maskstyle.data.synth import counterfactual_pair
from maskstyle.widgets.face_world import DIM, GAP, HIDDEN_GREY, FaceWorldExplorer, compose_panels

SIZE = 64


def shown(explorer) -> np.ndarray:
    """The picture in the Image widget, decoded."""
    return np.asarray(Image.open(io.BytesIO(bytes(explorer.image.value))).convert("RGB"))


def expected(seed: int, attribute: str, with_attribute: bool) -> tuple[np.ndarray, np.ndarray]:
    pair = counterfactual_pair(seed, SIZE, attribute)
    sample = pair["with" if with_attribute else "without"]
    face = np.round(sample["image"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    return face, sample["mask"].numpy()


def split(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return picture[:, :SIZE], picture[:, SIZE + GAP :]


@pytest.fixture(scope="module")
def explorer():
    return FaceWorldExplorer(seed=5, size=SIZE, attribute="Eyeglasses")


def test_initial_picture_is_the_face_and_its_mask(explorer):
    face, mask = expected(5, "Eyeglasses", False)
    left, right = split(shown(explorer))
    np.testing.assert_array_equal(left, face)
    np.testing.assert_array_equal(right, np.asarray(PALETTE, np.uint8)[mask])
    assert "seed 5" in explorer.status.value and "hidden: none" in explorer.status.value


def test_attribute_toggle_adds_glasses(explorer):
    explorer.with_attribute.value = True
    face, mask = expected(5, "Eyeglasses", True)
    left, right = split(shown(explorer))
    np.testing.assert_array_equal(left, face)
    assert (mask == LABEL_INDEX["eye_g"]).any()
    assert (right == np.asarray(PALETTE[LABEL_INDEX["eye_g"]], np.uint8)).all(-1).any()
    assert "with Eyeglasses" in explorer.status.value and "eye_g" in explorer.status.value
    explorer.with_attribute.value = False
    _, mask_off = expected(5, "Eyeglasses", False)
    assert not (mask_off == LABEL_INDEX["eye_g"]).any()


def test_region_toggle_hides_a_region(explorer):
    face, mask = expected(5, "Eyeglasses", False)
    explorer.regions["skin"].value = False
    left, right = split(shown(explorer))
    skin = mask == LABEL_INDEX["skin"]
    assert skin.any()
    assert (right[skin] == HIDDEN_GREY).all()
    np.testing.assert_array_equal(right[~skin], np.asarray(PALETTE, np.uint8)[mask][~skin])
    dimmed = np.round(face[skin].astype(np.float32) / 255 * DIM * 255)
    assert np.abs(left[skin].astype(np.float32) - dimmed).max() <= 1.0
    np.testing.assert_array_equal(left[~skin], face[~skin])
    assert "hidden: skin" in explorer.status.value
    explorer.regions["skin"].value = True


def test_seed_slider_renders_another_face(explorer):
    before = shown(explorer)
    explorer.seed.value = 6
    face, _ = expected(6, "Eyeglasses", False)
    after = shown(explorer)
    np.testing.assert_array_equal(split(after)[0], face)
    assert not np.array_equal(before, after)
    explorer.attribute.value = "Black_Hair"
    face, _ = expected(6, "Black_Hair", False)
    np.testing.assert_array_equal(split(shown(explorer))[0], face)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown attribute 'Glasses'"):
        FaceWorldExplorer(attribute="Glasses")
    with pytest.raises(ValueError, match="at least 32"):
        FaceWorldExplorer(size=8)
    with pytest.raises(ValueError, match="seed must be in"):
        FaceWorldExplorer(seed=5000)
    with pytest.raises(ValueError, match="sizes differ"):
        compose_panels(np.zeros((3, 4, 4)), np.zeros((5, 5), np.int64), {0})
