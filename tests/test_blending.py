"""LRNet's baselines (Section 5.3): Reinhard + alpha, Poisson (OpenCV), style blending."""

from __future__ import annotations

import pytest
import torch
from skimage.color import rgb2lab

from maskstyle.baselines.blending import (
    alpha_blending,
    feather_mask,
    poisson_blending,
    region_mask,
    reinhard_color_transfer,
    style_blend,
)
from maskstyle.nn.stats import adain


def smooth_pair(size=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    base = torch.stack([0.3 + 0.3 * xx, 0.4 + 0.2 * yy, 0.5 - 0.2 * xx * yy])
    image_a = (0.45 + 0.05 * torch.randn(3, size, size, generator=g)).clamp(0, 1)
    fg = torch.zeros(size, size, dtype=torch.bool)
    fg[12:36, 14:34] = True
    return image_a, base, fg


def test_region_mask_selects_labels():
    labels = torch.tensor([[0, 1, 2], [2, 10, 1]])
    assert region_mask(labels, [1, 10]).tolist() == [[False, True, False], [False, True, True]]
    assert region_mask(labels[None], []).sum() == 0


def test_feather_mask_is_soft_and_bounded():
    fg = torch.zeros(1, 32, 32, dtype=torch.bool)
    fg[:, 8:24, 8:24] = True
    hard = feather_mask(fg, sigma=0)
    assert torch.equal(hard[:, 0], fg.float())
    soft = feather_mask(fg, sigma=1.5)
    assert soft.shape == (1, 1, 32, 32) and soft.min() >= 0 and soft.max() <= 1
    assert soft[0, 0, 16, 16] > 0.99 and soft[0, 0, 1, 1] < 0.01
    assert 0.3 < soft[0, 0, 16, 8] < 0.7  # the edge is half-transparent


def test_reinhard_matches_target_lab_statistics():
    image_a, image_b, fg = smooth_pair()
    out = reinhard_color_transfer(image_a, image_b, fg, fg)
    lab_out = rgb2lab(out.permute(1, 2, 0).double().numpy())[fg.numpy()]
    lab_b = rgb2lab(image_b.permute(1, 2, 0).double().numpy())[fg.numpy()]
    torch.testing.assert_close(
        torch.from_numpy(lab_out.mean(0)), torch.from_numpy(lab_b.mean(0)), atol=0.05, rtol=0
    )
    torch.testing.assert_close(
        torch.from_numpy(lab_out.std(0)), torch.from_numpy(lab_b.std(0)), atol=0.05, rtol=0.01
    )
    # transferring an image onto itself is the identity (up to the Lab round trip)
    torch.testing.assert_close(
        reinhard_color_transfer(image_b, image_b), image_b, atol=1e-5, rtol=0
    )


def test_alpha_blending_hard_mask_is_a_composite():
    image_a, image_b, fg = smooth_pair()
    out = alpha_blending(image_a, image_b, fg, sigma=0, color_transfer=False)
    assert torch.equal(out[:, fg], image_a[:, fg]) and torch.equal(out[:, ~fg], image_b[:, ~fg])
    batched = alpha_blending(image_a[None], image_b[None], fg[None])
    assert batched.shape == (1, 3, 48, 48) and batched.min() >= 0 and batched.max() <= 1


@pytest.mark.parametrize("mode", ["normal", "mixed"])
def test_poisson_recovers_target_when_source_is_shifted_target(mode):
    # A = B + constant inside the mask: same gradients as B, so the Poisson solution is B.
    _, image_b, fg = smooth_pair()
    image_a = (image_b + 0.2).clamp(0, 1)
    out = poisson_blending(image_a, image_b, fg, mode=mode)
    b8 = (image_b * 255).round() / 255
    assert torch.equal(out[:, ~fg], b8[:, ~fg])  # outside the mask: B, untouched
    assert (out - b8).abs().max() <= 3 / 255
    assert (image_a - b8)[:, fg].abs().mean() > 0.15  # and a naive paste would be far off


def test_poisson_keeps_source_gradients():
    image_a, image_b, fg = smooth_pair()
    out = poisson_blending(image_a, image_b, fg)
    inner = torch.zeros_like(fg)
    inner[16:32, 18:30] = True
    grad = lambda x: x[:, :, 1:] - x[:, :, :-1]  # noqa: E731
    diff = (grad(out) - grad(image_a))[:, inner[:, 1:]]
    assert diff.abs().mean() < 0.01  # texture of A survives inside


def test_style_blend_with_identity_codec_is_adain_then_alpha():
    image_a, image_b, fg = smooth_pair()
    out = style_blend(image_a, image_b, fg, encode=lambda x: x, decode=lambda f: f, sigma=0)
    ref = adain(image_a[None], image_b[None])[0].clamp(0, 1)
    torch.testing.assert_close(out[:, fg], ref[:, fg])
    assert torch.equal(out[:, ~fg], image_b[:, ~fg])


def test_blending_bad_inputs():
    image_a, image_b, fg = smooth_pair()
    with pytest.raises(ValueError, match="same shape"):
        alpha_blending(image_a, image_b[:, :40], fg)
    with pytest.raises(ValueError, match="empty"):
        poisson_blending(image_a, image_b, torch.zeros_like(fg))
    with pytest.raises(ValueError, match="empty"):
        alpha_blending(image_a, image_b, torch.zeros_like(fg))
    tiny = torch.zeros_like(fg)
    tiny[20:22, 20:30] = True
    with pytest.raises(ValueError, match="at least 3x3"):
        poisson_blending(image_a, image_b, tiny)
    with pytest.raises(ValueError, match="does not match"):
        poisson_blending(image_a, image_b, fg[:20])
    with pytest.raises(ValueError, match="permute"):
        alpha_blending(image_a.permute(1, 2, 0), image_b.permute(1, 2, 0), fg)
    with pytest.raises(ValueError, match="mode must be"):
        poisson_blending(image_a, image_b, fg, mode="monochrome")
    with pytest.raises(ValueError, match="decoder must invert"):
        style_blend(image_a, image_b, fg, lambda x: x, lambda f: f[..., ::2, ::2])


def test_style_blending_module_with_vgg_relu4_1():
    from maskstyle.baselines.blending import StyleBlending

    image_a, image_b, fg = smooth_pair(size=32)
    fg = torch.zeros(32, 32, dtype=torch.bool)
    fg[8:24, 8:24] = True
    module = StyleBlending(weights="random", seed=0)
    out = module(image_a, image_b, fg)
    assert out.shape == (3, 32, 32) and torch.equal(out[:, 0, 0], image_b[:, 0, 0])
    assert "random" in module.provenance["encoder"]
    assert "untrained" in module.provenance["decoder"]
