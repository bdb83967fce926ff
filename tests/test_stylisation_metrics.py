"""Region colour transfer and content structure SSIM on hand-made cases (issue 9)."""

from __future__ import annotations

import pytest
import torch

from maskstyle.metrics import content_structure_ssim, region_colour_transfer
from maskstyle.metrics.stylisation import region_colour_transfer_per_region


def _case():
    """Content: two textured regions (left 0, right 1); style: same layout, other colours."""
    g = torch.Generator().manual_seed(0)
    mask = torch.zeros(1, 16, 16, dtype=torch.long)
    mask[..., 8:] = 1
    content = torch.empty(1, 3, 16, 16)
    content[..., :8] = torch.tensor([0.2, 0.3, 0.4]).view(1, 3, 1, 1)
    content[..., 8:] = torch.tensor([0.6, 0.5, 0.3]).view(1, 3, 1, 1)
    content = (content + 0.05 * torch.rand(1, 3, 16, 16, generator=g)).clamp(0, 1)
    style = torch.empty(1, 3, 16, 16)
    style[..., :8] = torch.tensor([0.8, 0.1, 0.1]).view(1, 3, 1, 1)
    style[..., 8:] = torch.tensor([0.1, 0.7, 0.9]).view(1, 3, 1, 1)
    return content, style, mask, mask.clone()


def test_output_equal_to_content_scores_zero_transfer_and_full_structure():
    content, style, cm, sm = _case()
    assert region_colour_transfer(content, content, style, cm, sm) == pytest.approx(0.0, abs=1e-6)
    assert content_structure_ssim(content, content) == pytest.approx(1.0, abs=1e-6)


def test_region_repainted_in_style_mean_scores_one():
    content, style, cm, sm = _case()
    out = content.clone()
    for k in (0, 1):
        region = cm[0] == k
        mean_s = style[0][:, sm[0] == k].mean(1)
        mean_c = content[0][:, region].mean(1)
        out[0][:, region] += (mean_s - mean_c)[:, None]  # shift keeps the texture
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    per_region, valid = region_colour_transfer_per_region(out, content, style, cm, sm)
    assert valid.all()
    assert per_region[0].tolist() == pytest.approx([1.0, 1.0], abs=1e-5)
    # only region 0 repainted: mean of 1 and 0
    half = content.clone()
    half[0][:, cm[0] == 0] = out[0][:, cm[0] == 0]
    assert region_colour_transfer(half, content, style, cm, sm) == pytest.approx(0.5, abs=1e-5)
    # halfway in colour scores 0.5 (brute-force reference: the formula on the region means)
    mid = (content + out) / 2
    mu = lambda img, m, k: img[0][:, m[0] == k].mean(1)  # noqa: E731
    ref = (
        sum(
            1
            - (mu(mid, cm, k) - mu(style, sm, k)).norm()
            / (mu(content, cm, k) - mu(style, sm, k)).norm()
            for k in (0, 1)
        )
        / 2
    )
    assert region_colour_transfer(mid, content, style, cm, sm) == pytest.approx(
        float(ref), abs=1e-5
    )
    assert float(ref) == pytest.approx(0.5, abs=1e-5)


def test_structure_ignores_tone_but_not_structure():
    content, style, cm, sm = _case()
    toned = (0.5 * content + 0.2).clamp(0, 1)  # affine change of tone: same structure
    assert content_structure_ssim(toned, content) == pytest.approx(1.0, abs=1e-4)
    noise = torch.rand(content.shape, generator=torch.Generator().manual_seed(1))
    assert content_structure_ssim(noise, content) < 0.3


def test_regions_absent_or_alike_do_not_count_and_errors_name_the_fix():
    content, style, cm, sm = _case()
    sm2 = torch.zeros_like(sm)  # style has only region 0
    _, valid = region_colour_transfer_per_region(content, content, style, cm, sm2)
    assert valid[0].tolist() == [True, False]
    same = region_colour_transfer(content, content, content, cm, cm)  # no colour gap anywhere
    assert same != same  # NaN: nothing to transfer
    with pytest.raises(ValueError, match="image resolution"):
        region_colour_transfer(content, content, style, cm[..., :8], sm)
    with pytest.raises(TypeError, match="label map"):
        region_colour_transfer(content, content, style, cm.float(), sm)


