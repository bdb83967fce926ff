"""Style encoders: SEAN's bottleneck encoder and the paper's multi-scale encoder
(harmonized regional style transfer, Section 3.1, Eqs. 1-2).

SEAN's encoder (reference notes; official ``Zencoder``): ``ngf = 32``; a 3x3 conv, two
stride-2 3x3 convs, one stride-2 transposed conv up, instance norm and LeakyReLU(0.2) after
each, then a 3x3 conv to ``style_dim`` (512) with tanh. Its layers give ``K = 5`` feature
maps ``F_1..F_5`` (``ngf`` at ``H``, ``2 ngf`` at ``H/2``, ``4 ngf`` at ``H/4``, ``8 ngf`` at
``H/2``, ``style_dim`` at ``H/2``). SEAN pools only ``F_5``; the paper fuses all of them:

    {alpha_i} = softmax({a_i})                                   (Eq. 1)
    F = sum_i alpha_i F_i                                        (Eq. 2)

then region-wise average pooling turns ``F`` into the ``[B, regions, style_dim]`` style
matrix. **Our reading:** Eq. 2 needs every ``F_i`` with the same channels and size; the
paper only says they are "re-scaled to a unified resolution". We project ``F_1..F_4`` to
``style_dim`` channels with a 1x1 conv + tanh (the same range as ``F_5``'s tanh) and resize
every map (bilinear) to ``F_1``'s size, the input's (``resolution="input"``, the default):
the paper fuses the shallow layers because "the low-level features ... are important for
image reconstruction", and pooling at the input's resolution keeps the regions that
nearest-neighbour downsampling of the label map drops (at 64 px, half of the face world's
brows and a third of its lips have no pixel at ``H/2``, so SEAN gives them a zero code).
``resolution="last"`` fuses at ``F_5``'s size, ``H/2``, as SEAN pools.
``fusion="linear"`` uses the raw ``a_i`` (initialised ``1/K``) without softmax ("ours w/o
softmax"); ``fusion="last"`` is SEAN (``F_5`` only, pooled at ``H/2``). The paper does not
say how the ``a_i`` start. Equal weights are the default;
``last_scale_weight=w`` starts ``F_5`` (SEAN's feature) at weight ``w`` and shares ``1 - w``
equally among ``F_1..F_4``, so that the fused encoder starts near SEAN's and learns how much of
the shallow features to mix in (softmax: ``a_5 = log(w (K - 1) / (1 - w))``, the others 0).
Spectral norm on every conv of the encoder (SPADE/SEAN, paper Sec. 4.2). ``norm="instance"``
is SEAN's encoder; ``norm="none"`` drops its instance norms, which subtract every image's
per-channel mean after the first conv and so discard the image's mean colour before any
region is pooled (the generator then has to guess it; see the cpu profile's notes).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.nn.region_pool import region_average_pool

FUSIONS = ("softmax", "linear", "last")
RESOLUTIONS = ("input", "last")
ENCODER_NORMS = ("instance", "none")


def _sn(module: nn.Module, spectral: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(module) if spectral else module


def check_image_labels(images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
    """Raise a clear error unless ``images [B, 3, H, W]`` and ``labels [B, H, W]`` match."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be [B, C, H, W], got {got}")
    if not isinstance(labels, torch.Tensor) or labels.dim() != 3:
        got = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be an int64 label map [B, H, W], got {got}")
    if labels.shape[0] != images.shape[0] or labels.shape[-2:] != images.shape[-2:]:
        raise ValueError(
            f"labels {tuple(labels.shape)} do not match images {tuple(images.shape)}: pass one "
            "[H, W] label map per image at the image's size"
        )
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"labels must hold integer class ids (int64), got {labels.dtype}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}) for num_classes={num_classes}, got "
            f"[{int(labels.min())}, {int(labels.max())}]; fix the map or raise num_classes"
        )


def initial_scale_logits(k: int, fusion: str, last_scale_weight: float | None) -> torch.Tensor:
    """Eq. 1's learnable scalars ``a_1..a_K`` at the start of training.

    ``None``: equal weights (softmax of zeros, or ``1/K`` each for ``"linear"``). A weight
    ``w`` gives ``F_K`` the fusion weight ``w`` and each other scale ``(1 - w) / (K - 1)``."""
    if last_scale_weight is None:
        return torch.zeros(k) if fusion == "softmax" else torch.full((k,), 1.0 / k)
    if fusion == "last":
        raise ValueError("last_scale_weight applies to fusion 'softmax' or 'linear', not 'last'")
    w = float(last_scale_weight)
    if not 0.0 < w < 1.0:
        raise ValueError(f"last_scale_weight must lie in (0, 1), got {w}; use None for equal")
    if fusion == "linear":
        init = torch.full((k,), (1.0 - w) / (k - 1))
        init[-1] = w
        return init
    init = torch.zeros(k)
    init[-1] = torch.log(torch.tensor(w * (k - 1) / (1.0 - w)))
    return init


