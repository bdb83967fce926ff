"""GroupDNet's grouped style encoder (Zhu et al. 2020, "Semantically multi-modal image
synthesis", Sec. 3.2): one group of convolutions per semantic class.

The image ``x`` (in [-1, 1]) is split into ``K`` class-masked copies ``x * M_k`` stacked
along channels (``[B, 3K, H, W]``, class-major); every convolution has ``groups=K``, so
group ``k`` sees only class ``k``'s masked image and class ``k``'s code depends on nothing
else - the property that lets GroupDNet resample one class's style:

    (mu_k, log sigma_k^2) = E_k(x * M_k),   k = 1..K         (GroupDNet, grouped VAE encoder)

Layers (GroupDNet's ``GroupDNetStyleEncoder``, narrowed): stride-2 3x3 grouped convs with
spectral norm, instance norm and LeakyReLU(0.2) down to a 4x4 map, per-class widths
``ngf, 2 ngf, 4 ngf, 4 ngf, ...``; then **our reading:** a grouped convolution whose kernel
covers the whole 4x4 map (a per-class linear layer) gives one ``z_dim`` vector per class,
``mu, logvar [B, K, z_dim]`` - GroupDNet keeps a spatial latent for its own group-decreasing
decoder, we feed SEAN-style per-region modulation (:class:`RegionalGenerator`) instead.
"""

from __future__ import annotations

import torch
from torch import nn

from maskstyle.nn.masks import one_hot_labels


def _sn(module: nn.Module) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(module)


class GroupedEncoder(nn.Module):
    """``forward(x [B, 3, H, W] in [-1, 1], labels [B, H, W])`` -> ``mu, logvar [B, K, z]``."""

    def __init__(self, num_classes: int, image_size: int, ngf: int = 16, z_dim: int = 64) -> None:
        super().__init__()
        if image_size < 4 or image_size & (image_size - 1):
            raise ValueError(f"image_size must be a power of two >= 4, got {image_size}")
        self.num_classes, self.z_dim, self.image_size = num_classes, z_dim, image_size
        k = num_classes
        layers: list[nn.Module] = []
        width, size, i = 3, image_size, 0
        while size > 4:
            out = ngf * 2 ** min(i, 2)
            layers += [
                _sn(nn.Conv2d(k * width, k * out, 3, 2, 1, groups=k)),
                nn.InstanceNorm2d(k * out),
                nn.LeakyReLU(0.2),
            ]
            width, size, i = out, size // 2, i + 1
        self.net = nn.Sequential(*layers)
        self.fc_mu = nn.Conv2d(k * width, k * z_dim, size, groups=k)
        self.fc_var = nn.Conv2d(k * width, k * z_dim, size, groups=k)

    def masked_stack(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``[B, 3K, H, W]``: channels ``3k..3k+2`` hold ``x * M_k`` (class ``k``'s pixels)."""
        masks = one_hot_labels(labels, self.num_classes)  # [B, K, H, W]
        return (x[:, None] * masks[:, :, None]).flatten(1, 2)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[-2:]) != (self.image_size,) * 2:
            raise ValueError(
                f"images must be {self.image_size} x {self.image_size} for this encoder, got "
                f"{tuple(x.shape[-2:])}"
            )
        h = self.net(self.masked_stack(x, labels))
        b = x.shape[0]
        # GroupDNet: each class's (mu, log var) from its own group of filters
        mu = self.fc_mu(h).view(b, self.num_classes, self.z_dim)
        logvar = self.fc_var(h).view(b, self.num_classes, self.z_dim)
        return mu, logvar


__all__ = ["GroupedEncoder"]