def test_area_weighting_counts_each_pixel_once():
    """Region 0 (a quarter of the image) repainted, region 1 (three quarters) kept: 0.5 by
    region, 0.25 by area (brute force: the per-pixel mean of each pixel's region score)."""
    content, style, _, _ = _case()
    cm = torch.ones(1, 16, 16, dtype=torch.long)
    cm[..., :4] = 0
    sm = cm.clone()
    out = content.clone()
    region = cm[0] == 0
    out[0][:, region] += (style[0][:, sm[0] == 0].mean(1) - content[0][:, region].mean(1))[:, None]
    per_region, valid = region_colour_transfer_per_region(out, content, style, cm, sm)
    assert valid.all()
    by_pixel = per_region[0][cm[0]].mean()  # every pixel carries its region's score
    assert region_colour_transfer(out, content, style, cm, sm, weighting="area") == pytest.approx(
        float(by_pixel), abs=1e-6
    )
    assert float(by_pixel) == pytest.approx(0.25, abs=1e-5)
    assert region_colour_transfer(out, content, style, cm, sm) == pytest.approx(0.5, abs=1e-5)
    with pytest.raises(ValueError, match="weighting"):
        region_colour_transfer(out, content, style, cm, sm, weighting="pixels")


def test_region_mean_shift_is_the_per_region_loop_and_scores_one():
    from maskstyle.metrics.stylisation import region_mean_shift

    content, style, cm, sm = _case()
    out = content.clone()
    for k in (0, 1):  # the loop of test_region_repainted_in_style_mean_scores_one
        region = cm[0] == k
        out[0][:, region] += (style[0][:, sm[0] == k].mean(1) - content[0][:, region].mean(1))[
            :, None
        ]
    torch.testing.assert_close(region_mean_shift(content, style, cm, sm), out.clamp(0, 1))
    assert region_colour_transfer(out, content, style, cm, sm) == pytest.approx(1.0, abs=1e-5)


def test_transfer_by_region_size_bands():
    from maskstyle.metrics.stylisation import transfer_by_region_size

    content, style, _, _ = _case()
    cm = torch.ones(1, 16, 16, dtype=torch.long)
    cm[..., :2, :2] = 0  # a 4-pixel region, repainted; the 252-pixel rest kept
    out = content.clone()
    region = cm[0] == 0
    out[0][:, region] += (style[0][:, region].mean(1) - content[0][:, region].mean(1))[:, None]
    rows = transfer_by_region_size(out, content, style, cm, cm.clone(), edges=(16, 256))
    assert [r["regions"] for r in rows] == [1, 1, 0]
    assert rows[0]["mean_pixels"] == 4 and rows[0]["transfer"] == pytest.approx(1.0, abs=1e-5)
    assert rows[1]["transfer"] == pytest.approx(0.0, abs=1e-6)
    assert rows[2]["pixels"] == ">= 256"


def _structure_brute_force(x: torch.Tensor, y: torch.Tensor, i: int, j: int) -> float:
    """Wang et al. 2004 Eq. 9 at pixel (i, j) of two [H, W] images, by explicit sums over
    the 11 x 11 Gaussian window (sigma 1.5): s = (sigma_xy + C3) / (sigma_x sigma_y + C3)."""
    import math

    w, total = {}, 0.0
    for a in range(-5, 6):
        for b in range(-5, 6):
            w[a, b] = math.exp(-(a * a + b * b) / (2 * 1.5**2))
            total += w[a, b]
    mx = sum(w[a, b] * float(x[i + a, j + b]) for a, b in w) / total
    my = sum(w[a, b] * float(y[i + a, j + b]) for a, b in w) / total
    vx = sum(w[a, b] * (float(x[i + a, j + b]) - mx) ** 2 for a, b in w) / total
    vy = sum(w[a, b] * (float(y[i + a, j + b]) - my) ** 2 for a, b in w) / total
    cxy = sum(w[a, b] * (float(x[i + a, j + b]) - mx) * (float(y[i + a, j + b]) - my)
              for a, b in w) / total  # fmt: skip
    c3 = 0.03**2 / 2
    return (cxy + c3) / (vx**0.5 * vy**0.5 + c3)


