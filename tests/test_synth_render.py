"""Face world: parameters, geometry (Eq. 1 of geometry.py), shading, and rendered samples."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from maskstyle.data.labels import FACE_REGIONS, LABEL_INDEX, NUM_CLASSES
from maskstyle.data.synth.attributes import CELEBA_ATTRIBUTES, UNMODELLED, attributes_from_params
from maskstyle.data.synth.geometry import (
    check_size,
    coverage,
    ellipse_distance,
    pixel_grid,
    view_head,
)
from maskstyle.data.synth.params import FaceParams, Geometry, sample_params
from maskstyle.data.synth.renderer import contour_points, render, render_face
from maskstyle.data.synth.shading import lambert, light_direction, smooth_noise

POSED = Geometry(yaw=25.0, pitch=-12.0, roll=9.0, jaw_taper=0.25)


# ---------------------------------------------------------------- parameters


def test_sample_params_is_deterministic_and_seed_dependent():
    assert sample_params(7) == sample_params(7)
    assert sample_params(7) != sample_params(8)
    assert sample_params(np.random.default_rng(3)) == sample_params(3)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_sample_params_rejects_bad_seeds(seed):
    with pytest.raises(TypeError, match="seed must be"):
        sample_params(seed)


def test_params_round_trip_through_dict_and_json():
    params = sample_params(11)
    data = params.to_dict()
    assert set(data) == {
        "geometry", "identity", "environment", "hair", "objects", "background", "clothing"
    }  # fmt: skip
    assert FaceParams.from_dict(data) == params
    assert FaceParams.from_dict(json.loads(json.dumps(data))) == params


def test_params_from_dict_names_unknown_groups_and_fields():
    data = sample_params(0).to_dict()
    with pytest.raises(ValueError, match="unknown parameter groups"):
        FaceParams.from_dict({**data, "lighting": {}})
    data["hair"]["fringe"] = 1
    with pytest.raises(ValueError, match="unknown fields \\['fringe'\\] in parameter group 'hair'"):
        FaceParams.from_dict(data)


def test_replace_updates_fields_and_whole_groups():
    p = sample_params(2)
    q = p.replace(objects={"eyeglasses": True}, geometry=POSED)
    assert q.objects.eyeglasses and q.geometry == POSED and q.identity == p.identity
    with pytest.raises(ValueError, match="unknown parameter group 'pose'"):
        p.replace(pose={})


# ---------------------------------------------------------------- geometry


@pytest.mark.parametrize("size", [31, 513, 0])
def test_size_outside_range_names_the_valid_range(size):
    with pytest.raises(ValueError, match="between 32 and 512"):
        check_size(size)
    with pytest.raises(ValueError, match="between 32 and 512"):
        render_face(0, size)


@pytest.mark.parametrize("size", [64.0, True, "64"])
def test_size_must_be_an_int(size):
    with pytest.raises(TypeError, match="size must be an int"):
        check_size(size)


def test_pixel_grid_centres():
    u, v = pixel_grid(4)
    np.testing.assert_allclose(u[0], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(v[:, 0], [-0.75, -0.25, 0.25, 0.75])


def test_coverage_known_values():
    pixel = 0.1
    np.testing.assert_allclose(coverage(np.array([-0.05, 0.0, 0.05, -1.0, 1.0]), pixel),
                               [1.0, 0.5, 0.0, 1.0, 0.0])  # fmt: skip


def test_ellipse_distance_is_zero_on_boundary_and_signed():
    t = np.linspace(0, 2 * np.pi, 50)
    rx, ry = 0.3, 0.2
    on = ellipse_distance(rx * np.cos(t), ry * np.sin(t), rx, ry)
    np.testing.assert_allclose(on, 0.0, atol=1e-6)
    assert ellipse_distance(np.array(0.0), np.array(0.0), rx, ry) < 0
    assert ellipse_distance(np.array(1.0), np.array(0.0), rx, ry) > 0
    # near a circle's boundary f/|grad f| = (r^2 - R^2) / (2 r) ~ r - R
    r = np.array([0.49, 0.51])
    np.testing.assert_allclose(ellipse_distance(r, 0 * r, 0.5, 0.5), r - 0.5, atol=2e-4)


def test_ray_cast_points_lie_on_the_unit_sphere_and_project_back_to_their_pixel():
    """Eq. (1) inverted independently: the forward projection of each hit point."""
    view = view_head(POSED, 64)
    hit = view.hit
    xyz = np.stack([view.X[hit], view.Y[hit], view.Z[hit]], axis=1)
    np.testing.assert_allclose((xyz**2).sum(1), 1.0, atol=1e-4)
    uv = view.project(xyz)
    np.testing.assert_allclose(uv[:, 0], view.u[hit], atol=1e-4)
    np.testing.assert_allclose(uv[:, 1], view.v[hit], atol=1e-4)


def test_ray_cast_keeps_the_visible_root_and_a_consistent_silhouette():
    view = view_head(POSED, 64)
    # visible surface faces the camera (+z)
    assert (view.normal[2][view.hit] >= -1e-4).all()
    np.testing.assert_allclose(np.linalg.norm(view.normal[:, view.hit], axis=0), 1.0, atol=1e-5)
    # head_d < 0 exactly where a ray hits, except within a pixel of the outline
    inside = view.head_d < -view.pixel
    outside = view.head_d > view.pixel
    assert view.hit[inside].all() and not view.hit[outside].any()


def test_unposed_head_silhouette_is_the_ellipse():
    g = Geometry(jaw_taper=0.0)
    view = view_head(g, 96)
    expect = (view.u - g.center_x) ** 2 / g.head_width**2 + (
        view.v - g.center_y
    ) ** 2 / g.head_height**2 < 1
    assert (view.hit != expect).mean() < 0.002


# ---------------------------------------------------------------- shading


def test_light_direction_known_values():
    np.testing.assert_allclose(light_direction(0, 0), [0, 0, 1], atol=1e-7)
    np.testing.assert_allclose(light_direction(90, 0), [1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(light_direction(0, 90), [0, -1, 0], atol=1e-7)


def test_lambert_matches_a_per_pixel_loop():
    env = sample_params(4).environment
    rng = np.random.default_rng(0)
    n = rng.normal(size=(3, 5, 6)).astype(np.float32)
    n /= np.linalg.norm(n, axis=0, keepdims=True)
    got = lambert(n, env)
    light = light_direction(env.light_azimuth, env.light_elevation)
    for i in range(5):
        for j in range(6):
            cos = max(0.0, float(sum(light[k] * n[k, i, j] for k in range(3))))
            for c in range(3):
                want = env.ambient + env.light_intensity * env.light_colour[c] * cos
                assert got[i, j, c] == pytest.approx(want, abs=1e-5)


def test_smooth_noise_range_and_determinism():
    a = smooth_noise(5, 40, 4)
    assert a.shape == (40, 40) and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, smooth_noise(5, 40, 4))
    assert not np.array_equal(a, smooth_noise(6, 40, 4))


# ---------------------------------------------------------------- samples


@pytest.mark.parametrize("size", [32, 64, 256])
def test_sample_schema_dtypes_shapes_ranges(size):
    s = render_face(3, size)
    assert set(s) == {"image", "mask", "attrs", "landmarks", "pose", "coords", "params"}
    assert s["image"].dtype == torch.float32 and s["image"].shape == (3, size, size)
    assert 0 <= s["image"].min() and s["image"].max() <= 1
    assert s["mask"].dtype == torch.int64 and s["mask"].shape == (size, size)
    assert 0 <= s["mask"].min() and s["mask"].max() < NUM_CLASSES
    assert list(s["attrs"]) == list(CELEBA_ATTRIBUTES)
    assert all(isinstance(v, bool) for v in s["attrs"].values())
    assert s["landmarks"].dtype == torch.float32 and s["landmarks"].shape == (16, 2)
    assert 0 <= s["landmarks"].min() and s["landmarks"].max() <= 1
    assert s["pose"].dtype == torch.float32 and s["pose"].shape == (3,)
    assert s["coords"].dtype == torch.float32 and s["coords"].shape == (3, size, size)
    assert FaceParams.from_dict(s["params"]) == sample_params(3)
    present = set(s["mask"].unique().tolist())
    for part in ("background", "skin", "nose", "neck", "cloth"):
        assert LABEL_INDEX[part] in present, part


def test_render_is_deterministic_and_seed_dependent():
    a, b, c = render_face(5, 64), render_face(5, 64), render_face(6, 64)
    for key in ("image", "mask", "coords", "landmarks", "pose"):
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(a["image"], c["image"])
    assert not torch.equal(a["mask"], c["mask"])


def test_same_face_at_two_sizes_has_consistent_masks():
    params = sample_params(9)
    small = render(params, 64)["mask"]
    large = render(params, 128)["mask"][::2, ::2]  # nearest pixel centres are 1/4 px apart
    assert (small == large).float().mean() > 0.95


def test_coords_are_unit_on_face_pixels_and_zero_elsewhere():
    s = render_face(12, 64)
    face = torch.isin(s["mask"], torch.tensor([LABEL_INDEX[n] for n in FACE_REGIONS]))
    norm = s["coords"].norm(dim=0)
    assert face.sum() > 100
    torch.testing.assert_close(norm[face], torch.ones(int(face.sum())), atol=1e-4, rtol=0)
    assert (s["coords"][:, ~face] == 0).all()


@pytest.mark.parametrize("pose", [(0, 0, 0), (25, 0, 0), (-20, 10, -8), (10, -12, 12)])
def test_coords_are_pose_invariant_at_the_nose_tip(pose):
    """The pixel showing the nose tip carries the nose tip's coordinate, whatever the pose."""
    base = sample_params(1).replace(objects={"eyeglasses": False, "hat": False})
    yaw, pitch, roll = pose
    params = base.replace(geometry={"yaw": yaw, "pitch": pitch, "roll": roll})
    size = 128
    s = render(params, size)
    y = params.geometry.nose_y - 0.03
    tip = np.array([[0.0, y, np.sqrt(1 - y * y)]])
    view = view_head(params.geometry, size)
    u, v = view.project(tip)[0]
    col, row = int((u + 1) * size / 2), int((v + 1) * size / 2)
    np.testing.assert_allclose(s["coords"][:, row, col].numpy(), tip[0], atol=0.04)
    assert s["mask"][row, col] == LABEL_INDEX["nose"]