class MultiScaleStyleEncoder(nn.Module):
    """Image + label map -> style matrix ``[B, num_classes, style_dim]`` (Eqs. 1-2).

    ``forward(images, labels)`` returns the style matrix; :meth:`fused` the fused map ``F``;
    :meth:`fusion_weights` the ``alpha_i`` of Eq. 1.
    """

    def __init__(
        self,
        num_classes: int,
        style_dim: int = 512,
        ngf: int = 32,
        in_channels: int = 3,
        fusion: str = "softmax",
        spectral: bool = True,
        norm: str = "instance",
        last_scale_weight: float | None = None,
        resolution: str = "input",
    ) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {resolution!r}")
        self.resolution = resolution
        if norm not in ENCODER_NORMS:
            raise ValueError(f"norm must be one of {ENCODER_NORMS}, got {norm!r}")
        self.num_classes, self.style_dim, self.fusion = num_classes, style_dim, fusion

        def block(conv: nn.Module, out: int) -> nn.Sequential:
            normalise = nn.InstanceNorm2d(out) if norm == "instance" else nn.Identity()
            return nn.Sequential(_sn(conv, spectral), normalise, nn.LeakyReLU(0.2))

        self.layers = nn.ModuleList(
            [
                nn.Sequential(nn.ReflectionPad2d(1), block(nn.Conv2d(in_channels, ngf, 3), ngf)),
                block(nn.Conv2d(ngf, 2 * ngf, 3, 2, 1), 2 * ngf),
                block(nn.Conv2d(2 * ngf, 4 * ngf, 3, 2, 1), 4 * ngf),
                block(nn.ConvTranspose2d(4 * ngf, 8 * ngf, 3, 2, 1, output_padding=1), 8 * ngf),
                nn.Sequential(
                    nn.ReflectionPad2d(1),
                    _sn(nn.Conv2d(8 * ngf, style_dim, 3), spectral),
                    nn.Tanh(),
                ),
            ]
        )
        widths = (ngf, 2 * ngf, 4 * ngf, 8 * ngf)
        # SEAN ("last") uses F_5 only: no projections to train or store.
        self.projections = nn.ModuleList(
            nn.Sequential(_sn(nn.Conv2d(w, style_dim, 1), spectral), nn.Tanh())
            for w in (widths if fusion != "last" else ())
        )
        init = initial_scale_logits(len(self.layers), fusion, last_scale_weight)
        self.scale_logits = nn.Parameter(init, requires_grad=fusion != "last")

    def fusion_weights(self) -> torch.Tensor:
        """``alpha [K]``: softmax of the ``a_i`` (Eq. 1), the raw ``a_i`` for ``"linear"``, or
        one-hot on the last layer for ``"last"`` (SEAN)."""
        if self.fusion == "softmax":
            return torch.softmax(self.scale_logits, 0)  # Eq. 1
        if self.fusion == "linear":
            return self.scale_logits
        return F.one_hot(torch.tensor(len(self.layers) - 1), len(self.layers)).to(self.scale_logits)

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """``[F_1 .. F_K]`` at the unified resolution (``F_1``'s for ``resolution="input"``,
        ``F_K``'s for ``"last"`` and for SEAN), each ``[B, style_dim, h, w]``."""
        raw, h = [], images
        for layer in self.layers:
            h = layer(h)
            raw.append(h)
        at_input = self.resolution == "input" and self.fusion != "last"  # SEAN: F_5's size
        size = (raw[0] if at_input else raw[-1]).shape[-2:]
        maps = [proj(f) for f, proj in zip(raw[:-1], self.projections)] + [raw[-1]]
        return [
            m if m.shape[-2:] == size
            else F.interpolate(m, size=size, mode="bilinear", align_corners=False)
            for m in maps
        ]  # fmt: skip

    def fused(self, images: torch.Tensor) -> torch.Tensor:
        """The multi-scale style feature map ``F`` of Eq. 2, ``[B, style_dim, h, w]`` at the
        unified resolution (SEAN, ``fusion="last"``: ``F_5`` at ``H/2``)."""
        if self.fusion == "last":
            h = images
            for layer in self.layers:
                h = layer(h)
            return h
        alpha = self.fusion_weights()
        stacked = torch.stack(self.features(images), 0)  # [K, B, D, h, w]
        # Eq. 2: F = sum_i alpha_i F_i
        return torch.einsum("k,kbdhw->bdhw", alpha, stacked)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        check_image_labels(images, labels, self.num_classes)
        return region_average_pool(self.fused(images), labels, self.num_classes)


__all__ = [
    "ENCODER_NORMS",
    "FUSIONS",
    "RESOLUTIONS",
    "MultiScaleStyleEncoder",
    "check_image_labels",
]
