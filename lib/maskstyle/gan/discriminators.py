"""Discriminator builders shared by the GAN papers.

- :class:`ConvDiscriminator` - a stack of ``k x k`` strided convolutions with LeakyReLU:
  with ``head="patch"`` a PatchGAN (pix2pix: 64/128/256/512, strides 2/2/2/1, a 1-channel
  conv giving a score per overlapping patch); with ``head="linear"`` a DCGAN/GeneGAN-style
  critic (GeneGAN's official code: 128/256/512/512, all stride 2, BN from the second conv,
  flatten, one linear unit). The output size of each conv is
  ``floor((n + 2p - k) / s) + 1``.
- :class:`MultiscaleDiscriminator` - pix2pixHD/SPADE: ``K`` copies of a discriminator, the
  ``k``-th seeing the input average-pooled ``k`` times (3x3, stride 2).
- :class:`StarGANDiscriminator` - StarGAN (Choi et al. 2018, Sec. 3 and appendix): six
  4x4 stride-2 convs (LeakyReLU 0.01), a 3x3 conv giving the source map ``D_src`` and a
  conv spanning the whole remaining map giving the domain logits ``D_cls`` (auxiliary
  classifier, Eq. 2-3).

Spectral norm (Miyato et al. 2018: ``W / sigma(W)`` with ``sigma`` the largest singular
value, estimated by one power iteration per forward) is optional on every conv/linear, via
``torch.nn.utils.parametrizations.spectral_norm`` (:func:`maybe_spectral_norm`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

NORMS = ("batch", "instance", "none")


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """``module`` with spectral norm on its weight when ``enabled`` (else unchanged)."""
    return spectral_norm(module) if enabled else module


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    return nn.Identity()


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """``floor((n + 2p - k) / s) + 1``."""
    return (size + 2 * padding - kernel) // stride + 1


class ConvDiscriminator(nn.Module):
    """Strided convolutions -> a patch score map (``head="patch"``) or one score
    (``head="linear"``, needs ``input_size``).

    ``norm`` applies to every conv except the first (pix2pix, DCGAN and GeneGAN's code all
    leave the first conv un-normalised). ``forward(x, return_features=True)`` also returns
    the activation after each conv block (for :func:`~maskstyle.gan.losses.feature_matching_loss`).
    """

    def __init__(
        self,
        in_channels: int = 3,
        channels: Sequence[int] = (64, 128, 256, 512),
        strides: Sequence[int] | None = None,
        kernel_size: int = 4,
        padding: int = 1,
        norm: str = "batch",
        head: str = "patch",
        input_size: int | None = None,
        negative_slope: float = 0.2,
        spectral: bool = False,
        out_channels: int = 1,
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if head not in ("patch", "linear"):
            raise ValueError(f"head must be 'patch' or 'linear', got {head!r}")
        channels = list(channels)
        if not channels:
            raise ValueError("channels must list at least one conv width")
        strides = [2] * len(channels) if strides is None else list(strides)
        if len(strides) != len(channels):
            raise ValueError(f"{len(strides)} strides for {len(channels)} convs")
        blocks, previous, size = [], in_channels, input_size
        for i, (width, stride) in enumerate(zip(channels, strides)):
            conv = nn.Conv2d(previous, width, kernel_size, stride, padding, bias=norm != "batch")
            layers = [maybe_spectral_norm(conv, spectral)]
            if i > 0:
                layers.append(_norm(norm, width))
            layers.append(nn.LeakyReLU(negative_slope))
            blocks.append(nn.Sequential(*layers))
            previous = width
            if size is not None:
                size = conv_output_size(size, kernel_size, stride, padding)
        self.blocks = nn.ModuleList(blocks)
        self.head_kind = head
        if head == "patch":
            self.head = maybe_spectral_norm(
                nn.Conv2d(previous, out_channels, kernel_size, 1, padding), spectral
            )
        else:
            if size is None:
                raise ValueError("head='linear' needs input_size (the image side in pixels)")
            if size < 1:
                raise ValueError(f"input_size {input_size} is too small for {len(channels)} convs")
            linear = nn.Linear(previous * size * size, out_channels)
            self.head = maybe_spectral_norm(linear, spectral)
        self.input_size = input_size

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        if self.input_size is not None and tuple(x.shape[-2:]) != (self.input_size,) * 2:
            raise ValueError(
                f"this discriminator was built for {self.input_size} px images, got "
                f"{tuple(x.shape[-2:])}; build it with input_size={x.shape[-1]}"
            )
        features = []
        h = x
        for block in self.blocks:
            h = block(h)
            features.append(h)
        if self.head_kind == "patch":
            out = self.head(h)
        else:
            out = self.head(h.flatten(1))  # [B, C*h*w] -> [B, out]
        return (out, features) if return_features else out


class MultiscaleDiscriminator(nn.Module):
    """``num_scales`` discriminators from ``build()``; scale ``k`` sees ``x`` average-pooled
    ``k`` times (3x3, stride 2, padding 1, pix2pixHD). Returns a list of outputs (and, with
    ``return_features``, a list of feature lists)."""

    def __init__(self, build: Callable[[], nn.Module], num_scales: int = 2) -> None:
        super().__init__()
        if num_scales < 1:
            raise ValueError(f"num_scales must be >= 1, got {num_scales}")
        self.discriminators = nn.ModuleList(build() for _ in range(num_scales))

    def forward(self, x: torch.Tensor, return_features: bool = False):
        outputs, features = [], []
        for k, d in enumerate(self.discriminators):
            if k > 0:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            if return_features:
                out, feats = d(x, return_features=True)
                features.append(feats)
            else:
                out = d(x)
            outputs.append(out)
        return (outputs, features) if return_features else outputs


class StarGANDiscriminator(nn.Module):
    """StarGAN's PatchGAN with an auxiliary classifier: ``x -> (D_src [B, 1, H/2^n, W/2^n],
    D_cls [B, num_classes])`` with ``n = repeat_num`` 4x4 stride-2 convs (64, 128, ...).

    ``norm`` (default ``"none"``, StarGAN's) adds a normalisation after every conv; a critic
    trained with a gradient penalty should keep ``"none"`` (the penalty is per sample, batch
    norm couples the samples), an attribute classifier may use ``"batch"``."""

    def __init__(
        self,
        image_size: int = 128,
        num_classes: int = 5,
        conv_dim: int = 64,
        repeat_num: int = 6,
        spectral: bool = False,
        norm: str = "none",
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if image_size % (2**repeat_num):
            raise ValueError(
                f"image_size {image_size} must be divisible by 2**repeat_num = {2**repeat_num}"
            )
        layers: list[nn.Module] = []
        width = 3
        for i in range(repeat_num):
            out = conv_dim * 2**i
            layers.append(maybe_spectral_norm(nn.Conv2d(width, out, 4, 2, 1), spectral))
            if norm != "none":  # (no Identity: keeps StarGAN's parameter names)
                layers.append(_norm(norm, out))
            layers.append(nn.LeakyReLU(0.01))
            width = out
        self.main = nn.Sequential(*layers)
        final = image_size // 2**repeat_num
        self.src = maybe_spectral_norm(nn.Conv2d(width, 1, 3, 1, 1, bias=False), spectral)
        self.cls = maybe_spectral_norm(nn.Conv2d(width, num_classes, final, bias=False), spectral)
        self.image_size, self.num_classes = image_size, num_classes

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[-2:]) != (self.image_size,) * 2:
            raise ValueError(
                f"StarGANDiscriminator was built for {self.image_size} px, "
                f"got {tuple(x.shape[-2:])}"
            )
        h = self.main(x)
        return self.src(h), self.cls(h).flatten(1)  # [B, 1, h, w], [B, num_classes]


__all__ = [
    "ConvDiscriminator",
    "MultiscaleDiscriminator",
    "NORMS",
    "StarGANDiscriminator",
    "conv_output_size",
    "maybe_spectral_norm",
]
