"""Lightweight region-wise feature reconstruction (Lu et al. 2017, Sec. 3.1, Eqs. 3-5).

Instead of optimising the image, the stylised *feature* ``F_o`` is optimised inside one VGG
layer, separately in every semantic region ``k`` (Eq. 3):

    L_k(F_o^k) = L_content(F_o^k, F_c^k) + L_style(F_o^k, F_s^k).

With ``F_c^k in R^{C x N}``, ``F_s^k in R^{C x M}`` and the **linear kernel**
``k(x, y) = x^T y`` the style term is a maximum mean discrepancy (Eq. 4):

    L_content = 1/2 sum_{i,p} (F_o^{ip} - F_c^{ip})^2
    L_style   = lambda/(4 C^2) [ 1/N^2 sum_{p,q} <f_p, f_q> - 2/(M N) sum_{p,q} <f_p, s_q> ] + C_s
              = lambda/(4 C^2) || mu_o - mu_s ||^2          (C_s = lambda/(4C^2) ||mu_s||^2)

where ``mu`` is the mean over the region's positions. (The paper's Eq. 4 writes ``lambda``
inside ``L_style`` and Eq. 3 multiplies by ``lambda`` again; it is counted once here.)

**The gradient, derived.** For one position ``p``:

    dL/df_p = (f_p - c_p) + lambda/(4 C^2) (2/N^2 sum_q f_q - 2/(M N) sum_q s_q)
            = (f_p - c_p) + beta (mu_o - mu_s),          beta = lambda / (2 N C^2).

Setting it to zero gives the fixed-point update

    F_o <- F_c + lambda/(2 M N C^2) sum_q F_s  -  lambda/(2 N^2 C^2) sum_q F_o        (Eq. 5)

The printed Eq. 5 has ``lambda/(4 N C^2)`` in front of ``sum F_o``: ``N/2`` times the
coefficient the derivative of its own Eq. 4 gives. ``coefficient="derived"`` (default) uses
``lambda/(2 N^2 C^2)``; ``coefficient="printed"`` reproduces the paper's line for the
ablation (its fixed point is not the minimiser of Eq. 4, and it diverges once
``lambda >= 4 C^2``).

**Closed form.** Started from ``F_c`` (the paper's initialisation), every update adds the
same vector to all positions of a region, so ``F_o^t = F_c + d^t`` with ``d^t`` one
``C``-vector per region, and the iteration only moves region means:

    d^{t+1} = (1 - w) d^t + w (a mu_s - b (mu_c + d^t)),     a = beta, b = beta (derived)

with relaxation ``w`` (``w = 1`` is the paper's plain update). Eq. 4 is a convex quadratic;
its minimiser is ``d* = beta/(1 + beta) (mu_s - mu_c)``: the linear kernel moves each
region's mean ``beta/(1+beta)`` of the way to the style's mean and keeps everything else.
The iteration converges to it iff ``|1 - w (1 + b)| < 1``; with ``w = 1`` that needs
``beta < 1``, which small regions (``beta ~ 1/N``) easily violate, so
``relaxation="auto"`` damps exactly those regions with ``w = 1/(1 + b)`` (and a warning
names regions that would diverge under an explicit ``relaxation``). All regions and all
samples iterate together as one ``[B, K, C]`` tensor: 500 iterations cost microseconds per
step, next to nothing beside a VGG encode.

**Quadratic (Gram) kernel** (ablation): ``L_style = lambda/(4 C^2) ||G_o^k - G_s^k||_F^2``
with ``G = F F^T / N`` (:mod:`maskstyle.nn.gram`); no closed form, so
:func:`reconstruct_gram` takes gradient steps (Adam) inside the layer, all regions at once.

**Regions.** Masks are int64 label maps ``[B, H, W]`` at the features' resolution
(:func:`maskstyle.nn.masks.resize_labels`); without masks the whole map is one region.
``region_map`` sends content region ``k`` to style region ``region_map[k]`` (default: the
same label). A content region whose style region is empty follows ``missing_region``:
``"content"`` keeps ``F_c`` there, ``"global"`` uses the whole style feature, ``"error"``
raises.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from maskstyle.nn.gram import region_gram
from maskstyle.nn.region_stats import broadcast_regions, check_content_style, check_feature_mask

Coefficient = Literal["derived", "printed"]
MissingRegion = Literal["content", "global", "error"]


@dataclass
class ReconstructionResult:
    """Output of a region-wise reconstruction.

    ``feature`` ``[B, C, H, W]``; ``content_loss``/``style_loss`` ``[B, len(logged)]``: Eq. 4
    (summed over regions) at the iterations listed in ``logged`` (all of ``0..T`` unless loss
    tracking was switched off); ``snapshots`` maps an iteration to its feature map.
    """

    feature: torch.Tensor
    content_loss: torch.Tensor
    style_loss: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    logged: list[int] = field(default_factory=list)

    @property
    def total_loss(self) -> torch.Tensor:
        return self.content_loss + self.style_loss


@dataclass
class RegionPairing:
    """Per content region: the statistics of its content and of the style it receives."""

    content_mask: torch.Tensor  # [B, H, W]
    content_counts: torch.Tensor  # [B, K] N_k
    content_means: torch.Tensor  # [B, K, C]
    style_counts: torch.Tensor  # [B, K] M_k of the style region feeding content region k
    style_means: torch.Tensor  # [B, K, C]
    active: torch.Tensor  # [B, K] bool: region in the content and it receives a style


def region_means(
    feat: torch.Tensor, mask: torch.Tensor, num_regions: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Means ``[B, K, C]`` and pixel counts ``[B, K]`` of every region (segment sums).

    One ``scatter_add`` over the positions (cost ``C N``, all regions at once), instead of a
    product with one-hot masks (cost ``K C N``).
    """
    b, c = feat.shape[:2]
    labels = mask.flatten(1)  # [B, N]
    flat = feat.flatten(2)  # [B, C, N]
    sums = flat.new_zeros(b, c, num_regions).scatter_add_(
        2, labels[:, None, :].expand(-1, c, -1), flat
    )
    counts = flat.new_zeros(b, num_regions).scatter_add_(1, labels, flat.new_ones(labels.shape))
    return (sums / counts.clamp_min(1.0)[:, None, :]).transpose(1, 2), counts


