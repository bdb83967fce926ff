"""SPADE and CLADE: normalisation whose affine parameters come from the label map.

SPADE (Park et al. 2019, Eq. 1): a parameter-free normalisation of the activation
``h [B, C, H, W]`` followed by a per-pixel affine map predicted from the label map ``m``,

    out = (h - mu_c) / sigma_c * (1 + gamma(m)) + beta(m),
    gamma(m), beta(m) = conv3x3(ReLU(conv3x3(one_hot(m)))) (two heads on a shared conv).

The official code writes ``x_hat * (1 + gamma) + beta`` (so a zero-initialised ``gamma``
is the identity); we follow it. ``norm`` is ``"instance"`` (SPADE/SEAN's face setting
``spadeinstance3x3``) or ``"batch"`` (``spadebatch3x3``), both without affine parameters.

CLADE (Tan et al. 2021, Eq. 4): the same, but ``gamma`` and ``beta`` are a learned vector
per *class* (an embedding lookup broadcast into the class's pixels) instead of convolutions
over the label map: semantic-adaptive, not spatially adaptive. Implemented as one gather
with :func:`maskstyle.nn.region_stats.broadcast_regions`.

CLADE-ICPE (Tan et al. 2021, ICPE; ``CLADE(..., icpe=True)``): the class-adaptive scale and
shift are modulated per pixel by the intra-class positional map ``P`` of
:func:`maskstyle.nn.icpe.intra_class_positions` through two zero-initialised 1x1 convs
``2 -> 1`` (official ``ClassAffine(add_dist=True)``):

    scale(i) = (1 + gamma_{m(i)}) (1 + w_gamma . P(i) + b_gamma),
    shift(i) = beta_{m(i)} (1 + w_beta . P(i) + b_beta).

**Our reading:** the official code multiplies its class weight (initialised U(0, 1), no
``1 +``) by ``1 + conv(P)``; we keep the ``1 + gamma`` form of the rest of this module and
modulate that whole scale, so a fresh layer is exactly CLADE. ``P`` is computed from the
label map at the activation's size (the official code precomputes it at full resolution
and resizes it, nearest).
"""

from __future__ import annotations

import torch
from torch import nn

from maskstyle.nn.icpe import intra_class_positions
from maskstyle.nn.masks import check_label_map, one_hot_labels, resize_labels
from maskstyle.nn.region_stats import broadcast_regions, check_feature_map

NORM_KINDS = ("instance", "batch")


def param_free_norm(kind: str, channels: int) -> nn.Module:
    """Parameter-free normalisation: instance or batch norm without affine parameters."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=False)
    raise ValueError(f"norm must be one of {NORM_KINDS}, got {kind!r}")


def labels_at(x: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Check ``labels [B, H', W']`` against ``x [B, C, H, W]`` and ``num_classes``; return
    them resized to ``H x W`` (nearest neighbour)."""
    check_feature_map(x, "x")
    check_label_map(labels, name="labels")
    if labels.shape[0] != x.shape[0]:
        raise ValueError(
            f"labels hold {labels.shape[0]} maps but x has {x.shape[0]} samples; "
            "pass one label map per image"
        )
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}) for num_classes={num_classes}, got "
            f"[{int(labels.min())}, {int(labels.max())}]; raise num_classes or fix the map"
        )
    return resize_labels(labels, tuple(x.shape[-2:]))


class SPADEModulation(nn.Module):
    """``gamma(m), beta(m)``: the mask-driven half of SPADE (shared conv + two heads)."""

    def __init__(self, channels: int, num_classes: int, hidden: int = 128) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.shared = nn.Sequential(nn.Conv2d(num_classes, hidden, 3, padding=1), nn.ReLU())
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``labels`` already at the activation's size -> ``(gamma, beta)`` ``[B, C, H, W]``."""
        actv = self.shared(one_hot_labels(labels, self.num_classes))
        return self.gamma(actv), self.beta(actv)


class SPADE(nn.Module):
    """SPADE (Park et al. 2019, Eq. 1): ``norm(x) * (1 + gamma(m)) + beta(m)``."""

    def __init__(
        self, channels: int, num_classes: int, hidden: int = 128, norm: str = "instance"
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.norm = param_free_norm(norm, channels)
        self.modulation = SPADEModulation(channels, num_classes, hidden)

    def forward(self, x: torch.Tensor, labels: torch.Tensor, *_: object) -> torch.Tensor:
        labels = labels_at(x, labels, self.num_classes)
        gamma, beta = self.modulation(labels)
        # Eq. 1 (SPADE): x_hat * (1 + gamma) + beta
        return self.norm(x) * (1 + gamma) + beta


class CLADE(nn.Module):
    """CLADE (Tan et al. 2021, Eq. 4): ``norm(x) * (1 + gamma[m]) + beta[m]`` with one learned
    ``gamma``/``beta`` vector per class, broadcast into the class's pixels; ``icpe=True``
    adds CLADE-ICPE's intra-class positional modulation (module docstring)."""

    def __init__(
        self, channels: int, num_classes: int, norm: str = "instance", icpe: bool = False
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.norm = param_free_norm(norm, channels)
        self.gamma = nn.Parameter(torch.zeros(num_classes, channels))
        self.beta = nn.Parameter(torch.zeros(num_classes, channels))
        self.icpe_gamma = self.icpe_beta = None
        if icpe:
            self.icpe_gamma, self.icpe_beta = nn.Conv2d(2, 1, 1), nn.Conv2d(2, 1, 1)
            for conv in (self.icpe_gamma, self.icpe_beta):
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor, labels: torch.Tensor, *_: object) -> torch.Tensor:
        labels = labels_at(x, labels, self.num_classes)
        b = x.shape[0]
        gamma = broadcast_regions(self.gamma.expand(b, -1, -1), labels)
        beta = broadcast_regions(self.beta.expand(b, -1, -1), labels)
        scale = 1 + gamma
        if self.icpe_gamma is not None:
            pos = intra_class_positions(labels, self.num_classes).to(x.dtype)
            # ICPE: class-adaptive scale and shift modulated by the intra-class position
            scale = scale * (1 + self.icpe_gamma(pos))
            beta = beta * (1 + self.icpe_beta(pos))
        # Eq. 4 (CLADE): x_hat * (1 + gamma_{m(i)}) + beta_{m(i)}
        return self.norm(x) * scale + beta


__all__ = ["CLADE", "NORM_KINDS", "SPADE", "SPADEModulation", "labels_at", "param_free_norm"]
