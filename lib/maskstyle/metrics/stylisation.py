"""How well a semantic style transfer output carries the style's regional colours while it
keeps the content's structure (issue 9; Lu et al. 2017 judge both by eye, Figs. 6-11).

**Region colour transfer.** For every region ``k`` present in both the content and the
style label maps whose mean colours differ (``|mu_c^k - mu_s^k| > min_gap``, Euclidean in
RGB), how far the output's mean colour over the content region moved from the content's
towards the style's:

    T_k = 1 - |mu_out^k - mu_s^k| / |mu_c^k - mu_s^k|,      T = mean_k T_k

``T = 0``: the output kept the content's colours; ``T = 1``: every region reached its style
colour; ``T < 0``: it moved away. The output is measured over the *content's* region (the
output keeps the content's geometry).

``weighting="regions"`` (the definition above) gives every region the same say, so at a low
resolution the few-pixel regions (an eye, a brow, a nostril: 2-10 pixels at 64 px) weigh as
much as the background; they are smaller than one relu3_1 feature cell, so a region-wise
feature method cannot address them and a decoder's blur moves their colour to their
neighbours'. ``weighting="area"`` weights ``T_k`` by the content region's pixel count: the
share of the image that took the style's colours, what a viewer sees.

**Content structure SSIM.** SSIM (Wang et al. 2004, :func:`maskstyle.metrics.ssim_map`'s
Gaussian 11x11 window) between the luminance of the output and of the content after each
is standardised to zero mean and unit standard deviation over the image, so a change of
tone or contrast (what a style transfer is meant to do) does not count, only structure:

    Y = 0.299 R + 0.587 G + 0.114 B,    Y~ = (Y - mean Y) / std Y,    S = mean SSIM(Y~_out, Y~_c)

with the stabilising constants for a data range ``L = 1`` (a standardised image spans a
few units, so the constants are small beside its variances). 1 for an output equal to the
content up to an affine change of luminance.

``data_range="image"`` takes Wang et al.'s ``L`` ("the dynamic range of the pixel values") as
the standardised images' own range instead, per pair ``L = max(range Y~_out, range Y~_c)``,
about 5 on face-world images: what ``torchmetrics``' SSIM uses when no data range is given
(called on one pair). Its constants are 25x larger than with ``L = 1``, as large relative to
the image's range as Wang's for an 8-bit image; with ``L = 1`` the flat windows (plain
background, skin), where only noise or a decoder's dither varies, weigh more: a content with
5% pixel noise scores about 0.53 with ``L = 1`` and 0.67 with the images' range.

The global standardisation removes one change of tone for the whole image, not one per
region: a perfect region-wise recolouring (:func:`region_mean_shift`) changes the contrast
between regions and scores only about 0.5 on face-world pairs. ``component="structure"``
keeps SSIM's structure term alone (Wang et al. 2004, Eq. 9), with each window's own mean and
contrast removed:

    s = (sigma_xy + C3) / (sigma_x sigma_y + C3),    C3 = C2 / 2

so a change of tone or contrast inside any window - the transfer itself - does not count,
while a lost, moved or blurred edge does (the perfect recolouring scores about 0.9, a 4x
blur about 0.6, the style image itself about 0.1).

**Regions a feature cell can hold.** ``min_pixels`` counts only content regions of at least
that many pixels in :func:`region_colour_transfer` - ``stride**2`` for a method that works
on a feature map of that stride (16 at relu3_1): a smaller region has no feature cell of its
own, so no region-wise feature method can give it its own colour.
"""

from __future__ import annotations

import torch

from maskstyle.metrics._checks import as_image_batch, image_pair, reduce

