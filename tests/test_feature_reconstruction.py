"""Region-wise feature reconstruction (Eqs. 3-5) against literal references and closed forms."""

from __future__ import annotations

import warnings

import pytest
import torch

from maskstyle.nn.feature_reconstruction import (
    linear_closed_form,
    reconstruct_gram,
    reconstruct_linear,
    small_region_map,
    undamped_lambda_limit,
)


def eq4_literal(out, content, style, lam):
    """Eq. 4 for one region with its double sums written out ([C, N], [C, N], [C, M])."""
    c, n = content.shape
    m = style.shape[1]
    l_content = 0.5 * ((out - content) ** 2).sum()
    l_style = (
        lam
        / (4 * c**2)
        * (
            (out.T @ out).sum() / n**2
            - 2 * (out.T @ style).sum() / (m * n)
            + (style.T @ style).sum() / m**2
        )
    )
    return l_content, l_style


def eq4_regions(out, content, style, c_mask, s_mask, lam):
    """Sum of Eq. 4 over the regions present in both maps, one sample ([C, H, W])."""
    total_c, total_s = 0.0, 0.0
    for k in set(c_mask.unique().tolist()) & set(s_mask.unique().tolist()):
        sel_c, sel_s = c_mask.flatten() == k, s_mask.flatten() == k
        lc, ls = eq4_literal(
            out.flatten(1)[:, sel_c], content.flatten(1)[:, sel_c], style.flatten(1)[:, sel_s], lam
        )
        total_c, total_s = total_c + lc, total_s + ls
    return total_c, total_s


def eq5_literal(content, style, c_mask, s_mask, lam, iterations, printed=False):
    """The update of Eq. 5 on full features, looping over regions (one sample)."""
    c = content.shape[0]
    out = content.clone().flatten(1)
    flat_c, flat_s = content.flatten(1), style.flatten(1)
    for _ in range(iterations):
        new = out.clone()
        for k in c_mask.unique().tolist():
            sel_c, sel_s = c_mask.flatten() == k, s_mask.flatten() == k
            n, m = int(sel_c.sum()), int(sel_s.sum())
            if m == 0:
                continue
            coef_o = lam / (4 * n * c**2) if printed else lam / (2 * n**2 * c**2)
            sum_s = flat_s[:, sel_s].sum(1, keepdim=True)
            sum_o = out[:, sel_c].sum(1, keepdim=True)
            new[:, sel_c] = flat_c[:, sel_c] + lam / (2 * m * n * c**2) * sum_s - coef_o * sum_o
        out = new
    return out.reshape(content.shape)


def _features(seed=0, b=2, c=4, h=6, w=5):
    g = torch.Generator().manual_seed(seed)
    content = torch.randn(b, c, h, w, generator=g, dtype=torch.float64)
    style = torch.randn(b, c, h + 1, w, generator=g, dtype=torch.float64) + 1.0
    c_mask = torch.randint(0, 3, (b, h, w), generator=g)
    s_mask = torch.randint(0, 3, (b, h + 1, w), generator=g)
    return content, style, c_mask, s_mask


def test_losses_match_literal_eq4():
    content, style, c_mask, s_mask = _features()
    lam = 300.0
    result = reconstruct_linear(content, style, c_mask, s_mask, style_weight=lam, iterations=7)
    for b in range(2):
        lc0, ls0 = eq4_regions(content[b], content[b], style[b], c_mask[b], s_mask[b], lam)
        assert float(result.content_loss[b, 0]) == pytest.approx(0.0)
        assert float(result.style_loss[b, 0]) == pytest.approx(float(ls0), rel=1e-9)
        lc, ls = eq4_regions(result.feature[b], content[b], style[b], c_mask[b], s_mask[b], lam)
        assert float(result.content_loss[b, -1]) == pytest.approx(float(lc), rel=1e-9)
        assert float(result.style_loss[b, -1]) == pytest.approx(float(ls), rel=1e-9)


def test_closed_form_is_a_stationary_point_of_eq4():
    """Autograd of the literal Eq. 4 vanishes at the closed form: the derived Eq. 5 is right."""
    content, style, c_mask, s_mask = _features(1)
    lam = 500.0
    optimum = linear_closed_form(content, style, c_mask, s_mask, style_weight=lam)
    out = optimum.clone().requires_grad_(True)
    total = sum(
        sum(eq4_regions(out[b], content[b], style[b], c_mask[b], s_mask[b], lam)) for b in range(2)
    )
    total.backward()
    assert out.grad.abs().max() < 1e-10
    # the printed coefficient's fixed point is not a minimiser
    printed = reconstruct_linear(
        content, style, c_mask, s_mask, style_weight=lam, iterations=300, coefficient="printed"
    ).feature.requires_grad_(True)
    sum(
        sum(eq4_regions(printed[b], content[b], style[b], c_mask[b], s_mask[b], lam))
        for b in range(2)
    ).backward()
    assert printed.grad.abs().max() > 1e-3


