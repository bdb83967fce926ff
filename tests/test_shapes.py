"""maskstyle.utils.shapes.expect_shape: the one shape contract of the library's inputs."""

import pytest
import torch

from maskstyle.utils import expect_shape
from maskstyle.utils.shapes import format_spec


def test_returns_the_named_sizes():
    dims = expect_shape(torch.zeros(2, 3, 8, 5), ["B", 3, "H", "W"], "x")
    assert dims == {"B": 2, "H": 8, "W": 5}


def test_none_accepts_any_size_and_binds_nothing():
    assert expect_shape(torch.zeros(4, 7), [None, 7], "x") == {}
    assert format_spec(["B", None, 3]) == "[B, *, 3]"


def test_fixed_size_mismatch_names_the_dim():
    with pytest.raises(ValueError, match=r"x must be images \[B, 3, H, W\].*dim 1 is 4, not 3"):
        expect_shape(torch.zeros(2, 4, 8, 8), ["B", 3, "H", "W"], "x", what="images")


def test_wrong_rank_suggests_the_batch_axis():
    with pytest.raises(ValueError, match=r"got shape \(3, 8, 8\) \(a single image: add the batch"):
        expect_shape(torch.zeros(3, 8, 8), ["B", 3, "H", "W"], "x")


def test_channels_last_is_recognised():
    with pytest.raises(ValueError, match=r"channels-last\? use x.permute\(0, 3, 1, 2\)"):
        expect_shape(torch.zeros(2, 8, 8, 3), ["B", 3, "H", "W"], "x")


def test_a_name_repeated_within_one_spec_must_agree():
    expect_shape(torch.zeros(2, 6, 6), [None, "N", "N"], "square")
    with pytest.raises(ValueError, match="with N = 6"):
        expect_shape(torch.zeros(2, 6, 5), [None, "N", "N"], "square")


def test_sizes_bound_by_an_earlier_call_must_agree():
    dims = expect_shape(torch.zeros(2, 3, 8, 8), ["B", 3, "H", "W"], "image")
    expect_shape(torch.zeros(2, 1, 8, 8), ["B", 1, "H", "W"], "mask", dims=dims)
    with pytest.raises(ValueError, match=r"mask must be \[B, 1, H, W\] with H = 8.*use 8 px"):
        expect_shape(torch.zeros(2, 1, 4, 8), ["B", 1, "H", "W"], "mask", dims=dims,
                     hint=" (use 8 px)")  # fmt: skip
    assert dims == {"B": 2, "H": 8, "W": 8}  # a failed check binds nothing


def test_new_names_are_added_to_dims():
    dims = {"B": 2}
    expect_shape(torch.zeros(2, 5), ["B", "K"], "codes", dims=dims)
    assert dims == {"B": 2, "K": 5}


def test_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor \[B, 3, H, W\], got list"):
        expect_shape([[0.0]], ["B", 3, "H", "W"], "x")
