"""Gatys et al. backward optimisation, unguided and with semantic masks.

Gatys, Ecker & Bethge (2016) optimise the *image* ``x`` so that its VGG features match the
content image's features at the content layers and its Gram matrices match the style
image's at the style layers (their Sec. 2):

    L(x) = alpha sum_{l in content} || F_l(x) - F_l(c) ||^2 / (C_l N_l)
         + beta  sum_{l in style}   || G_l(x) - G_l(s) ||^2 / C_l^2 ,   G_l = F_l F_l^T / (C_l N_l)

(the normalisation of the PyTorch tutorial, where ``alpha = 1``, ``beta = 1e6``).
Every iteration propagates the loss back through VGG to the pixels: this is the cost the
fast semantic method removes (its Eq. 2).

**Guided (semantic) transfer** (Gatys et al. 2017, "Controlling perceptual factors in
neural style transfer", Sec. 4, with hard masks): the label maps are resized to every style
layer (nearest, :func:`maskstyle.nn.masks.resize_labels`) and the style loss compares one
Gram matrix per region, ``G_l^k`` over the region's positions (:func:`region_gram`),
averaged over the regions present in both images. A content region absent from the style
follows ``missing_region`` as everywhere in maskstyle: ``"content"`` (no style term there),
``"global"`` (compare with the whole style's Gram) or ``"error"``.

**Optimiser.** ``"lbfgs"`` (Gatys' choice; PyTorch's L-BFGS without line search, so one
iteration = one forward + backward) or ``"adam"``; both start from the content image and
clamp pixels to ``[0, 1]`` before every evaluation, as the PyTorch tutorial does.
``iterations`` counts loss evaluations (forward + backward passes) in both cases, so equal
iterations mean equal work - the unit of the paper's timing comparison (500 iterations).

**Speed, fairly.** The fast method is timed with channels-last convolutions and no autograd
bookkeeping; the baseline gets every one of those that helps it: ``channels_last=True``
(default) puts the encoder's weights (in place) and the image fed to it in the channels-last
layout, which speeds up VGG's forward and input-gradient backward alike (the optimised
pixels stay an ordinary contiguous tensor, as L-BFGS needs flat views of them); targets are
computed once without gradients; the encoder's weights never get gradients. fp32 on both
sides. Autograd itself is Gatys' method (the gradient of the loss w.r.t. the pixels).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from maskstyle.nn.gram import gram_matrix, region_gram
from maskstyle.nn.masks import check_image_label_map, resize_labels
from maskstyle.nn.vgg import VGG19Features
from maskstyle.utils.shapes import expect_shape

MissingRegion = Literal["content", "global", "error"]


@dataclass
class GatysResult:
    """Stylised ``image [B, 3, H, W]``; per-evaluation losses ``[T]``; wall time; provenance."""

    image: torch.Tensor
    content_loss: torch.Tensor
    style_loss: torch.Tensor
    evaluations: int
    seconds: float
    provenance: str

    @property
    def total_loss(self) -> torch.Tensor:
        return self.content_loss + self.style_loss


def _check_images(content: torch.Tensor, style: torch.Tensor) -> None:
    for name, img in (("content", content), ("style", style)):
        expect_shape(img, ["B", 3, "H", "W"], name, what="images", hint=" (values in [0, 1])")
    if content.shape[0] != style.shape[0]:
        raise ValueError(
            f"content and style batch sizes differ ({content.shape[0]} vs {style.shape[0]}): "
            "pair every content image with one style image"
        )


class GuidedStyleLoss:
    """Per-region Gram loss of one layer against fixed style targets (precomputed once)."""

    def __init__(
        self,
        style_feat: torch.Tensor,
        content_mask: torch.Tensor,
        style_mask: torch.Tensor,
        num_regions: int,
        missing_region: MissingRegion,
    ) -> None:
        self.content_mask = content_mask
        self.num_regions = num_regions
        self.channels = style_feat.shape[1]
        targets, s_counts = region_gram(style_feat, style_mask, num_regions)
        c_counts = torch.zeros_like(s_counts).scatter_add_(
            1, content_mask.flatten(1), torch.ones_like(content_mask.flatten(1))
        )
        missing = (c_counts > 0) & (s_counts == 0)
        if bool(missing.any()):
            if missing_region == "error":
                regions = sorted({int(k) for k in missing.nonzero()[:, 1]})
                raise ValueError(
                    f"content regions {regions} have no pixels in the style mask at this "
                    "layer: pass missing_region='content' (no style term there) or 'global'"
                )
            if missing_region == "global":
                whole = gram_matrix(style_feat)[:, None]
                targets = torch.where(missing[..., None, None], whole, targets)
                s_counts = torch.where(missing, torch.ones_like(s_counts), s_counts)
        active = (c_counts > 0) & (s_counts > 0)  # [B, K]
        # Only regions with a style term are computed per iteration: their labels are
        # compacted to 0..R-1, everything else goes to an inert label R (dropped).
        keep = active.any(0).nonzero()[:, 0]
        lookup = torch.full((num_regions,), len(keep), dtype=torch.long, device=keep.device)
        lookup[keep] = torch.arange(len(keep), device=keep.device)
        self.compact_mask = lookup[content_mask]
        self.kept = len(keep)
        self.targets = targets[:, keep] / self.channels  # [B, R, C, C]
        self.active = active[:, keep].to(style_feat.dtype)  # [B, R]
        # The mask is fixed, so the positions are sorted by region ONCE: per iteration each
        # sample gathers its kept positions in that order (one index_select, whose backward
        # is an index_add) and every region multiplies only its own rows - the cost of one
        # global Gram matrix, C^2 N (region_gram re-sorts and gathers per call).
        labels = self.compact_mask.flatten(1)  # [B, N]
        self._orders, self._sizes = [], []
        for row in labels:
            order = torch.argsort(row, stable=True)
            sizes = torch.bincount(row, minlength=self.kept + 1)[: self.kept]
            self._orders.append(order[: int(sizes.sum())])
            self._sizes.append(sizes.tolist())

    def region_grams(self, feat: torch.Tensor) -> torch.Tensor:
        """``G^k = F_k F_k^T / N_k`` ``[B, R, C, C]`` of the kept regions (zero if empty);
        equal to :func:`maskstyle.nn.gram.region_gram` on the compacted mask."""
        b, c = feat.shape[:2]
        # positions x channels; a free view for channels-last features
        rows = feat.permute(0, 2, 3, 1).reshape(b, -1, c)
        grams = []
        for i in range(b):
            chunks = rows[i].index_select(0, self._orders[i]).split(self._sizes[i])
            grams.append(
                torch.stack(
                    [ch.T @ ch / ch.shape[0] if ch.shape[0] else feat.new_zeros(c, c)
                     for ch in chunks]
                )
            )  # fmt: skip
        return torch.stack(grams)

    def __call__(self, feat: torch.Tensor) -> torch.Tensor:
        if self.kept == 0:
            return feat.sum() * 0.0
        if tuple(feat.shape[-2:]) != tuple(self.compact_mask.shape[-2:]):
            raise ValueError(
                f"features {tuple(feat.shape)} do not match the content mask "
                f"{tuple(self.compact_mask.shape)} this loss was built for"
            )
        grams = self.region_grams(feat)
        per_region = (grams / self.channels - self.targets).square().mean((-1, -2))  # [B, R]
        return ((per_region * self.active).sum(-1) / self.active.sum(-1).clamp_min(1.0)).sum()


class GatysLoss:
    """The (guided) Gatys objective for fixed content and style: ``loss(image) -> (L_c, L_s)``.

    Targets are computed once from ``content``/``style`` (no gradient); calling the object
    encodes ``image`` and returns the weighted content and style terms (summed over the
    batch), differentiable in ``image``. Also used to score any method's output on the
    same objective (equal-iteration comparisons).
    """

    def __init__(
        self,
        encoder: VGG19Features,
        content: torch.Tensor,
        style: torch.Tensor,
        content_mask: torch.Tensor | None = None,
        style_mask: torch.Tensor | None = None,
        content_layers: Sequence[str] = ("relu3_1",),
        style_layers: Sequence[str] = ("relu3_1",),
        content_weight: float = 1.0,
        style_weight: float = 1e6,
        missing_region: MissingRegion = "content",
    ) -> None:
        _check_images(content, style)
        if (content_mask is None) != (style_mask is None):
            raise ValueError("give both content_mask and style_mask (guided) or neither (unguided)")
        if missing_region not in ("content", "global", "error"):
            raise ValueError(f"missing_region must be content/global/error, got {missing_region!r}")
        layers = tuple(dict.fromkeys([*content_layers, *style_layers]))
        absent = [layer for layer in layers if layer not in encoder.layers]
        if absent:
            raise ValueError(
                f"encoder does not return layers {absent}; build it with "
                f"VGG19Features(layers={layers!r}, ...)"
            )
        self.encoder = encoder
        self.content_layers, self.style_layers = tuple(content_layers), tuple(style_layers)
        self.content_weight, self.style_weight = content_weight, style_weight
        with torch.no_grad():
            content_feats = encoder(content)
            style_feats = encoder(style)
        self.content_targets = {layer: content_feats[layer] for layer in self.content_layers}
        self.style_terms: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}
        if content_mask is not None:
            check_image_label_map(content, content_mask, "content_mask")
            check_image_label_map(style, style_mask, "style_mask")
            num_regions = int(max(content_mask.max(), style_mask.max())) + 1
            for layer in self.style_layers:
                s_feat = style_feats[layer]
                self.style_terms[layer] = GuidedStyleLoss(
                    s_feat,
                    resize_labels(content_mask, tuple(content_feats[layer].shape[-2:])),
                    resize_labels(style_mask, tuple(s_feat.shape[-2:])),
                    num_regions,
                    missing_region,
                )
        else:
            for layer in self.style_layers:
                channels = style_feats[layer].shape[1]
                target = gram_matrix(style_feats[layer]) / channels

                def unguided(feat, target=target, channels=channels):
                    diff = F.mse_loss(gram_matrix(feat) / channels, target, reduction="sum")
                    return diff / channels**2  # mean over the C^2 entries, summed over batch

                self.style_terms[layer] = unguided

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.encoder(image)
        c_loss = sum(
            F.mse_loss(feats[lyr], target, reduction="sum") / target[0].numel()
            for lyr, target in self.content_targets.items()
        )
        s_loss = sum(self.style_terms[lyr](feats[lyr]) for lyr in self.style_layers)
        return self.content_weight * c_loss, self.style_weight * s_loss


def gatys_transfer(
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    encoder: VGG19Features | None = None,
    content_layers: Sequence[str] = ("relu3_1",),
    style_layers: Sequence[str] = ("relu3_1",),
    content_weight: float = 1.0,
    style_weight: float = 1e6,
    iterations: int = 500,
    optimizer: Literal["lbfgs", "adam"] = "lbfgs",
    lr: float | None = None,
    missing_region: MissingRegion = "content",
    weights: str = "imagenet",
    callback: Callable[[int, torch.Tensor], None] | None = None,
    channels_last: bool = True,
) -> GatysResult:
    """Backward optimisation of the image (see the module docstring); guided with masks.

    ``content``/``style`` are ``[B, 3, H, W]`` in ``[0, 1]``; optional int64 label maps
    ``[B, H, W]`` at image resolution. ``encoder`` must expose every requested layer; if
    ``None`` one is built with ``weights``. ``lr`` defaults to 1 (L-BFGS) or 0.02 (Adam).
    ``callback(evaluation, image)`` is called after every evaluation (for Fig. 7 style plots).
    ``channels_last`` converts ``encoder`` in place to the channels-last memory format and
    feeds it channels-last images (same values, faster convolutions on CPU).
    """
    _check_images(content, style)
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive int, got {iterations!r}")
    if optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    if encoder is None:
        layers = tuple(dict.fromkeys([*content_layers, *style_layers]))
        encoder = VGG19Features(layers, weights=weights)
    if channels_last:
        encoder.to(memory_format=torch.channels_last)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    start = time.perf_counter()
    objective = GatysLoss(
        encoder, content, style, content_mask, style_mask, content_layers, style_layers,
        content_weight, style_weight, missing_region,
    )  # fmt: skip
    image = content.detach().clone().requires_grad_(True)
    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            [image],
            lr=1.0 if lr is None else lr,
            max_iter=iterations,
            max_eval=iterations,
            tolerance_grad=0.0,
            tolerance_change=0.0,
            history_size=100,
        )
    else:
        opt = torch.optim.Adam([image], lr=0.02 if lr is None else lr)
    content_losses: list[torch.Tensor] = []
    style_losses: list[torch.Tensor] = []

    def closure() -> torch.Tensor:
        with torch.no_grad():
            image.clamp_(0.0, 1.0)
        opt.zero_grad()
        c_loss, s_loss = objective(image.contiguous(memory_format=layout))
        loss = c_loss + s_loss
        loss.backward()
        content_losses.append(c_loss.detach())
        style_losses.append(s_loss.detach())
        if callback is not None:
            callback(len(content_losses), image.detach())
        return loss

    if optimizer == "lbfgs":
        opt.step(closure)
    else:
        for _ in range(iterations):
            closure()
            opt.step()
    with torch.no_grad():
        image.clamp_(0.0, 1.0)
    seconds = time.perf_counter() - start
    guided = "guided (per-region Gram)" if content_mask is not None else "unguided"
    provenance = (
        f"Gatys {guided}, {optimizer}, {len(content_losses)} evaluations, content "
        f"{tuple(content_layers)}, style {tuple(style_layers)}; {encoder.provenance}"
    )
    return GatysResult(
        image.detach(),
        torch.stack(content_losses),
        torch.stack(style_losses),
        len(content_losses),
        seconds,
        provenance,
    )