@pytest.mark.parametrize("printed", [False, True])
def test_vectorised_iteration_equals_literal_eq5(printed):
    content, style, c_mask, s_mask = _features(2)
    lam = 40.0  # small enough that the printed update converges too (lam < 4 C^2)
    coefficient = "printed" if printed else "derived"
    result = reconstruct_linear(
        content,
        style,
        c_mask,
        s_mask,
        style_weight=lam,
        iterations=5,
        coefficient=coefficient,
        relaxation=1.0,
        snapshot_at=(0, 2, 5),
    )
    for b in range(2):
        ref = eq5_literal(content[b], style[b], c_mask[b], s_mask[b], lam, 5, printed)
        torch.testing.assert_close(result.feature[b], ref)
        ref2 = eq5_literal(content[b], style[b], c_mask[b], s_mask[b], lam, 2, printed)
        torch.testing.assert_close(result.snapshots[2][b], ref2)
    torch.testing.assert_close(result.snapshots[0], content)
    torch.testing.assert_close(result.snapshots[5], result.feature)


def test_iteration_converges_to_closed_form_and_its_minimum():
    content, style, c_mask, s_mask = _features(3)
    for lam in (200.0, 1e6):  # beta < 1 everywhere; beta >> 1 (needs the auto relaxation)
        result = reconstruct_linear(content, style, c_mask, s_mask, style_weight=lam)
        optimum = linear_closed_form(content, style, c_mask, s_mask, style_weight=lam)
        torch.testing.assert_close(result.feature, optimum)
        assert (result.total_loss[:, -1] <= result.total_loss[:, 0]).all()
    # closed form: region means move beta/(1+beta) of the way to the style means
    one = linear_closed_form(content[:1], style[:1], style_weight=2 * 30 * 16 * 1.0)  # beta = 1
    gap = style[:1].mean((2, 3)) - content[:1].mean((2, 3))
    torch.testing.assert_close(one.mean((2, 3)) - content[:1].mean((2, 3)), gap / 2)
    torch.testing.assert_close(
        one - one.mean((2, 3), keepdim=True), content[:1] - content[:1].mean((2, 3), keepdim=True)
    )


def test_plain_update_warns_when_it_diverges():
    content, style, c_mask, s_mask = _features(4)
    with pytest.warns(RuntimeWarning, match="does not converge"):
        result = reconstruct_linear(
            content, style, c_mask, s_mask, style_weight=1e6, iterations=20, relaxation=1.0
        )
    assert result.total_loss[:, -1].max() > 1e3 * result.total_loss[:, 0].max()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reconstruct_linear(content, style, c_mask, s_mask, style_weight=1.0, relaxation=1.0)


def test_no_mask_is_one_region_and_lambda_zero_is_identity():
    content, style, _, _ = _features(5)
    whole = torch.zeros(2, 6, 5, dtype=torch.long)
    torch.testing.assert_close(
        reconstruct_linear(content, style, style_weight=50.0).feature,
        reconstruct_linear(
            content, style, whole, torch.zeros(2, 7, 5, dtype=torch.long), 50.0
        ).feature,
    )
    torch.testing.assert_close(
        reconstruct_linear(content, style, style_weight=0.0).feature, content
    )


def test_missing_region_and_region_map():
    content, style, _, _ = _features(6, b=1)
    c_mask = torch.zeros(1, 6, 5, dtype=torch.long)
    c_mask[:, 3:] = 4  # region 4 is not in the style
    s_mask = torch.zeros(1, 7, 5, dtype=torch.long)
    s_mask[:, 4:] = 1
    lam = 1e4
    kept = reconstruct_linear(content, style, c_mask, s_mask, lam).feature
    torch.testing.assert_close(kept[:, :, 3:], content[:, :, 3:])
    assert not torch.allclose(kept[:, :, :3], content[:, :, :3])
    glob = reconstruct_linear(content, style, c_mask, s_mask, lam, missing_region="global").feature
    ref = linear_closed_form(content[..., 3:, :], style, style_weight=lam)
    torch.testing.assert_close(glob[:, :, 3:], ref)
    with pytest.raises(ValueError, match=r"content regions \[4\] receive no style"):
        reconstruct_linear(content, style, c_mask, s_mask, lam, missing_region="error")
    mapped = reconstruct_linear(content, style, c_mask, s_mask, lam, region_map={4: 1}).feature
    s1 = style[..., 4:, :]
    ref = linear_closed_form(content[..., 3:, :], s1, style_weight=lam)
    torch.testing.assert_close(mapped[:, :, 3:], ref)