def test_nose_region_mean_coords_similar_across_poses():
    base = sample_params(2).replace(objects={"eyeglasses": False, "hat": False})
    means = []
    for yaw, pitch, roll in [(0, 0, 0), (22, 8, 10), (-22, -8, -10)]:
        s = render(base.replace(geometry={"yaw": yaw, "pitch": pitch, "roll": roll}), 96)
        nose = s["mask"] == LABEL_INDEX["nose"]
        means.append(s["coords"][:, nose].mean(1))
    for m in means[1:]:
        assert (m - means[0]).abs().max() < 0.06


def test_pose_field_and_landmarks_follow_the_pose():
    base = sample_params(3)
    left = render(base.replace(geometry={"yaw": -25.0, "roll": 0.0}), 64)
    right = render(base.replace(geometry={"yaw": 25.0, "roll": 0.0}), 64)
    assert left["pose"][0] == -25 and right["pose"][0] == 25
    # a face turned toward the image right moves its nose to the right
    col = torch.arange(64.0)
    nose_x = [(s["mask"] == LABEL_INDEX["nose"]).float() for s in (left, right)]
    centre = [(m * col).sum() / m.sum() for m in nose_x]
    assert centre[1] > centre[0] + 2


def test_contour_points_lie_on_the_front_of_the_unit_sphere():
    pts = contour_points()
    np.testing.assert_allclose((pts**2).sum(1), 1.0, atol=1e-9)
    assert (pts[:, 2] > 0).all() and pts[0, 1] < 0 < pts[8, 1]  # forehead first, chin at 8