def pair_regions(
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    region_map: Mapping[int, int] | None = None,
    missing_region: MissingRegion = "content",
) -> RegionPairing:
    """Region statistics of content and style, with each content region paired to its style.

    Validates shapes and masks (errors name the fix) and applies ``region_map`` and the
    ``missing_region`` fallback (see the module docstring).
    """
    check_content_style(content, style)
    if (content_mask is None) != (style_mask is None):
        raise ValueError("give both content_mask and style_mask or neither (one region)")
    if missing_region not in ("content", "global", "error"):
        raise ValueError(
            f"missing_region must be 'content', 'global' or 'error', got {missing_region!r}"
        )
    b = content.shape[0]
    if content_mask is None:
        content_mask = content.new_zeros((b, *content.shape[-2:]), dtype=torch.long)
        style_mask = style.new_zeros((b, *style.shape[-2:]), dtype=torch.long)
    check_feature_mask(content, content_mask, "content")
    check_feature_mask(style, style_mask, "style")
    for name, mask in (("content_mask", content_mask), ("style_mask", style_mask)):
        if mask.numel() and int(mask.min()) < 0:
            raise ValueError(f"{name} holds negative labels ({int(mask.min())}); labels are >= 0")
    region_map = dict(region_map or {})
    labels = [int(content_mask.max()), int(style_mask.max()), *region_map, *region_map.values()]
    if min([0, *region_map, *region_map.values()]) < 0:
        raise ValueError(f"region_map labels must be >= 0, got {region_map}")
    num_regions = max(labels) + 1
    source = torch.arange(num_regions, device=content.device)
    for dst, src in region_map.items():
        source[dst] = src

    c_means, c_counts = region_means(content, content_mask, num_regions)
    s_means_all, s_counts_all = region_means(style, style_mask, num_regions)
    s_means, s_counts = s_means_all[:, source], s_counts_all[:, source]
    in_content = c_counts > 0
    missing = in_content & (s_counts == 0)
    if bool(missing.any()):
        if missing_region == "error":
            names = sorted({int(k) for k in missing.nonzero()[:, 1]})
            raise ValueError(
                f"content regions {names} receive no style (their style region has no pixels): "
                "pass missing_region='content' to keep the content feature there, 'global' to "
                "use the whole style, or map them to another region with region_map"
            )
        if missing_region == "global":
            s_total = style.flatten(2).mean(-1)[:, None, :].expand_as(s_means)
            s_means = torch.where(missing[..., None], s_total, s_means)
            pixels = float(style.shape[-2] * style.shape[-1])
            s_counts = torch.where(missing, torch.full_like(s_counts, pixels), s_counts)
    active = in_content & (s_counts > 0)
    return RegionPairing(content_mask, c_counts, c_means, s_counts, s_means, active)


