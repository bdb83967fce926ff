"""Neural patch swap against a brute-force nearest-neighbour reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from maskstyle.nn.patch_swap import match_patches, patch_labels, patch_swap


def brute_force_swap(content, style, k, stride, c_mask=None, s_mask=None, missing="content"):
    """Loop over every content position and every style patch (one sample, [C, H, W])."""
    c, h, w = content.shape
    _, hs, ws = style.shape
    half = k // 2
    style_pos = [(y, x) for y in range(0, hs - k + 1, stride) for x in range(0, ws - k + 1, stride)]
    out = torch.zeros_like(content)
    count = torch.zeros(h, w)
    for y in range(0, h - k + 1, stride):
        for x in range(0, w - k + 1, stride):
            patch = content[:, y : y + k, x : x + k]
            best, best_score = None, -float("inf")
            candidates = style_pos
            if c_mask is not None:
                label = int(c_mask[y + half, x + half])
                candidates = [
                    (sy, sx) for sy, sx in style_pos if s_mask[sy + half, sx + half] == label
                ]
                if not candidates:
                    candidates = style_pos if missing == "global" else []
            for sy, sx in candidates:
                sp = style[:, sy : sy + k, sx : sx + k]
                score = float((sp * patch).sum() / sp.norm().clamp_min(1e-8))
                if score > best_score:
                    best, best_score = sp, score
            out[:, y : y + k, x : x + k] += patch if best is None else best
            count[y : y + k, x : x + k] += 1
    return torch.where(count > 0, out / count.clamp_min(1), content)


@pytest.mark.parametrize("k,stride", [(3, 1), (1, 1), (3, 2), (2, 1)])
def test_unmasked_swap_matches_brute_force(k, stride):
    g = torch.Generator().manual_seed(0)
    content = torch.randn(2, 4, 7, 8, generator=g)
    style = torch.randn(2, 4, 6, 9, generator=g)
    out = patch_swap(content, style, patch_size=k, stride=stride)
    for b in range(2):
        ref = brute_force_swap(content[b], style[b], k, stride)
        torch.testing.assert_close(out[b], ref, rtol=1e-5, atol=1e-5)


def test_swap_of_itself_is_identity():
    feat = torch.rand(1, 3, 6, 6) + 0.1
    # with unit-norm 1x1 patches every content patch is its own best match
    onehot = F.one_hot(torch.randint(0, 3, (1, 6, 6)), 3).permute(0, 3, 1, 2).float()
    torch.testing.assert_close(patch_swap(onehot, onehot, patch_size=1), onehot)
    assert patch_swap(feat, feat).shape == feat.shape


@pytest.mark.parametrize("strategy", ["per_region", "masked"])
@pytest.mark.parametrize("missing", ["content", "global"])
def test_masked_swap_matches_brute_force(missing, strategy):
    g = torch.Generator().manual_seed(1)
    content = torch.randn(2, 3, 8, 8, generator=g)
    style = torch.randn(2, 3, 9, 7, generator=g)
    c_mask = torch.zeros(2, 8, 8, dtype=torch.long)
    c_mask[:, :, 4:] = 1
    c_mask[1, 5:, :3] = 5  # a region the style does not have
    s_mask = torch.zeros(2, 9, 7, dtype=torch.long)
    s_mask[:, 4:] = 1
    out = patch_swap(
        content, style, 3, 1, c_mask, s_mask, missing_region=missing, strategy=strategy
    )
    for b in range(2):
        ref = brute_force_swap(content[b], style[b], 3, 1, c_mask[b], s_mask[b], missing)
        torch.testing.assert_close(out[b], ref, rtol=1e-5, atol=1e-5)


def test_masked_matches_stay_in_region_and_chunking_is_invisible():
    g = torch.Generator().manual_seed(2)
    content = torch.randn(1, 5, 10, 10, generator=g)
    style = torch.randn(1, 5, 10, 10, generator=g)
    c_mask = torch.randint(0, 3, (1, 10, 10), generator=g)
    s_mask = torch.randint(0, 3, (1, 10, 10), generator=g)
    index = match_patches(content, style, 3, 1, c_mask, s_mask)
    c_labels, s_labels = patch_labels(c_mask, 3), patch_labels(s_mask, 3)
    assert torch.equal(s_labels[0, index[0]], c_labels[0])
    for strategy in ("per_region", "masked"):
        small_chunks = match_patches(
            content, style, 3, 1, c_mask, s_mask, max_scores=50, strategy=strategy
        )
        assert torch.equal(index, small_chunks)
    # masks that put everything in one region give the unrestricted swap
    ones_c, ones_s = torch.ones_like(c_mask), torch.ones_like(s_mask)
    torch.testing.assert_close(
        patch_swap(content, style, 3, 1, ones_c, ones_s), patch_swap(content, style)
    )


def test_missing_region_modes():
    content, style = torch.randn(1, 2, 5, 5), torch.randn(1, 2, 5, 5)
    c_mask = torch.full((1, 5, 5), 2, dtype=torch.long)
    s_mask = torch.zeros(1, 5, 5, dtype=torch.long)
    kept = patch_swap(content, style, 3, 1, c_mask, s_mask, missing_region="content")
    torch.testing.assert_close(kept, content)
    assert (match_patches(content, style, 3, 1, c_mask, s_mask) == -1).all()
    glob = patch_swap(content, style, 3, 1, c_mask, s_mask, missing_region="global")
    torch.testing.assert_close(glob, patch_swap(content, style))
    with pytest.raises(ValueError, match=r"regions \[2\] have no patch"):
        patch_swap(content, style, 3, 1, c_mask, s_mask, missing_region="error")
    with pytest.raises(ValueError, match="missing_region must be one of"):
        patch_swap(content, style, 3, 1, c_mask, s_mask, missing_region="skip")


def test_gradient_flows_to_style():
    content = torch.randn(1, 2, 5, 5)
    style = torch.randn(1, 2, 5, 5, requires_grad=True)
    patch_swap(content, style).sum().backward()
    assert style.grad is not None and style.grad.abs().sum() > 0


def test_bad_inputs_raise_clear_errors():
    content, style = torch.randn(1, 2, 6, 6), torch.randn(1, 2, 6, 6)
    mask = torch.zeros(1, 6, 6, dtype=torch.long)
    with pytest.raises(ValueError, match="resize_labels"):
        patch_swap(
            content, style, content_mask=torch.zeros(1, 3, 3, dtype=torch.long), style_mask=mask
        )
    with pytest.raises(ValueError, match="both content_mask and style_mask"):
        patch_swap(content, style, content_mask=mask)
    with pytest.raises(ValueError, match="share batch size and channels"):
        patch_swap(content, torch.randn(1, 3, 6, 6))
    with pytest.raises(ValueError, match=r"feature map \[B, C, H, W\]"):
        patch_swap(content[0], style)
    with pytest.raises(ValueError, match="smaller than patch_size"):
        patch_swap(content, torch.randn(1, 2, 2, 6))
    with pytest.raises(ValueError, match="must be odd"):
        patch_swap(content, style, patch_size=2, content_mask=mask, style_mask=mask)
    with pytest.raises(TypeError, match="integer labels"):
        patch_swap(content, style, content_mask=mask.float(), style_mask=mask)
    with pytest.raises(ValueError, match="negative labels"):
        patch_swap(content, style, content_mask=mask - 1, style_mask=mask)
    with pytest.raises(ValueError, match="strategy must be one of"):
        patch_swap(content, style, content_mask=mask, style_mask=mask, strategy="loop")
    with pytest.raises(ValueError, match="patch_size must be a positive int"):
        patch_swap(content, style, patch_size=0)


def test_module_is_callable_as_the_function():
    import maskstyle.nn.patch_swap as module

    content, style = torch.randn(1, 2, 5, 5), torch.randn(1, 2, 5, 5)
    torch.testing.assert_close(module(content, style), patch_swap(content, style))
