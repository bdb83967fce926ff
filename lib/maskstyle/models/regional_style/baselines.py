"""Baselines in the same code base: SPADE, CLADE and CLADE-ICPE (global VAE style code), and
a pix2pixHD-style generator with an instance-wise pooling encoder. The GroupDNet-style
grouped encoder is :mod:`maskstyle.models.regional_style.groupdnet`.

- **SPADE** (Park et al. 2019) in VAE mode: a convolutional image encoder (3x3 stride-2
  convs, instance norm, LeakyReLU, then ``mu``/``log var`` heads of size ``z_dim``) gives a
  *global* style code ``z``; the generator (:class:`RegionalGenerator`, ``norm="spade"``)
  starts from ``z`` through a linear layer. KL weight 0.05 (SPADE). Multi-modal synthesis
  samples ``z ~ N(0, I)``: it changes the whole face, hence SPADE's high mOCD (Table 4).
- **CLADE** (Tan et al. 2021): the same with class-adaptive normalisation (``norm="clade"``).
- **CLADE-ICPE** (Tan et al. 2021): CLADE whose class-adaptive scale and shift are modulated
  by the intra-class positional encoding (``norm="clade_icpe"``; :mod:`maskstyle.nn.icpe`,
  :class:`maskstyle.nn.spade.CLADE` with ``icpe=True``).
- **pix2pixHD** (Wang et al. 2018): an encoder-decoder gives a ``feat_dim``-channel (3 in
  pix2pixHD) feature map, average-pooled per region (instance-wise pooling,
  :func:`maskstyle.nn.region_average_pool`) and broadcast back; the generator sees
  ``[one_hot(m), features]`` (a global generator: 7x7 conv, two stride-2 convs, residual
  blocks, two transposed convs, 7x7 conv, tanh). Regional transfer swaps pooled rows.

Each has ``reconstruct(images, labels)`` and ``sample(images, labels, n, group)`` (images in
[0, 1]) so the notebooks compare them with :class:`RegionalStyleNet` through one interface.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.data.labels import NUM_CLASSES
from maskstyle.models.regional_style.attention import swap_regions
from maskstyle.models.regional_style.encoder import check_image_labels
from maskstyle.models.regional_style.generator import RegionalGenerator
from maskstyle.nn.region_pool import region_average_pool
from maskstyle.nn.region_stats import broadcast_regions

KL_WEIGHT = 0.05
GLOBAL_NORMS = ("spade", "clade", "clade_icpe")
"""The generators' norms whose baselines encode one global VAE style code."""