def test_structure_term_matches_a_brute_force_window_sum():
    from maskstyle.metrics.stylisation import _gaussian_ssim_map

    g = torch.Generator().manual_seed(3)
    x = torch.rand(1, 1, 20, 20, generator=g, dtype=torch.float64)
    y = 0.6 * x + 0.4 * torch.rand(1, 1, 20, 20, generator=g, dtype=torch.float64)
    s_map = _gaussian_ssim_map(x, y, component="structure")
    for i, j in [(5, 5), (9, 12), (14, 14)]:  # windows inside the image: no padding involved
        assert float(s_map[0, 0, i, j]) == pytest.approx(
            _structure_brute_force(x[0, 0], y[0, 0], i, j), rel=1e-9, abs=1e-9
        )
    with pytest.raises(ValueError, match="component"):
        _gaussian_ssim_map(x, y, component="contrast")


def test_structure_component_ignores_a_per_region_change_of_tone():
    """A per-region recolouring (the transfer itself) keeps the structure term near 1 while
    the full SSIM of the globally standardised luminance drops; the sign flip gives -1."""
    content, style, cm, sm = _case()
    gain = torch.where(cm[:, None] == 0, 0.4, 1.0)  # region 0 darker and flatter: a tone change
    recoloured = content * gain + torch.where(cm[:, None] == 0, 0.05, 0.0)
    structure = content_structure_ssim(recoloured, content, component="structure")
    assert structure > 0.9
    assert structure > content_structure_ssim(recoloured, content) + 0.05
    assert content_structure_ssim(content * 0.5, content, component="structure") == pytest.approx(
        1.0, abs=1e-5)  # an affine change of tone everywhere: exactly 1
    flipped = content_structure_ssim(1.0 - content, content, component="structure")
    assert flipped < -0.5


def test_min_pixels_drops_regions_smaller_than_a_feature_cell():
    from maskstyle.metrics.stylisation import stylisation_scores

    content, style, cm, sm = _case()
    cm2, sm2 = cm.clone(), sm.clone()
    cm2[0, 0, 0] = 2  # a one-pixel region in both maps
    sm2[0, 0, 0] = 2
    _, valid = region_colour_transfer_per_region(content, content, style, cm2, sm2)
    assert valid[0].tolist() == [True, True, True]
    _, valid = region_colour_transfer_per_region(content, content, style, cm2, sm2,
                                                 min_pixels=16)  # fmt: skip
    assert valid[0].tolist() == [True, True, False]
    out = content.clone()
    out[..., 0, 0] = style[..., 0, 0]  # only the one-pixel region reached its style colour
    scores = stylisation_scores(out, content, style, cm2, sm2, cell_pixels=16)
    assert scores["region_colour_transfer"] > 0.3  # the tiny region counts as one of three
    assert scores["region_colour_transfer_cells"] == pytest.approx(0.0, abs=1e-2)
    assert set(scores) == {"region_colour_transfer", "region_colour_transfer_area",
                           "region_colour_transfer_cells", "content_structure_ssim",
                           "content_structure_ssim_range", "content_structure"}  # fmt: skip
    with pytest.raises(ValueError, match="min_pixels"):
        region_colour_transfer(content, content, style, cm, sm, min_pixels=-1)


def test_structure_ssim_matches_torchmetrics_for_both_data_ranges():
    """S against an independent SSIM (torchmetrics: Gaussian 11x11, sigma 1.5, as Wang et al.):
    L = 1 is torchmetrics with data_range=1; "image" is torchmetrics with no data range,
    called on each pair alone (it infers L as the larger of the two images' ranges)."""
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    from maskstyle.metrics.stylisation import standardised_luminance

    g = torch.Generator().manual_seed(5)
    content = torch.rand(3, 3, 24, 24, generator=g, dtype=torch.float64)
    output = (0.7 * content + 0.3 * torch.rand(3, 3, 24, 24, generator=g, dtype=torch.float64))
    y_out, y_content = standardised_luminance(output), standardised_luminance(content)
    ours_l1 = content_structure_ssim(output, content, reduction="none")
    ours_range = content_structure_ssim(output, content, reduction="none", data_range="image")
    for i in range(3):
        pair = (y_out[i : i + 1], y_content[i : i + 1])
        assert float(ours_l1[i]) == pytest.approx(float(tm_ssim(*pair, data_range=1.0)), abs=1e-9)
        assert float(ours_range[i]) == pytest.approx(float(tm_ssim(*pair)), abs=1e-9)
    assert bool((ours_range > ours_l1).all())  # larger constants: flat windows count less
    assert content_structure_ssim(content, content, data_range="image") == pytest.approx(1.0)
    for bad in (0.0, -1.0, "images"):
        with pytest.raises(ValueError, match="data_range must be a positive number or 'image'"):
            content_structure_ssim(output, content, data_range=bad)