def linear_coefficients(
    pairing: RegionPairing, channels: int, style_weight: float, coefficient: Coefficient
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a, b)`` of ``F_o <- F_c + a mu_s - b mu_o`` per region ``[B, K]`` (0 if inactive).

    derived: ``a = b = lambda / (2 N C^2)``; printed Eq. 5: ``a = lambda/(2 N C^2)``,
    ``b = lambda / (4 C^2)`` (its ``lambda/(4 N C^2) sum F_o`` is ``lambda/(4C^2) mu_o``).
    """
    if coefficient not in ("derived", "printed"):
        raise ValueError(f"coefficient must be 'derived' or 'printed', got {coefficient!r}")
    n = pairing.content_counts.clamp_min(1.0)
    a = style_weight / (2.0 * n * channels**2)
    b = (
        a.clone()
        if coefficient == "derived"
        else torch.full_like(a, style_weight / 4 / channels**2)
    )
    zero = torch.zeros_like(a)
    return torch.where(pairing.active, a, zero), torch.where(pairing.active, b, zero)


def linear_losses(
    shift: torch.Tensor, pairing: RegionPairing, channels: int, style_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 4 at ``F_o = F_c + shift`` (``shift [..., B, K, C]`` per region): ``[..., B]`` each.

    Summed over the regions that receive a style; ``C_s`` included, so ``L_style >= 0``.
    """
    active = pairing.active.to(shift.dtype)
    gap0 = pairing.content_means - pairing.style_means  # [B, K, C], the gap at F_o = F_c
    # ||gap0 + d||^2 = ||gap0||^2 + 2 gap0.d + ||d||^2: two passes over the shifts
    shift_sq = torch.linalg.vector_norm(shift, dim=-1).square()
    cross = torch.einsum("...bkc,bkc->...bk", shift, gap0)
    gap_sq = gap0.square().sum(-1) + 2.0 * cross + shift_sq
    content = 0.5 * (pairing.content_counts * shift_sq * active).sum(-1)
    style = style_weight / (4.0 * channels**2) * (gap_sq * active).sum(-1)
    return content, style