def test_left_right_labels_are_the_persons():
    """``l_eye``/``l_brow``/``l_ear`` appear on the image right of a frontal face."""
    p = sample_params(0).replace(
        geometry={"yaw": 0.0, "pitch": 0.0, "roll": 0.0},
        hair={"style": "short"},
        objects={"eyeglasses": False, "hat": False},
    )
    mask = render(p, 128)["mask"]
    col = torch.arange(128.0)

    def centre(name):
        m = (mask == LABEL_INDEX[name]).float()
        assert m.sum() > 0, name
        return float((m * col).sum() / m.sum())

    for part in ("eye", "brow", "ear"):
        assert centre(f"l_{part}") > 64 > centre(f"r_{part}"), part


def test_attributes_are_the_40_celeba_names_computed_from_params():
    p = sample_params(4).replace(
        objects={"eyeglasses": True, "smiling": True, "beard": False, "goatee": False},
        hair={"style": "long", "colour": "blond"},
    )
    attrs = attributes_from_params(p)
    assert len(attrs) == 40 and list(attrs) == list(CELEBA_ATTRIBUTES)
    assert attrs["Eyeglasses"] and attrs["Smiling"] and attrs["No_Beard"] and attrs["Blond_Hair"]
    assert not attrs["Black_Hair"] and not attrs["Bald"]
    assert not any(attrs[name] for name in UNMODELLED)
    bald = attributes_from_params(p.replace(hair={"style": "bald"}))
    assert bald["Bald"] and not bald["Blond_Hair"]


def test_eyeglasses_are_drawn_and_labelled():
    p = sample_params(6).replace(objects={"eyeglasses": True, "hat": False})
    s = render(p, 96)
    assert (s["mask"] == LABEL_INDEX["eye_g"]).sum() > 20
    no = render(p.replace(objects={"eyeglasses": False}), 96)
    assert (no["mask"] == LABEL_INDEX["eye_g"]).sum() == 0


def test_silhouette_span_matches_the_ray_cast_outline():
    g = Geometry(yaw=20.0, pitch=10.0, roll=0.0, jaw_taper=0.2)
    view = view_head(g, 256)
    for row in (60, 100, 128, 170):
        yr = float(view.yr[row, 0])
        centre, half = view.silhouette_span(yr)
        cols = np.nonzero(view.hit[row])[0]
        u = view.u[row]
        assert abs(u[cols[0]] - (g.center_x + centre - half)) < 2 * view.pixel
        assert abs(u[cols[-1]] - (g.center_x + centre + half)) < 2 * view.pixel