LUMA = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma weights."""


def _check_labels(mask: torch.Tensor, image: torch.Tensor, name: str) -> torch.Tensor:
    if (
        not isinstance(mask, torch.Tensor)
        or mask.dtype.is_floating_point
        or mask.dtype == torch.bool
    ):
        raise TypeError(
            f"{name} must be an int64 label map [B, H, W], got {getattr(mask, 'dtype', type(mask))}"
        )
    if mask.dim() == 2:
        mask = mask[None]
    if mask.shape != (image.shape[0], *image.shape[-2:]):
        raise ValueError(
            f"{name} has shape {tuple(mask.shape)}, its image {tuple(image.shape)}: give the "
            "label map at image resolution [B, H, W]"
        )
    if mask.numel() and int(mask.min()) < 0:
        raise ValueError(f"{name} holds negative labels; labels are >= 0")
    return mask.long()


def region_mean_colours(
    image: torch.Tensor, mask: torch.Tensor, num_regions: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean RGB ``[B, K, 3]`` and pixel counts ``[B, K]`` of every label (segment sums)."""
    b, c = image.shape[:2]
    labels = mask.flatten(1)  # [B, N]
    flat = image.flatten(2)  # [B, C, N]
    sums = flat.new_zeros(b, c, num_regions).scatter_add_(
        2, labels[:, None].expand(-1, c, -1), flat
    )
    counts = flat.new_zeros(b, num_regions).scatter_add_(1, labels, flat.new_ones(labels.shape))
    return (sums / counts.clamp_min(1.0)[:, None]).transpose(1, 2), counts