def reconstruct_linear(
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    style_weight: float = 1e8,
    iterations: int = 500,
    coefficient: Coefficient = "derived",
    relaxation: float | Literal["auto"] = "auto",
    region_map: Mapping[int, int] | None = None,
    missing_region: MissingRegion = "content",
    snapshot_at: Sequence[int] = (),
    track_losses: bool = True,
) -> ReconstructionResult:
    """Minimise Eq. 3-4 (linear kernel) per region by ``iterations`` updates of Eq. 5.

    Starts from ``F_c``; all regions and samples are updated together. ``snapshot_at`` lists
    iterations whose full feature map is kept (Fig. 7); ``track_losses=False`` evaluates
    Eq. 4 only at the first and last iteration (the update itself is unchanged). See the
    module docstring for ``coefficient``, ``relaxation``, ``region_map``, ``missing_region``.
    """
    if not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be a non-negative int, got {iterations!r}")
    if style_weight < 0:
        raise ValueError(f"style_weight (lambda) must be >= 0, got {style_weight}")
    pairing = pair_regions(content, style, content_mask, style_mask, region_map, missing_region)
    channels = content.shape[1]
    a, b = linear_coefficients(pairing, channels, style_weight, coefficient)
    if relaxation == "auto":
        w = torch.where(b >= 1.0, 1.0 / (1.0 + b), torch.ones_like(b))
    else:
        if not 0.0 < float(relaxation) <= 1.0:
            raise ValueError(f"relaxation must be in (0, 1] or 'auto', got {relaxation!r}")
        w = torch.full_like(b, float(relaxation))
        rate = (1.0 - w * (1.0 + b)).abs()
        diverging = pairing.active & (rate >= 1.0)
        if bool(diverging.any()):
            regions = sorted({int(k) for k in diverging.nonzero()[:, 1]})
            warnings.warn(
                f"Eq. 5 with relaxation {relaxation} does not converge in regions {regions} "
                f"(|1 - w (1 + b)| >= 1, b up to {float(b.max()):.3g}): use relaxation='auto'",
                RuntimeWarning,
                stacklevel=2,
            )
    a, b, w = a[..., None], b[..., None], w[..., None]
    snapshot_at = sorted(set(snapshot_at))
    if any(t < 0 or t > iterations for t in snapshot_at):
        raise ValueError(f"snapshot_at must lie in [0, {iterations}], got {snapshot_at}")
    # Eq. 5 on the region shift d (F_o = F_c + d, mean(F_o) = mu_c + d), relaxed by w:
    #   d <- (1 - w) d + w (a mu_s - b (mu_c + d)) = decay * d + step
    decay = 1.0 - w * (1.0 + b)
    step = w * (a * pairing.style_means - b * pairing.content_means)
    if track_losses or snapshot_at:
        history = step.new_zeros((iterations + 1, *step.shape))  # d^0 = 0: F_o starts at F_c
        for t in range(iterations):
            torch.addcmul(step, decay, history[t], out=history[t + 1])
        last = history[-1]
    else:
        last = torch.zeros_like(step)
        for _ in range(iterations):
            last = torch.addcmul(step, decay, last)
        history = None
    snapshots = {
        t: content + broadcast_regions(history[t], pairing.content_mask) for t in snapshot_at
    }
    if track_losses:
        logged = list(range(iterations + 1))
        content_loss, style_loss = linear_losses(history, pairing, channels, style_weight)
    else:
        logged = [0, iterations]
        ends = torch.stack([torch.zeros_like(last), last])
        content_loss, style_loss = linear_losses(ends, pairing, channels, style_weight)
    feature = content + broadcast_regions(last, pairing.content_mask)
    return ReconstructionResult(feature, content_loss.T, style_loss.T, snapshots, logged)


def undamped_lambda_limit(
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    region_map: Mapping[int, int] | None = None,
    missing_region: MissingRegion = "content",
) -> float:
    """The largest ``lambda`` for which the paper's plain (undamped) Eq. 5 converges everywhere.

    With the derived coefficient the plain update multiplies each region's distance to the
    minimiser by ``-beta_k`` per iteration (``beta_k = lambda / (2 N_k C^2)``), so it
    converges iff ``beta_k < 1`` in every region that receives a style, i.e.
    ``lambda < 2 C^2 min_k N_k`` (the smallest active region sets the limit). Below it the
    iteration oscillates towards the closed form, the slower the closer ``lambda`` is to it
    (Fig. 7's convergence over hundreds of iterations); above it the plain update diverges
    in the smallest regions and :func:`reconstruct_linear` damps them (``relaxation="auto"``).
    """
    pairing = pair_regions(content, style, content_mask, style_mask, region_map, missing_region)
    if not bool(pairing.active.any()):
        raise ValueError(
            "no content region receives a style: every lambda is stable (nothing moves)"
        )
    smallest = float(pairing.content_counts[pairing.active].min())
    return 2.0 * content.shape[1] ** 2 * smallest


def small_region_map(content_mask: torch.Tensor, min_positions: int) -> dict[int, int]:
    """A ``region_map`` that sends every content label with fewer than ``min_positions``
    positions (in any sample of ``content_mask [B, H, W]``) to a label no style holds, so
    that with ``missing_region="content"`` those regions keep their content feature.

    Used where the plain Eq. 5 must converge (:func:`undamped_lambda_limit`): the smallest
    region sets its limit, and a region of one or two positions would force ``lambda`` so
    low that the large regions hardly move.
    """
    if min_positions < 1:
        raise ValueError(f"min_positions must be >= 1, got {min_positions}")
    labels = content_mask.flatten(1)
    size = int(labels.max()) + 1
    counts = torch.zeros(labels.shape[0], size, dtype=torch.long).scatter_add_(
        1, labels, torch.ones_like(labels)
    )
    present = counts > 0
    small = (present & (counts < min_positions)).any(0)
    unused = size + 1000  # no label map here reaches it
    return {int(k): unused for k in small.nonzero()[:, 0]}


