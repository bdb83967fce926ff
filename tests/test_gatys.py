"""Gatys backward optimisation: the loss decreases, unguided and guided; bad input."""

from __future__ import annotations

import pytest
import torch

from maskstyle.baselines.gatys import GatysLoss, GuidedStyleLoss, gatys_transfer
from maskstyle.nn.gram import gram_matrix, region_gram
from maskstyle.nn.vgg import VGG19Features


@pytest.fixture(scope="module")
def encoder():
    return VGG19Features(("relu2_1", "relu3_1"), weights="random")


def _images(seed=0, size=16):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)


def test_gram_matrices_against_loops():
    g = torch.Generator().manual_seed(0)
    feat = torch.randn(2, 3, 4, 5, generator=g)
    mask = torch.randint(0, 4, (2, 4, 5), generator=g)
    mask[1][mask[1] == 2] = 0  # region 2 absent in sample 1
    grams, counts = region_gram(feat, mask, 4)
    for b in range(2):
        flat = feat[b].flatten(1)
        torch.testing.assert_close(gram_matrix(feat)[b], flat @ flat.T / 20)
        for k in range(4):
            cols = [p for p in range(20) if mask[b].flatten()[p] == k]
            assert counts[b, k] == len(cols)
            ref = torch.zeros(3, 3)
            for p in cols:
                ref += torch.outer(flat[:, p], flat[:, p])
            torch.testing.assert_close(grams[b, k], ref / max(1, len(cols)))
    first_two, _ = region_gram(feat, mask, 4, first=2)
    torch.testing.assert_close(first_two, grams[:, :2])
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\)"):
        region_gram(feat, mask, 3)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_unguided_loss_decreases(encoder, optimizer):
    content, style = _images()
    result = gatys_transfer(
        content, style, encoder=encoder, iterations=8, optimizer=optimizer,
        content_layers=("relu3_1",), style_layers=("relu2_1", "relu3_1"),
    )  # fmt: skip
    assert result.evaluations == 8 and result.total_loss.shape == (8,)
    assert result.total_loss[-1] < 0.9 * result.total_loss[0]
    assert result.content_loss[0] == 0  # starts from the content image
    assert result.image.shape == content.shape
    assert 0 <= float(result.image.min()) and float(result.image.max()) <= 1
    assert "random init" in result.provenance and "unguided" in result.provenance


def test_guided_loss_decreases_and_is_deterministic(encoder):
    content, style = _images(1)
    c_mask = torch.zeros(1, 16, 16, dtype=torch.long)
    c_mask[:, 8:] = 1
    s_mask = c_mask.flip(1)
    run = [
        gatys_transfer(content, style, c_mask, s_mask, encoder=encoder, iterations=6)
        for _ in range(2)
    ]
    assert run[0].total_loss[-1] < 0.9 * run[0].total_loss[0]
    torch.testing.assert_close(run[0].image, run[1].image, rtol=0, atol=0)
    assert "guided" in run[0].provenance


def test_guided_loss_matches_per_region_reference():
    g = torch.Generator().manual_seed(3)
    out, style = torch.randn(1, 4, 5, 5, generator=g), torch.randn(1, 4, 5, 6, generator=g)
    c_mask = torch.randint(0, 3, (1, 5, 5), generator=g)
    c_mask[0, 0, 0] = 2
    s_mask = torch.randint(0, 2, (1, 5, 6), generator=g)  # region 2 missing in the style
    loss = GuidedStyleLoss(style, c_mask, s_mask, 3, "content")(out)
    ref = 0.0
    for k in (0, 1):
        o = out[0].flatten(1)[:, c_mask.flatten() == k]
        s = style[0].flatten(1)[:, s_mask.flatten() == k]
        go, gs = o @ o.T / o.shape[1] / 4, s @ s.T / s.shape[1] / 4
        ref += ((go - gs) ** 2).mean() / 2
    torch.testing.assert_close(loss, torch.as_tensor(ref))
    with pytest.raises(ValueError, match=r"content regions \[2\]"):
        GuidedStyleLoss(style, c_mask, s_mask, 3, "error")


def test_bad_input(encoder):
    content, style = _images()
    mask = torch.zeros(1, 16, 16, dtype=torch.long)
    with pytest.raises(ValueError, match="both content_mask and style_mask"):
        gatys_transfer(content, style, content_mask=mask, encoder=encoder, iterations=1)
    with pytest.raises(ValueError, match="at image resolution"):
        gatys_transfer(content, style, mask[:, :6, :6], mask, encoder=encoder, iterations=1)
    with pytest.raises(ValueError, match="does not return layers"):
        gatys_transfer(content, style, encoder=encoder, style_layers=("relu4_1",), iterations=1)
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        gatys_transfer(content[0], style, encoder=encoder, iterations=1)
    with pytest.raises(ValueError, match="batch sizes differ"):
        gatys_transfer(content, style.repeat(2, 1, 1, 1), encoder=encoder, iterations=1)
    with pytest.raises(ValueError, match="optimizer must be"):
        gatys_transfer(content, style, encoder=encoder, optimizer="sgd", iterations=1)
    with pytest.raises(ValueError, match="iterations must be"):
        gatys_transfer(content, style, encoder=encoder, iterations=0)
    with pytest.raises(TypeError, match="integer labels"):
        gatys_transfer(content, style, mask.float(), mask, encoder=encoder, iterations=1)


def test_gatys_loss_scores_any_image(encoder):
    content, style = _images(4)
    mask = torch.zeros(1, 16, 16, dtype=torch.long)
    objective = GatysLoss(encoder, content, style, mask, mask)
    c_loss, s_loss = objective(content)
    assert float(c_loss) == 0.0 and float(s_loss) > 0
    result = gatys_transfer(content, style, mask, mask, encoder=encoder, iterations=3)
    torch.testing.assert_close(result.style_loss[0], s_loss)
    assert float(sum(objective(result.image))) < float(s_loss)


def test_guided_region_grams_match_region_gram_in_any_layout():
    g = torch.Generator().manual_seed(5)
    style = torch.randn(2, 4, 6, 6, generator=g)
    c_mask = torch.randint(0, 4, (2, 6, 6), generator=g)
    c_mask[1][c_mask[1] == 1] = 0  # region 1 absent from sample 1's content
    s_mask = torch.randint(0, 3, (2, 6, 6), generator=g)  # region 3 absent from the style
    loss = GuidedStyleLoss(style, c_mask, s_mask, 4, "content")
    feat = torch.randn(2, 4, 6, 6, generator=g)
    ref, _ = region_gram(feat, loss.compact_mask, loss.kept + 1, first=loss.kept)
    assert loss.kept == 3  # regions 0, 1, 2 have a style; 3 is inert
    for layout in (torch.contiguous_format, torch.channels_last):
        torch.testing.assert_close(loss.region_grams(feat.contiguous(memory_format=layout)), ref)
    with pytest.raises(ValueError, match="do not match the content mask"):
        loss(feat[..., :4, :4])


def test_channels_last_gives_the_same_optimisation():
    content, style = _images(2)
    mask = torch.zeros(1, 16, 16, dtype=torch.long)
    mask[:, 8:] = 1
    runs = [
        gatys_transfer(content, style, mask, mask.flip(1), encoder=VGG19Features(
            ("relu3_1",), weights="random"), iterations=4, channels_last=layout)
        for layout in (False, True)
    ]  # fmt: skip
    torch.testing.assert_close(runs[0].total_loss, runs[1].total_loss, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(runs[0].image, runs[1].image, rtol=1e-4, atol=1e-5)