class ConvEncoder(nn.Module):
    """SPADE's image encoder: stride-2 3x3 convs to a 4x4 map, then ``mu``/``logvar``."""

    def __init__(self, image_size: int, ndf: int = 64, z_dim: int = 256) -> None:
        super().__init__()
        layers, c_in, size = [], 3, image_size
        for i in range(6):
            if size <= 4:
                break
            c_out = ndf * 2 ** min(i, 3)
            layers += [
                nn.utils.parametrizations.spectral_norm(nn.Conv2d(c_in, c_out, 3, 2, 1)),
                nn.InstanceNorm2d(c_out),
                nn.LeakyReLU(0.2),
            ]
            c_in, size = c_out, size // 2
        self.net = nn.Sequential(*layers)
        self.fc_mu = nn.Linear(c_in * size * size, z_dim)
        self.fc_var = nn.Linear(c_in * size * size, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(x).flatten(1)
        return self.fc_mu(h), self.fc_var(h)


class SPADEBaseline(nn.Module):
    """SPADE (``norm="spade"``), CLADE (``"clade"``) or CLADE-ICPE (``"clade_icpe"``) with a
    VAE style encoder."""

    def __init__(
        self,
        norm: str = "spade",
        num_classes: int = NUM_CLASSES,
        image_size: int = 256,
        ngf: int = 64,
        num_up: int = 5,
        z_dim: int = 256,
        ndf: int = 64,
        hidden: int = 128,
        param_norm: str = "instance",
    ) -> None:
        super().__init__()
        if norm not in GLOBAL_NORMS:
            raise ValueError(f"norm must be one of {GLOBAL_NORMS}, got {norm!r}")
        self.num_classes, self.z_dim = num_classes, z_dim
        self.encoder = ConvEncoder(image_size, ndf, z_dim)
        self.generator = RegionalGenerator(
            num_classes, image_size, ngf, num_up, norm=norm, z_dim=z_dim, hidden=hidden,
            param_norm=param_norm
        )  # fmt: skip

    def encode(self, images: torch.Tensor, labels: torch.Tensor):
        check_image_labels(images, labels, self.num_classes)
        return self.encoder(images * 2 - 1)

    def forward(self, images: torch.Tensor, labels: torch.Tensor):
        """Training pass: ``(output in [0, 1], KL term)`` with a reparameterised ``z``."""
        mu, logvar = self.encode(images, labels)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        kl = -0.5 * torch.mean(1 + logvar - mu.square() - logvar.exp())
        return (self.generator(labels, z) + 1) / 2, kl

    def reconstruct(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        mu, _ = self.encode(images, labels)
        return (self.generator(labels, mu) + 1) / 2

    def sample(self, images: torch.Tensor, labels: torch.Tensor, n: int, group: str = "skin"):
        """``[B, n, 3, H, W]``: ``n`` random global styles per label map (``group`` is
        ignored: SPADE/CLADE/CLADE-ICPE cannot restyle one region)."""
        b = labels.shape[0]
        z = torch.randn(b * n, self.z_dim, device=labels.device)
        out = self.generator(labels.repeat_interleave(n, 0), z)
        return ((out + 1) / 2).view(b, n, *out.shape[1:])


class _ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Pix2PixHDBaseline(nn.Module):
    """pix2pixHD-style generator with instance-wise pooled features (module docstring)."""

    def __init__(
        self,
        num_classes: int = NUM_CLASSES,
        ngf: int = 64,
        feat_dim: int = 3,
        blocks: int = 3,
    ) -> None:
        super().__init__()
        self.num_classes, self.feat_dim = num_classes, feat_dim
        self.feature_net = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, ngf // 2, 7), nn.InstanceNorm2d(ngf // 2),
            nn.ReLU(), nn.Conv2d(ngf // 2, ngf, 3, 2, 1), nn.InstanceNorm2d(ngf), nn.ReLU(),
            nn.ConvTranspose2d(ngf, ngf // 2, 3, 2, 1, output_padding=1),
            nn.InstanceNorm2d(ngf // 2), nn.ReLU(), nn.ReflectionPad2d(3),
            nn.Conv2d(ngf // 2, feat_dim, 7), nn.Tanh(),
        )  # fmt: skip
        c_in = num_classes + feat_dim
        self.generator = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(c_in, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(),
            nn.Conv2d(ngf, 2 * ngf, 3, 2, 1), nn.InstanceNorm2d(2 * ngf), nn.ReLU(),
            nn.Conv2d(2 * ngf, 4 * ngf, 3, 2, 1), nn.InstanceNorm2d(4 * ngf), nn.ReLU(),
            *[_ResBlock(4 * ngf) for _ in range(blocks)],
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, 2, 1, output_padding=1),
            nn.InstanceNorm2d(2 * ngf), nn.ReLU(),
            nn.ConvTranspose2d(2 * ngf, ngf, 3, 2, 1, output_padding=1),
            nn.InstanceNorm2d(ngf), nn.ReLU(),
            nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh(),
        )  # fmt: skip

    def encode(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Instance-wise pooled features ``[B, K, feat_dim]``."""
        check_image_labels(images, labels, self.num_classes)
        return region_average_pool(self.feature_net(images * 2 - 1), labels, self.num_classes)

    def decode(self, labels: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(labels, self.num_classes).permute(0, 3, 1, 2).float()
        x = torch.cat([onehot, broadcast_regions(codes, labels)], 1)
        return (self.generator(x) + 1) / 2

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.decode(labels, self.encode(images, labels))

    reconstruct = forward

    def transfer(self, target, target_labels, reference, reference_labels, regions):
        s_t = self.encode(target, target_labels)
        s_r = self.encode(reference, reference_labels)
        return self.decode(target_labels, swap_regions(s_t, s_r, regions))


__all__ = ["GLOBAL_NORMS", "KL_WEIGHT", "ConvEncoder", "Pix2PixHDBaseline", "SPADEBaseline"]