def linear_closed_form(
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    style_weight: float = 1e8,
    region_map: Mapping[int, int] | None = None,
    missing_region: MissingRegion = "content",
) -> torch.Tensor:
    """The exact minimiser of Eq. 3-4 (linear kernel): ``F_c + beta/(1+beta) (mu_s - mu_c)``."""
    pairing = pair_regions(content, style, content_mask, style_mask, region_map, missing_region)
    beta, _ = linear_coefficients(pairing, content.shape[1], style_weight, "derived")
    beta = beta[..., None]
    shift = beta / (1.0 + beta) * (pairing.style_means - pairing.content_means)
    return content + broadcast_regions(shift, pairing.content_mask)


def gram_losses(
    output: torch.Tensor,
    content: torch.Tensor,
    style_grams: torch.Tensor,
    content_mask: torch.Tensor,
    active: torch.Tensor,
    style_weight: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 3 with the quadratic kernel: ``[B]`` content and style losses.

    ``style_grams [B, K, C, C]`` are the targets of the ``K`` labels of ``content_mask``;
    only regions with ``active [B, K]`` count.
    """
    num_regions = active.shape[1]
    active_pixels = active.gather(1, content_mask.flatten(1)).to(output.dtype)
    diff = (output - content).flatten(2).square().sum(1)  # [B, N]
    content_loss = 0.5 * (diff * active_pixels).sum(-1)
    grams, _ = region_gram(output, content_mask, num_regions)
    gap = (grams - style_grams).square().sum((-1, -2))  # [B, K]
    channels = output.shape[1]
    style_loss = style_weight / (4.0 * channels**2) * (gap * active).sum(-1)
    return content_loss, style_loss


def reconstruct_gram(
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    style_weight: float = 1e8,
    iterations: int = 500,
    lr: float = 0.05,
    region_map: Mapping[int, int] | None = None,
    missing_region: MissingRegion = "content",
) -> ReconstructionResult:
    """Ablation: Eq. 3 with the Gram (quadratic kernel) style loss, Adam steps in the layer.

    ``G^k = F^k F^k^T / N_k`` per region; starts from ``F_c``; ``lr`` is Adam's step size
    in feature units. Returns the same :class:`ReconstructionResult` as the linear kernel.
    Only the regions that receive a style are optimised (the others keep ``F_c``).
    """
    if not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be a non-negative int, got {iterations!r}")
    pairing = pair_regions(content, style, content_mask, style_mask, region_map, missing_region)
    num_regions = pairing.content_counts.shape[1]
    style_mask_used = style_mask
    if style_mask_used is None:
        style_mask_used = style.new_zeros((style.shape[0], *style.shape[-2:]), dtype=torch.long)
    region_map = dict(region_map or {})
    source = torch.arange(num_regions, device=content.device)
    for dst, src in region_map.items():
        source[dst] = src
    s_grams_all, s_counts_all = region_gram(style.detach(), style_mask_used, num_regions)
    style_grams = s_grams_all[:, source]
    fallback = (s_counts_all[:, source] == 0) & pairing.active  # only with "global"
    if bool(fallback.any()):
        whole = region_gram(style.detach(), torch.zeros_like(style_mask_used), 1)[0][:, :1]
        style_grams = torch.where(fallback[..., None, None], whole, style_grams)
    # Compact the labels to the regions that are optimised, plus one inert label for the rest.
    keep = pairing.active.any(0).nonzero()[:, 0]
    lookup = torch.full((num_regions,), len(keep), dtype=torch.long, device=content.device)
    lookup[keep] = torch.arange(len(keep), device=content.device)
    compact_mask = lookup[pairing.content_mask]
    inert = torch.zeros_like(pairing.active[:, :1])
    active = torch.cat([pairing.active[:, keep], inert], 1).to(content.dtype)
    style_grams = torch.cat([style_grams[:, keep], torch.zeros_like(style_grams[:, :1])], 1)
    content = content.detach()
    output = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([output], lr=lr)
    content_losses, style_losses = [], []
    for t in range(iterations + 1):
        c_loss, s_loss = gram_losses(
            output, content, style_grams, compact_mask, active, style_weight
        )
        content_losses.append(c_loss.detach())
        style_losses.append(s_loss.detach())
        if t == iterations:
            break
        optimizer.zero_grad()
        (c_loss + s_loss).sum().backward()
        optimizer.step()
    return ReconstructionResult(
        output.detach(),
        torch.stack(content_losses, 1),
        torch.stack(style_losses, 1),
        logged=list(range(iterations + 1)),
    )