def region_colour_transfer_per_region(
    output: torch.Tensor,
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor,
    style_mask: torch.Tensor,
    min_gap: float = 0.05,
    min_pixels: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(T [B, K], valid [B, K])``: ``T_k`` of every label and whether it counts (a content
    region of fewer than ``min_pixels`` pixels does not)."""
    if min_pixels < 0:
        raise ValueError(f"min_pixels must be >= 0, got {min_pixels}")
    output, content = image_pair(output, content)
    style = as_image_batch(style, "style")
    if style.shape[:2] != content.shape[:2]:
        raise ValueError(
            f"style {tuple(style.shape)} must match content {tuple(content.shape)} in batch "
            "and channels"
        )
    content_mask = _check_labels(content_mask, content, "content_mask")
    style_mask = _check_labels(style_mask, style, "style_mask")
    k = int(max(content_mask.max(), style_mask.max())) + 1
    mu_c, n_c = region_mean_colours(content, content_mask, k)
    mu_o, _ = region_mean_colours(output, content_mask, k)
    mu_s, n_s = region_mean_colours(style, style_mask, k)
    gap = torch.linalg.vector_norm(mu_c - mu_s, dim=-1)  # [B, K]
    left = torch.linalg.vector_norm(mu_o - mu_s, dim=-1)
    valid = (n_c > 0) & (n_c >= min_pixels) & (n_s > 0) & (gap > min_gap)
    transfer = 1.0 - left / gap.clamp_min(1e-12)
    return torch.where(valid, transfer, torch.zeros_like(transfer)), valid


def region_colour_transfer(
    output: torch.Tensor,
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor,
    style_mask: torch.Tensor,
    min_gap: float = 0.05,
    reduction: str = "mean",
    weighting: str = "regions",
    min_pixels: int = 0,
) -> torch.Tensor | float:
    """Mean over regions of ``1 - |mu_out - mu_s| / |mu_c - mu_s|`` (see the module docstring).

    Images ``[B, 3, H, W]`` in [0, 1], label maps ``[B, H, W]`` at image resolution; a
    region counts when it is in both maps and its content and style means differ by more
    than ``min_gap``. An image with no such region gives NaN (nothing to transfer).
    ``weighting``: ``"regions"`` (every region alike) or ``"area"`` (by the content region's
    pixel count). ``min_pixels``: only content regions at least this large count (the
    module docstring). ``reduction="mean"``: mean over images as a float; ``"none"``: ``[B]``.
    """
    if weighting not in ("regions", "area"):
        raise ValueError(f"weighting must be 'regions' or 'area', got {weighting!r}")
    transfer, valid = region_colour_transfer_per_region(
        output, content, style, content_mask, style_mask, min_gap, min_pixels
    )
    weights = valid.to(transfer.dtype)
    if weighting == "area":
        counts = region_mean_colours(content, _check_labels(content_mask, content,
                                                            "content_mask"),
                                     transfer.shape[1])[1]  # fmt: skip
        weights = weights * counts
    per_image = (transfer * weights).sum(-1) / weights.sum(-1)  # NaN where no region counts
    return reduce(per_image, reduction)


def standardised_luminance(image: torch.Tensor) -> torch.Tensor:
    """``[B, 1, H, W]`` luminance with zero mean and unit std per image (constant -> 0)."""
    image = as_image_batch(image, "image")
    if image.shape[1] == 3:
        weights = image.new_tensor(LUMA).view(1, 3, 1, 1)
        y = (image * weights).sum(1, keepdim=True)
    else:
        y = image
    y = y - y.mean((1, 2, 3), keepdim=True)
    std = y.square().mean((1, 2, 3), keepdim=True).sqrt()
    return y / std.clamp_min(1e-8)


SSIM_COMPONENTS = ("ssim", "structure")


def _gaussian_ssim_map(
    x: torch.Tensor, y: torch.Tensor, data_range: float | torch.Tensor = 1.0,
    component: str = "ssim",
) -> torch.Tensor:  # fmt: skip
    """SSIM map of one-channel images (Gaussian 11x11, sigma 1.5, reflect padding), or of its
    structure term alone (``component="structure"``, Wang et al. 2004 Eq. 9). ``data_range``:
    ``L`` of the constants, a number or one per image ``[B, 1, 1, 1]``."""
    if component not in SSIM_COMPONENTS:
        raise ValueError(f"component must be one of {SSIM_COMPONENTS}, got {component!r}")
    radius, sigma = 5, 1.5
    coords = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    g = torch.exp(-coords.square() / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :])[None, None]

    def blur(t: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.conv2d(
            torch.nn.functional.pad(t, (radius,) * 4, mode="reflect"), kernel
        )

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x.square()
    var_y = blur(y * y) - mu_y.square()
    cov = blur(x * y) - mu_x * mu_y
    if component == "structure":
        c3 = c2 / 2
        return (cov + c3) / (var_x.clamp_min(0).sqrt() * var_y.clamp_min(0).sqrt() + c3)
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2)
    )


def content_structure_ssim(
    output: torch.Tensor, content: torch.Tensor, reduction: str = "mean", component: str = "ssim",
    data_range: float | str = 1.0,
) -> torch.Tensor | float:  # fmt: skip
    """SSIM between the standardised luminances of ``output`` and ``content`` (docstring).

    Images ``[B, 3, H, W]`` in [0, 1], at least 6 x 6 pixels. ``component``: ``"ssim"`` (the
    full index) or ``"structure"`` (its structure term only: tone and contrast changes inside
    a window do not count). ``data_range``: ``L`` of SSIM's constants, a positive number or
    ``"image"`` (each pair's own range, as ``torchmetrics`` infers it). ``reduction`` as in
    :func:`region_colour_transfer`.
    """
    output, content = image_pair(output, content)
    if min(output.shape[-2:]) < 6:
        raise ValueError(
            "content_structure_ssim needs images of at least 6x6 pixels, got "
            f"{tuple(output.shape[-2:])}"
        )
    y_out, y_content = standardised_luminance(output), standardised_luminance(content)
    if data_range == "image":
        data_range = torch.maximum(_value_range(y_out), _value_range(y_content))
    elif isinstance(data_range, str) or not data_range > 0:
        raise ValueError(f"data_range must be a positive number or 'image', got {data_range!r}")
    values = _gaussian_ssim_map(y_out, y_content, data_range, component).mean((1, 2, 3))
    return reduce(values, reduction)


def _value_range(images: torch.Tensor) -> torch.Tensor:
    """``max - min`` of each image, ``[B, 1, 1, 1]``."""
    flat = images.flatten(1)
    return (flat.amax(1) - flat.amin(1)).view(-1, 1, 1, 1)


def region_mean_shift(
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor,
    style_mask: torch.Tensor,
) -> torch.Tensor:
    """The reference output that scores ``T_k = 1``: every content region shifted in pixel
    space by ``mu_s^k - mu_c^k`` (its texture kept), clamped to [0, 1]; regions absent from
    the style keep their colours. What a perfect region-wise colour transfer would paint."""
    content = as_image_batch(content, "content")
    style = as_image_batch(style, "style")
    content_mask = _check_labels(content_mask, content, "content_mask")
    style_mask = _check_labels(style_mask, style, "style_mask")
    k = int(max(content_mask.max(), style_mask.max())) + 1
    mu_c, _ = region_mean_colours(content, content_mask, k)
    mu_s, n_s = region_mean_colours(style, style_mask, k)
    shift = torch.where((n_s > 0)[..., None], mu_s - mu_c, torch.zeros_like(mu_c))  # [B, K, 3]
    per_pixel = torch.gather(shift, 1, content_mask.flatten(1)[..., None].expand(-1, -1, 3))
    return (content + per_pixel.transpose(1, 2).reshape(content.shape)).clamp(0.0, 1.0)


def transfer_by_region_size(
    output: torch.Tensor,
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor,
    style_mask: torch.Tensor,
    edges: tuple[int, ...] = (16, 256),
    min_gap: float = 0.05,
) -> list[dict[str, float]]:
    """``T_k`` grouped by the content region's pixel count: one row per size band
    (``[0, edges[0])``, ``[edges[0], edges[1])``, ..., ``[edges[-1], inf)``) with the band,
    how many (image, region) pairs count, their mean pixel count and mean ``T_k``."""
    transfer, valid = region_colour_transfer_per_region(
        output, content, style, content_mask, style_mask, min_gap
    )
    counts = region_mean_colours(content, _check_labels(content_mask, content, "content_mask"),
                                 transfer.shape[1])[1]  # fmt: skip
    bounds = [0, *edges, None]
    rows = []
    for low, high in zip(bounds[:-1], bounds[1:]):
        band = valid & (counts >= low) & (counts < high if high is not None else True)
        n = int(band.sum())
        rows.append({
            "pixels": f"{low}-{high - 1}" if high is not None else f">= {low}",
            "regions": n,
            "mean_pixels": float(counts[band].mean()) if n else float("nan"),
            "transfer": float(transfer[band].mean()) if n else float("nan"),
        })  # fmt: skip
    return rows


def stylisation_scores(
    output: torch.Tensor,
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor,
    style_mask: torch.Tensor,
    cell_pixels: int = 16,
) -> dict[str, float]:
    """Every stylisation number of one output batch (the module docstring's readings):

    - ``region_colour_transfer``: ``T``, regions alike (the issue's definition);
    - ``region_colour_transfer_area``: ``T`` weighted by region area;
    - ``region_colour_transfer_cells``: ``T`` over regions of at least ``cell_pixels`` pixels
      (one feature cell: 16 at relu3_1's stride 4);
    - ``content_structure_ssim``: ``S`` (the issue's definition, constants for ``L = 1``);
    - ``content_structure_ssim_range``: ``S`` with each pair's own range as ``L``;
    - ``content_structure``: SSIM's structure term of the standardised luminances.
    """
    args = (output, content, style, content_mask, style_mask)
    return {
        "region_colour_transfer": region_colour_transfer(*args),
        "region_colour_transfer_area": region_colour_transfer(*args, weighting="area"),
        "region_colour_transfer_cells": region_colour_transfer(*args, min_pixels=cell_pixels),
        "content_structure_ssim": content_structure_ssim(output, content),
        "content_structure_ssim_range": content_structure_ssim(output, content,
                                                               data_range="image"),  # fmt: skip
        "content_structure": content_structure_ssim(output, content, component="structure"),
    }


__all__ = [
    "stylisation_scores",
    "content_structure_ssim",
    "region_mean_shift",
    "transfer_by_region_size",
    "region_colour_transfer",
    "region_colour_transfer_per_region",
    "region_mean_colours",
    "standardised_luminance",
]
