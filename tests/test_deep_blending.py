"""Deep image blending (first stage): losses on hand-computed cases, caps, compositing."""

from __future__ import annotations

import pytest
import torch

from maskstyle.baselines.deep_blending import (
    ENCODER_LAYERS,
    DeepBlending,
    DeepBlendWeights,
    content_loss,
    deep_image_blending,
    laplacian,
    poisson_gradient_loss,
    style_loss,
    tv_loss,
)
from maskstyle.nn.vgg import VGG19Features

SIZE = 32


@pytest.fixture(scope="module")
def encoder():
    return VGG19Features(ENCODER_LAYERS, weights="random", seed=0)


@pytest.fixture(scope="module")
def pair():
    g = torch.Generator().manual_seed(0)
    source = torch.rand(1, 3, SIZE, SIZE, generator=g) * 0.5 + 0.5
    target = torch.rand(1, 3, SIZE, SIZE, generator=g) * 0.5
    mask = torch.zeros(1, SIZE, SIZE, dtype=torch.bool)
    mask[:, 8:24, 10:22] = True
    return source, target, mask


def _laplacian_loop(img: torch.Tensor) -> torch.Tensor:
    """Brute-force 4-neighbour Laplacian with zero padding."""
    b, c, h, w = img.shape
    out = torch.zeros_like(img)
    for i in range(h):
        for j in range(w):
            total = 4 * img[:, :, i, j]
            for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                if 0 <= i + di < h and 0 <= j + dj < w:
                    total = total - img[:, :, i + di, j + dj]
            out[:, :, i, j] = total
    return out


def test_laplacian_known_values():
    impulse = torch.zeros(1, 3, 5, 5)
    impulse[:, :, 2, 2] = 1.0
    lap = laplacian(impulse)
    assert torch.all(lap[:, :, 2, 2] == 4) and torch.all(lap[:, :, 1, 2] == -1)
    assert float(lap.sum()) == 0.0
    rows = torch.arange(6.0)[:, None].expand(6, 6)
    quad = (rows**2)[None, None].expand(1, 3, 6, 6)
    assert torch.allclose(laplacian(quad)[:, :, 1:-1, 1:-1], torch.full((1, 3, 4, 4), -2.0))


def test_gradient_loss_against_a_loop_reference():
    g = torch.Generator().manual_seed(1)
    blend, source, target = (torch.rand(1, 3, 5, 6, generator=g) for _ in range(3))
    mask = (torch.rand(1, 1, 5, 6, generator=g) > 0.5).float()
    guide = mask * _laplacian_loop(source) + (1 - mask) * _laplacian_loop(target)
    expected = ((_laplacian_loop(blend) - guide) ** 2).mean()
    assert torch.allclose(poisson_gradient_loss(blend, source, target, mask), expected)
    # a blend whose Laplacian equals the guide costs nothing: here source == target == blend
    assert float(poisson_gradient_loss(source, source, source, mask)) == 0.0


def test_style_content_tv_hand_cases():
    feat = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # C=2, N=2
    # G = F F^T / N = [[2.5, 5.5], [5.5, 12.5]]; vs zero: mean of squares
    expected = (2.5**2 + 2 * 5.5**2 + 12.5**2) / 4
    assert float(style_loss([feat], [torch.zeros_like(feat)])) == pytest.approx(expected)
    assert float(content_loss(feat, torch.zeros_like(feat))) == pytest.approx(7.5)
    img = torch.tensor([[0.0, 1.0], [3.0, 3.0]])[None, None]
    assert float(tv_loss(img)) == pytest.approx(6.0)  # |1-0| + |3-3| + |3-0| + |3-1|


def test_gradient_loss_decreases_and_outside_stays_target(pair, encoder):
    source, target, mask = pair
    result = deep_image_blending(source, target, mask, encoder=encoder, max_iters=6)
    grad = result.losses["grad"]
    assert len(grad) == 6 and grad[-1] < grad[0]
    outside = ~mask[:, None].expand_as(target)
    assert torch.equal(result.image[outside], target[outside])
    assert not torch.equal(result.image[~outside], target[~outside])
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert "first stage only" in result.provenance and "random init" in result.provenance


