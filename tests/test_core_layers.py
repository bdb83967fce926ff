"""Label scheme, mask helpers, channel statistics and seeding."""

# seed_everything seeds NumPy's legacy global RNG, so these tests read it on purpose.
# ruff: noqa: NPY002

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from maskstyle.data import CELEBAMASK_HQ_PARTS, LABELS, NUM_CLASSES, PALETTE, label_id
from maskstyle.nn.masks import check_label_map, one_hot_labels, resize_labels
from maskstyle.nn.stats import adain, mean_std
from maskstyle.utils.seed import rng_state, seed_everything, set_rng_state


def test_label_scheme_is_celebamask_hq():
    assert NUM_CLASSES == 19 and len(PALETTE) == 19
    assert LABELS[0] == "background" and LABELS[13] == "hair" and LABELS[18] == "cloth"
    assert CELEBAMASK_HQ_PARTS[0] == "skin" and len(CELEBAMASK_HQ_PARTS) == 18
    assert len(set(PALETTE)) == 19
    assert label_id("nose") == 2
    with pytest.raises(KeyError, match="valid labels"):
        label_id("beak")


def test_resize_labels_nearest_keeps_categories():
    mask = torch.randint(0, 19, (2, 16, 16))
    small = resize_labels(mask, 8)
    assert small.shape == (2, 8, 8) and small.dtype == torch.int64
    assert set(small.unique().tolist()) <= set(mask.unique().tolist())
    # exact 2x downsample of a 2x2-block image returns the blocks
    blocks = torch.arange(16).reshape(1, 4, 4).repeat_interleave(2, 1).repeat_interleave(2, 2)
    assert torch.equal(resize_labels(blocks, (4, 4)), torch.arange(16).reshape(1, 4, 4))
    # up-sampling then down-sampling is the identity
    assert torch.equal(resize_labels(resize_labels(mask, 32), 16), mask)
    assert resize_labels(mask[0], (4, 6)).shape == (4, 6)


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.zeros(2, 1, 4, 4, dtype=torch.long), "channel axis"),
        (torch.zeros(2, 4, 4), "integer labels"),
        (np.zeros((2, 4, 4)), "torch.Tensor"),
    ],
)
def test_check_label_map_names_the_problem(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_label_map(bad)


def test_one_hot_labels():
    mask = torch.tensor([[[0, 2], [1, 2]]])
    oh = one_hot_labels(mask, 3)
    assert oh.shape == (1, 3, 2, 2)
    assert torch.equal(oh.argmax(1), mask) and torch.all(oh.sum(1) == 1)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        one_hot_labels(mask, 2)


def test_mean_std_matches_a_loop():
    feat = torch.randn(2, 3, 5, 4)
    mean, std = mean_std(feat)
    for b in range(2):
        for c in range(3):
            x = feat[b, c].flatten().double()
            mu = x.sum() / x.numel()
            var = ((x - mu) ** 2).sum() / x.numel()
            assert mean[b, c, 0, 0].item() == pytest.approx(mu.item(), abs=1e-6)
            assert std[b, c, 0, 0].item() == pytest.approx((var + 1e-5).sqrt().item(), abs=1e-6)


def test_adain_transfers_statistics():
    content, style = torch.randn(1, 4, 8, 8), 3 * torch.randn(1, 4, 6, 6) + 2
    out = adain(content, style)
    m_out, s_out = mean_std(out)
    m_sty, s_sty = mean_std(style)
    assert torch.allclose(m_out, m_sty, atol=1e-5)
    assert torch.allclose(s_out, s_sty, atol=1e-3)
    with pytest.raises(ValueError, match="share batch and channels"):
        adain(content, torch.randn(1, 3, 8, 8))


def test_seed_everything_is_reproducible_and_restorable():
    g = seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    seed_everything(7)
    state = rng_state()
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a[:3] == b
    set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == b
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(-1)
    torch.use_deterministic_algorithms(False)


def test_check_image_label_map_names_size_and_label_problems():
    from maskstyle.nn.masks import check_image_label_map

    image = torch.zeros(2, 3, 8, 8)
    check_image_label_map(image, torch.zeros(2, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="at image resolution"):
        check_image_label_map(image, torch.zeros(2, 4, 4, dtype=torch.long), "content_mask")
    with pytest.raises(ValueError, match="at image resolution"):
        check_image_label_map(image, torch.zeros(1, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match=r"negative labels \(-1\)"):
        check_image_label_map(image, torch.full((2, 8, 8), -1, dtype=torch.long))
    with pytest.raises(TypeError, match="integer labels"):
        check_image_label_map(image, torch.zeros(2, 8, 8))