def test_gram_kernel_lowers_its_loss_and_respects_regions():
    g = torch.Generator().manual_seed(7)
    content = torch.rand(1, 4, 6, 6, generator=g)
    style = torch.rand(1, 4, 6, 6, generator=g) * 2
    c_mask = torch.zeros(1, 6, 6, dtype=torch.long)
    c_mask[:, :, 3:] = 2  # not in the style: kept
    s_mask = torch.zeros(1, 6, 6, dtype=torch.long)
    result = reconstruct_gram(content, style, c_mask, s_mask, style_weight=1e3, iterations=60)
    assert result.total_loss[0, -1] < 0.5 * result.total_loss[0, 0]
    assert result.content_loss[0, 0] == 0
    torch.testing.assert_close(result.feature[..., 3:], content[..., 3:])
    same = reconstruct_gram(content, style, style_weight=0.0, iterations=5)
    torch.testing.assert_close(same.feature, content)


def test_bad_inputs():
    content, style, c_mask, s_mask = _features(8)
    with pytest.raises(ValueError, match="resize_labels"):
        reconstruct_linear(content, style, c_mask[:, :3], s_mask)
    with pytest.raises(ValueError, match="both content_mask and style_mask"):
        reconstruct_linear(content, style, c_mask)
    with pytest.raises(ValueError, match="share batch size and channels"):
        reconstruct_linear(content, style[:, :2])
    with pytest.raises(ValueError, match="coefficient must be"):
        reconstruct_linear(content, style, coefficient="paper")
    with pytest.raises(ValueError, match="relaxation must be"):
        reconstruct_linear(content, style, relaxation=1.5)
    with pytest.raises(ValueError, match="iterations must be"):
        reconstruct_linear(content, style, iterations=-1)
    with pytest.raises(ValueError, match="snapshot_at"):
        reconstruct_linear(content, style, iterations=3, snapshot_at=(4,))
    with pytest.raises(TypeError, match="integer labels"):
        reconstruct_linear(content, style, c_mask.float(), s_mask)
    with pytest.raises(ValueError, match="negative labels"):
        reconstruct_linear(content, style, c_mask - 1, s_mask)


def test_switching_off_loss_tracking_changes_nothing_else():
    content, style, c_mask, s_mask = _features(9)
    full = reconstruct_linear(content, style, c_mask, s_mask, style_weight=1e4, iterations=30)
    light = reconstruct_linear(
        content, style, c_mask, s_mask, style_weight=1e4, iterations=30, track_losses=False
    )
    torch.testing.assert_close(light.feature, full.feature)
    assert light.logged == [0, 30] and full.logged == list(range(31))
    torch.testing.assert_close(light.total_loss, full.total_loss[:, [0, -1]])


def test_undamped_limit_separates_convergence_from_divergence():
    """Below 2 C^2 min N_k the paper's plain Eq. 5 (literal loop) reaches the closed form,
    slowly near the limit (Fig. 7); above it, it diverges."""
    content, style, c_mask, s_mask = _features(6)
    limit = undamped_lambda_limit(content, style, c_mask, s_mask)
    counts = [
        int((c_mask[b] == k).sum())
        for b in range(2)
        for k in c_mask[b].unique().tolist()
        if bool((s_mask[b] == k).any())
    ]
    assert limit == pytest.approx(2 * 4**2 * min(counts))
    below = 0.9 * limit
    literal = torch.stack([eq5_literal(content[b], style[b], c_mask[b], s_mask[b], below, 300)
                           for b in range(2)])  # fmt: skip
    optimum = linear_closed_form(content, style, c_mask, s_mask, style_weight=below)
    torch.testing.assert_close(literal, optimum, rtol=1e-6, atol=1e-6)
    plain = reconstruct_linear(content, style, c_mask, s_mask, style_weight=below,
                               iterations=300, relaxation=1.0)  # fmt: skip
    torch.testing.assert_close(plain.feature, optimum, rtol=1e-6, atol=1e-6)
    early = reconstruct_linear(content, style, c_mask, s_mask, style_weight=below,
                               iterations=5, relaxation=1.0)  # fmt: skip
    assert float((early.feature - optimum).abs().max()) > 1e-3  # not there in a few steps
    above = eq5_literal(content[0], style[0], c_mask[0], s_mask[0], 1.2 * limit, 300)
    assert float((above - optimum[0]).abs().max()) > 1e3


def test_small_regions_keep_their_content_and_leave_the_limit():
    content, style, c_mask, s_mask = _features(7)
    c_mask = c_mask.clone()
    c_mask[:, 0, 0] = 3  # one position: the smallest region
    s_mask = s_mask.clone()
    s_mask[:, 0, 0] = 3
    tiny = small_region_map(c_mask, 2)
    assert list(tiny) == [3]
    assert undamped_lambda_limit(content, style, c_mask, s_mask) == pytest.approx(2 * 16 * 1)
    limit = undamped_lambda_limit(content, style, c_mask, s_mask, region_map=tiny)
    assert limit > 2 * 16 * 1
    out = reconstruct_linear(content, style, c_mask, s_mask, style_weight=0.9 * limit,
                             iterations=200, relaxation=1.0, region_map=tiny)  # fmt: skip
    keep = c_mask == 3
    torch.testing.assert_close(out.feature.permute(0, 2, 3, 1)[keep],
                               content.permute(0, 2, 3, 1)[keep])  # fmt: skip