def test_iteration_and_time_caps(pair, encoder):
    source, target, mask = pair
    capped = deep_image_blending(source, target, mask, encoder=encoder, max_iters=3)
    assert capped.iterations == 3 and len(capped.losses["style"]) == 3
    # a zero time budget runs no iteration: the composite of the (source) start is returned
    none = deep_image_blending(source, target, mask, encoder=encoder, max_iters=50, max_seconds=0)
    assert none.iterations == 0 and none.losses["grad"] == []
    m = mask[:, None].float()
    assert torch.equal(none.image, m * source + (1 - m) * target)


def test_deterministic_and_lbfgs(pair, encoder):
    source, target, mask = pair
    run = lambda **kw: deep_image_blending(source, target, mask, encoder=encoder, **kw)  # noqa: E731
    assert torch.equal(run(max_iters=2).image, run(max_iters=2).image)
    lbfgs = run(max_iters=2, optimizer="lbfgs", init="noise")
    assert lbfgs.iterations == 2 and torch.isfinite(lbfgs.image).all()


def test_weights_scale_the_terms(pair, encoder):
    source, target, mask = pair
    base = deep_image_blending(source, target, mask, encoder=encoder, max_iters=1)
    double = deep_image_blending(
        source, target, mask, encoder=encoder, max_iters=1, loss_weights=DeepBlendWeights(grad=2e4)
    )
    assert double.losses["grad"][0] == pytest.approx(2 * base.losses["grad"][0], rel=1e-5)


def test_works_under_no_grad_and_unbatched(pair, encoder):
    source, target, mask = pair
    deep = DeepBlending(encoder=encoder, max_iters=2)
    with torch.no_grad():
        out = deep(source[0], target[0], mask[0])
    assert out.shape == (3, SIZE, SIZE) and deep.last.iterations == 2


def test_bad_input(pair, encoder):
    source, target, mask = pair
    with pytest.raises(ValueError, match="same shape"):
        deep_image_blending(source, target[..., :16], mask, encoder=encoder)
    with pytest.raises(ValueError, match="mask shape"):
        deep_image_blending(source, target, mask[..., :16], encoder=encoder)
    with pytest.raises(ValueError, match="mask is empty"):
        deep_image_blending(source, target, torch.zeros_like(mask), encoder=encoder)
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        deep_image_blending(source[0], target[0], mask, encoder=encoder)
    with pytest.raises(ValueError, match="optimizer"):
        deep_image_blending(source, target, mask, encoder=encoder, optimizer="sgd")
    with pytest.raises(ValueError, match="does not return layers"):
        deep_image_blending(source, target, mask, encoder=VGG19Features(("relu1_1",), "random"))


def test_registered_as_deep_in_the_lrnet_evaluation(encoder):
    from maskstyle.models.lrnet.data import FaceWorldBlendPairs
    from maskstyle.models.lrnet.evaluate import baseline_methods, evaluate_blending
    from maskstyle.models.lrnet.regions import LRNET_FACE_REGIONS

    class Foreground:  # what baseline_methods needs of LRNet for the baselines
        def foreground(self, regions):
            return torch.isin(regions, torch.tensor(LRNET_FACE_REGIONS))

    pairs = FaceWorldBlendPairs(2, size=SIZE, seed=0)
    deep = DeepBlending(encoder=encoder, max_iters=2)
    methods = baseline_methods(Foreground(), style=None, deep=deep)
    assert list(methods) == ["alpha", "poisson", "style", "deep", "lrnet"]
    table, blends = evaluate_blending({"deep": methods["deep"]}, pairs, compute_fid=False)
    assert list(table["method"]) == ["deep"] and blends["deep"].shape == (2, 3, SIZE, SIZE)
    assert 5 < float(table["psnr"].iloc[0]) < 60 and deep.last.iterations == 2
    assert "deep" not in baseline_methods(Foreground(), style=None)
