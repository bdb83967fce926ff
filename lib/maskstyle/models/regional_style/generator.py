"""Label-map-conditioned generators: SEAN's (the paper's decoder, Section 3.3), SPADE's,
CLADE's and CLADE-ICPE's (baselines), all from one residual up-sampling trunk.

SPADE/SEAN trunk (official ``SPADEGenerator``): the label map downsampled to
``image_size / 2^num_up`` goes through a 3x3 conv to ``16 ngf`` channels (SEAN), or a global
style ``z`` through a linear layer to that map (SPADE/CLADE VAE mode); then a normalised
residual block at that size and ``num_up`` (nearest x2 upsample, residual block) stages with
widths halving down to ``ngf``; LeakyReLU(0.2), a 3x3 conv to RGB and tanh. Each residual
block is ``norm -> lrelu -> conv3x3`` twice, with a learned ``norm -> conv1x1`` shortcut when
the width changes. In SEAN, the norms are :class:`maskstyle.nn.sean.SEAN` except in the last
up-block, which is plain :class:`maskstyle.nn.spade.SPADE` (as in the official code).
Spectral norm on the convs. ``param_norm`` is the parameter-free normalisation inside every
conditional norm: ``"batch"`` is the official SPADE/SEAN generator's default
(``norm_G = spectralspadesyncbatch3x3``, synchronised batch norm), ``"instance"`` its
``spadeinstance3x3`` option. Instance norm removes each image's per-channel mean and scale at
every block, so the absolute colour of a region has to be re-encoded in spatial contrasts
between regions; with batch norm it passes through. Outputs are in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.nn.masks import resize_labels
from maskstyle.nn.sean import SEAN
from maskstyle.nn.spade import CLADE, SPADE

NORMS = ("sean", "spade", "clade", "clade_icpe")


def _sn(module: nn.Module, spectral: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(module) if spectral else module


class NormResBlock(nn.Module):
    """SPADE's residual block with a pluggable conditional norm ``norm(x, labels, codes)``."""

    def __init__(self, fin: int, fout: int, make_norm, spectral: bool = True) -> None:
        super().__init__()
        mid = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.conv_0 = _sn(nn.Conv2d(fin, mid, 3, padding=1), spectral)
        self.conv_1 = _sn(nn.Conv2d(mid, fout, 3, padding=1), spectral)
        self.norm_0, self.norm_1 = make_norm(fin), make_norm(mid)
        if self.learned_shortcut:
            self.conv_s = _sn(nn.Conv2d(fin, fout, 1, bias=False), spectral)
            self.norm_s = make_norm(fin)

    def forward(self, x: torch.Tensor, labels: torch.Tensor, codes) -> torch.Tensor:
        shortcut = self.conv_s(self.norm_s(x, labels, codes)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, labels, codes), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, labels, codes), 0.2))
        return shortcut + dx


class RegionalGenerator(nn.Module):
    """``forward(labels, style)`` -> images ``[B, 3, image_size, image_size]`` in [-1, 1].

    ``norm="sean"``: ``style`` is the style matrix ``[B, num_classes, style_dim]``.
    ``norm="spade"``/``"clade"``/``"clade_icpe"``: ``style`` is a global code ``[B, z_dim]``
    (VAE mode) or ``None`` (the trunk starts from the label map, as SEAN does).
    """

    def __init__(
        self,
        num_classes: int,
        image_size: int = 256,
        ngf: int = 64,
        num_up: int = 5,
        norm: str = "sean",
        style_dim: int = 512,
        z_dim: int = 256,
        hidden: int = 128,
        spectral: bool = True,
        noise: bool = True,
        param_norm: str = "instance",
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if image_size % (2**num_up):
            raise ValueError(f"image_size {image_size} must be divisible by 2^num_up = {2**num_up}")
        self.num_classes, self.image_size, self.norm_kind = num_classes, image_size, norm
        self.style_dim, self.z_dim, self.num_up = style_dim, z_dim, num_up
        self.start = image_size // 2**num_up
        widths = [ngf * min(16, 2 ** (num_up - i)) for i in range(num_up + 1)]

        def make(kind: str):
            def build(channels: int) -> nn.Module:
                if kind == "sean":
                    return SEAN(
                        channels, num_classes, style_dim, hidden, norm=param_norm, noise=noise
                    )
                if kind in ("clade", "clade_icpe"):
                    return CLADE(channels, num_classes, norm=param_norm, icpe=kind == "clade_icpe")
                return SPADE(channels, num_classes, hidden, norm=param_norm)

            return build

        last = "spade" if norm == "sean" else norm
        self.fc_labels = _sn(nn.Conv2d(num_classes, widths[0], 3, padding=1), spectral)
        self.fc_z = nn.Linear(z_dim, widths[0] * self.start**2) if norm != "sean" else None
        self.head = NormResBlock(widths[0], widths[0], make(norm), spectral)
        self.ups = nn.ModuleList(
            NormResBlock(
                widths[i], widths[i + 1], make(last if i == num_up - 1 else norm), spectral
            )
            for i in range(num_up)
        )
        self.to_rgb = nn.Conv2d(widths[-1], 3, 3, padding=1)

    def forward(self, labels: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        from maskstyle.models.regional_style.encoder import check_image_labels

        if labels.dim() != 3 or tuple(labels.shape[-2:]) != (self.image_size,) * 2:
            raise ValueError(
                f"labels must be [B, {self.image_size}, {self.image_size}] for this generator, "
                f"got {tuple(labels.shape)}"
            )
        b = labels.shape[0]
        check_image_labels(
            labels.new_zeros(b, 1, *labels.shape[-2:]).float(), labels, self.num_classes
        )
        if self.norm_kind == "sean":
            if style is None or style.shape != (b, self.num_classes, self.style_dim):
                got = None if style is None else tuple(style.shape)
                raise ValueError(
                    f"SEAN needs a style matrix [{b}, {self.num_classes}, {self.style_dim}], "
                    f"got {got}"
                )
        if self.fc_z is not None and style is not None:
            if style.shape != (b, self.z_dim):
                raise ValueError(
                    f"style must be a code [{b}, {self.z_dim}], got {tuple(style.shape)}"
                )
            x = self.fc_z(style).view(b, -1, self.start, self.start)
        else:
            small = resize_labels(labels, self.start)
            onehot = F.one_hot(small, self.num_classes).permute(0, 3, 1, 2).float()
            x = self.fc_labels(onehot)
        x = self.head(x, labels, style)
        for block in self.ups:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = block(x, labels, style)
        return torch.tanh(self.to_rgb(F.leaky_relu(x, 0.2)))


__all__ = ["NORMS", "NormResBlock", "RegionalGenerator"]
