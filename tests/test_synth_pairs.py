"""Face world pairs: blends, counterfactuals, lighting series, painted portraits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from maskstyle.data.labels import FACE_REGIONS, LABEL_INDEX
from maskstyle.data.synth.painted import PAINT_STYLES, line_integral, painted_portrait, quantise
from maskstyle.data.synth.pairs import (
    COUNTERFACTUALS,
    blend_pair,
    canonical_attribute,
    counterfactual_pair,
    lighting_series,
)
from maskstyle.data.synth.params import FaceParams, sample_params
from maskstyle.data.synth.renderer import render
from maskstyle.data.synth.shading import blur_radius

FACE = torch.tensor([LABEL_INDEX[n] for n in FACE_REGIONS])
INNER = torch.tensor([LABEL_INDEX[n] for n in ("l_eye", "r_eye", "l_brow", "r_brow", "u_lip",
                                               "l_lip")])  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blend_pair_shares_geometry_and_keeps_b_outside_the_face(seed):
    pair = blend_pair(seed, 64)
    a, b, t = pair["a"], pair["b"], pair["target"]
    assert a["params"]["geometry"] == b["params"]["geometry"] == t["params"]["geometry"]
    assert torch.equal(a["pose"], b["pose"]) and torch.equal(a["landmarks"], b["landmarks"])
    assert a["params"]["identity"] != b["params"]["identity"]
    ears = {"ear_size": b["params"]["identity"]["ear_size"]}
    assert t["params"]["identity"] == {**a["params"]["identity"], **ears}
    assert t["params"]["environment"] == b["params"]["environment"]
    # background and hair: B's pixels exactly, away from the blur and from anti-aliased
    # edges (2 px: at hair/skin/background junctions a partly covered hair pixel shows
    # a little of the face beneath)
    keep = (torch.isin(b["mask"], torch.tensor([0, LABEL_INDEX["hair"]]))) & (
        t["mask"] == b["mask"]
    )
    env = FaceParams.from_dict(b["params"]).environment
    radius = blur_radius(env, 64) + 2
    keep = torch.from_numpy(ndimage.binary_erosion(keep.numpy(), iterations=radius))
    assert keep.sum() > 500
    assert torch.equal(t["image"][:, keep], b["image"][:, keep])
    assert torch.equal(t["mask"][keep], b["mask"][keep])


@pytest.mark.parametrize("seed", [0, 3])
def test_blend_target_has_a_features_where_a_and_b_differ(seed):
    pair = blend_pair(seed, 64)
    a, b, t = pair["a"], pair["b"], pair["target"]
    both_face = torch.isin(a["mask"], FACE) & torch.isin(t["mask"], FACE)
    assert both_face.sum() > 300
    assert torch.equal(t["mask"][both_face], a["mask"][both_face])  # A's parts, in place
    inner = torch.isin(t["mask"], INNER) | torch.isin(b["mask"], INNER)
    diff = (t["image"] - b["image"]).abs().sum(0)
    assert diff[inner].mean() > 0.05  # A's features differ from B's there


def test_blend_pair_has_no_occluders():
    for seed in range(4):
        pair = blend_pair(seed, 32)
        for s in pair.values():
            assert not s["attrs"]["Eyeglasses"] and not s["attrs"]["Wearing_Hat"]


@pytest.mark.parametrize("attribute", list(COUNTERFACTUALS))
def test_counterfactual_differs_only_inside_its_region(attribute):
    for seed in (0, 1):
        pair = counterfactual_pair(seed, 48, attribute)
        off, on, region = pair["without"], pair["with"], pair["region"]
        assert pair["attribute"] == attribute
        assert region.dtype == torch.bool and region.shape == (48, 48)
        assert 0 < region.sum() < 0.6 * region.numel()
        assert torch.equal(off["image"][:, ~region], on["image"][:, ~region])
        assert torch.equal(off["mask"][~region], on["mask"][~region])
        assert (off["image"] - on["image"]).abs().sum() > 0.5  # the attribute shows
        assert torch.equal(off["coords"][:, ~region], on["coords"][:, ~region])


@pytest.mark.parametrize(
    ("attribute", "column", "value_with"),
    [
        ("Eyeglasses", "Eyeglasses", True),
        ("Smiling", "Smiling", True),
        ("Blond_Hair", "Blond_Hair", True),
        ("Gray_Hair", "Gray_Hair", True),
        ("Beard", "No_Beard", False),
        ("Goatee", "Goatee", True),
        ("Wearing_Lipstick", "Wearing_Lipstick", True),
        ("Wearing_Hat", "Wearing_Hat", True),
    ],
)
def test_counterfactual_flips_the_attribute(attribute, column, value_with):
    pair = counterfactual_pair(5, 32, attribute)
    assert pair["with"]["attrs"][column] is value_with
    assert pair["without"]["attrs"][column] is (not value_with)


def test_counterfactual_labels_change_where_the_attribute_has_a_class():
    pair = counterfactual_pair(2, 64, "Eyeglasses")
    eye_g = LABEL_INDEX["eye_g"]
    assert (pair["without"]["mask"] == eye_g).sum() == 0 and (pair["with"]["mask"] == eye_g).sum()


@pytest.mark.parametrize(
    ("alias", "name"),
    [("eyeglasses", "Eyeglasses"), ("lipstick", "Wearing_Lipstick"), ("BLOND", "Blond_Hair"),
     ("beard", "Beard"), ("smile", "Smiling")],
)  # fmt: skip
def test_counterfactual_accepts_short_names(alias, name):
    assert canonical_attribute(alias) == name
    assert counterfactual_pair(0, 32, alias)["attribute"] == name


def test_counterfactual_rejects_unknown_attribute():
    with pytest.raises(ValueError, match="no counterfactual for attribute 'Young'; valid: "):
        counterfactual_pair(0, 32, "Young")


def test_lighting_series_same_mask_different_images():
    series = lighting_series(4, 48, 4)
    assert len(series) == 4
    for s in series[1:]:
        assert torch.equal(s["mask"], series[0]["mask"])
        assert (s["image"] - series[0]["image"]).abs().mean() > 0.005
    azimuths = [s["params"]["environment"]["light_azimuth"] for s in series]
    assert azimuths == sorted(azimuths) and len(set(azimuths)) == 4
    with pytest.raises(ValueError, match="at least 1 light"):
        lighting_series(0, 32, 0)


@pytest.mark.parametrize("style", list(PAINT_STYLES))
def test_painted_portrait_keeps_the_mask_and_differs_from_the_photo(style):
    s = painted_portrait(3, 64, style)
    photo = render(sample_params(3), 64)
    assert s["style"] == style
    assert torch.equal(s["mask"], photo["mask"]) and torch.equal(s["photo"], photo["image"])
    assert s["image"].shape == (3, 64, 64) and s["image"].dtype == torch.float32
    assert 0 <= s["image"].min() and s["image"].max() <= 1
    assert (s["image"] - photo["image"]).abs().mean() > 0.02
    assert torch.equal(painted_portrait(3, 64, style)["image"], s["image"])


def test_painted_styles_differ_from_each_other():
    images = [painted_portrait(1, 48, style)["image"] for style in PAINT_STYLES]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert (images[i] - images[j]).abs().mean() > 0.01


def test_painted_portrait_rejects_unknown_style():
    with pytest.raises(ValueError, match="unknown paint style 'cubist'; valid: oil"):
        painted_portrait(0, 32, "cubist")


def test_line_integral_matches_a_loop():
    """Eq. (1) of painted.py against a brute-force average along the field."""
    rng = np.random.default_rng(0)
    field = rng.random((9, 9)).astype(np.float32)
    dx, dy = np.full((9, 9), 0.6, np.float32), np.full((9, 9), 0.8, np.float32)
    got = line_integral(field, dx, dy, 2)
    for r in range(9):
        for c in range(9):
            vals = []
            for k in range(-2, 3):
                rr = min(max(int(np.rint(r + k * 0.8)), 0), 8)
                cc = min(max(int(np.rint(c + k * 0.6)), 0), 8)
                vals.append(field[rr, cc])
            assert got[r, c] == pytest.approx(np.mean(vals), abs=1e-6)


def test_quantise_picks_the_nearest_palette_colour():
    palette = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0]], np.float32)
    image = np.array([[[0.1, 0.1, 0.1], [0.9, 0.2, 0.1], [0.7, 0.8, 0.9]]], np.float32)
    np.testing.assert_array_equal(quantise(image, palette)[0], palette[[0, 2, 1]])
