"""region_average_pool (SEAN / harmonized regional style transfer, Sec. 3.1) against a
brute-force loop, and HAdaIN (LOMIT Eqs. 3-4) against AdaIN and the formula written out."""

from __future__ import annotations

import pytest
import torch

from maskstyle.nn import adain, highway_adain, region_average_pool
from maskstyle.nn.masks import resize_labels


def _brute_pool(features, labels, k):
    b, c, h, w = features.shape
    labels = resize_labels(labels, (h, w))
    out = torch.zeros(b, k, c, dtype=features.dtype)
    for i in range(b):
        for r in range(k):
            pixels = [(y, x) for y in range(h) for x in range(w) if labels[i, y, x] == r]
            if pixels:
                out[i, r] = torch.stack([features[i, :, y, x] for y, x in pixels]).mean(0)
    return out


def test_region_average_pool_matches_a_loop_and_gives_zeros_for_absent_regions():
    g = torch.Generator().manual_seed(0)
    features = torch.randn(2, 5, 6, 7, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (2, 12, 14), generator=g)
    labels[1][labels[1] == 2] = 0  # region 2 absent in sample 1
    pooled = region_average_pool(features, labels, num_regions=6)
    assert pooled.shape == (2, 6, 5)
    torch.testing.assert_close(pooled, _brute_pool(features, labels, 6))
    assert torch.equal(pooled[1, 2], torch.zeros(5, dtype=torch.float64))
    assert torch.equal(pooled[:, 4:], torch.zeros(2, 2, 5, dtype=torch.float64))


def test_region_average_pool_is_differentiable_and_checks_inputs():
    features = torch.randn(1, 3, 4, 4, requires_grad=True)
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    region_average_pool(features, labels, 2).sum().backward()
    assert torch.allclose(features.grad, torch.full_like(features, 1 / 16))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        region_average_pool(features, labels + 5, 2)
    with pytest.raises(ValueError, match="one label map per image"):
        region_average_pool(features, torch.zeros(2, 4, 4, dtype=torch.long), 2)
    with pytest.raises(TypeError, match="integer labels"):
        region_average_pool(features, labels.float(), 2)
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        region_average_pool(features[0], labels, 2)


def _params(b, c, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(b, c, generator=g) + 0.5, torch.randn(b, c, generator=g),
            torch.rand(b, c, generator=g) + 0.5, torch.randn(b, c, generator=g)]


def test_hadain_with_full_and_empty_masks_is_adain_with_fg_or_bg_parameters():
    g = torch.Generator().manual_seed(1)
    content = torch.randn(2, 4, 5, 5, generator=g, dtype=torch.float64)
    fg_gamma, fg_beta, bg_gamma, bg_beta = (p.double() for p in _params(2, 4, 2))

    def style_with(gamma, beta):
        # a style map whose instance mean is beta and whose std is gamma (up to eps)
        z = torch.randn(2, 4, 5, 5, generator=g, dtype=torch.float64)
        z = (z - z.mean((2, 3), keepdim=True)) / z.std((2, 3), unbiased=False, keepdim=True)
        return z * (gamma[..., None, None] ** 2 - 1e-5).sqrt() + beta[..., None, None]

    ones = torch.ones(2, 1, 5, 5, dtype=torch.float64)
    out = highway_adain(content, ones, fg_gamma, fg_beta, bg_gamma, bg_beta)
    torch.testing.assert_close(out, adain(content, style_with(fg_gamma, fg_beta)))
    out = highway_adain(content, 0 * ones, fg_gamma, fg_beta, bg_gamma, bg_beta)
    torch.testing.assert_close(out, adain(content, style_with(bg_gamma, bg_beta)))


def test_hadain_matches_the_formula_on_random_inputs():
    g = torch.Generator().manual_seed(3)
    content = torch.randn(3, 6, 4, 7, generator=g)
    mask = torch.rand(3, 1, 4, 7, generator=g)
    fg_gamma, fg_beta, bg_gamma, bg_beta = _params(3, 6, 4)
    out = highway_adain(content, mask, fg_gamma, fg_beta, bg_gamma, bg_beta)
    for b in range(3):
        for c in range(6):
            x = content[b, c]
            normed = (x - x.mean()) / (x.var(unbiased=False) + 1e-5).sqrt()
            want = (mask[b, 0] * (fg_gamma[b, c] * normed + fg_beta[b, c])
                    + (1 - mask[b, 0]) * (bg_gamma[b, c] * normed + bg_beta[b, c]))
            torch.testing.assert_close(out[b, c], want)


def test_hadain_bad_inputs_get_clear_errors():
    content = torch.randn(1, 2, 4, 4)
    params = _params(1, 2, 0)
    with pytest.raises(ValueError, match="resize the mask"):
        highway_adain(content, torch.rand(1, 1, 8, 8), *params)
    with pytest.raises(ValueError, match=r"soft mask \[B, 1, H, W\]"):
        highway_adain(content, torch.rand(1, 4, 4), *params)
    with pytest.raises(ValueError, match=r"fg_gamma must be \[B, C\]"):
        highway_adain(content, torch.rand(1, 1, 4, 4), torch.ones(1, 3), *params[1:])
    with pytest.raises(TypeError, match="float soft mask"):
        highway_adain(content, torch.ones(1, 1, 4, 4, dtype=torch.long), *params)
