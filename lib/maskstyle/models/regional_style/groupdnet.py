"""GroupDNet-style baseline (Zhu et al. 2020, "Semantically multi-modal image synthesis"):
a per-class VAE (:class:`GroupedEncoder`) whose codes drive SEAN-style per-region modulation.

- **Encoder:** one group of convolutions per class gives each class its own posterior
  ``N(mu_k, sigma_k^2)`` (:mod:`maskstyle.models.regional_style.grouped_encoder`).
- **Decoder, our reading:** GroupDNet's own decoder is a "group decreasing" network with
  conditional group normalisation. We reuse the SEAN generator
  (:class:`RegionalGenerator`, ``norm="sean"``): its per-region modulation consumes one code
  per class, which is what GroupDNet's decoder does with its per-class latents. This is also
  the "SEAN+GroupDNet" combination of the paper's Table 5 (GroupDNet's encoder and training
  strategy with the SEAN generator), so in this code base Table 4's GroupDNet row and
  Table 5's SEAN+GroupDNet row are the same model.
- **Training:** the VAE objective of SPADE/GroupDNet: the GAN, feature-matching and VGG losses
  of :mod:`maskstyle.models.regional_style.train` plus the KL term (weight 0.05)

      KL = mean over present classes k and dims of -1/2 (1 + log sigma_k^2 - mu_k^2 - sigma_k^2)

  **our reading:** averaged over the classes present in the label map (an absent class's
  code never reaches a pixel).
- **Multi-modal synthesis** (Table 4, "GroupDNet-style mapping" of Table 5,
  :class:`GroupDNetPrior`): the codes of the group's classes are drawn from the prior
  ``N(0, I)``, every other class keeps its posterior mean - only the group's region can
  change, hence GroupDNet's low mOCD.

Interface as the other baselines: ``reconstruct(images, labels)``, ``sample(images, labels,
n, group)``, ``transfer(target, target_labels, reference, reference_labels, regions)``;
images in [0, 1].
"""

from __future__ import annotations

import torch
from torch import nn

from maskstyle.data.labels import NUM_CLASSES
from maskstyle.models.regional_style.attention import swap_regions
from maskstyle.models.regional_style.encoder import check_image_labels
from maskstyle.models.regional_style.generator import RegionalGenerator
from maskstyle.models.regional_style.grouped_encoder import GroupedEncoder
from maskstyle.models.regional_style.mapping import DEFAULT_GROUPS, group_indices


class GroupDNetPrior(nn.Module):
    """The GroupDNet-style "mapping" of Table 5: a group's style rows are drawn straight
    from the VAE prior, ``z ~ N(0, I)`` of shape ``[n, len(group), style_dim]`` (no network:
    the grouped encoder's KL term makes the posterior codes live there). Same ``sample(group,
    n, generator)`` / ``insert`` interface as :class:`RegionalStyleMapping`."""

    def __init__(self, style_dim: int, groups: dict[str, tuple[str, ...]] | None = None) -> None:
        super().__init__()
        self.groups = dict(DEFAULT_GROUPS if groups is None else groups)
        self.indices = {name: group_indices(regions) for name, regions in self.groups.items()}
        self.style_dim = style_dim

    def _check_group(self, group: str) -> list[int]:
        if group not in self.indices:
            raise ValueError(f"unknown group {group!r}; this prior samples {sorted(self.indices)}")
        return self.indices[group]

    def sample(self, group: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws of ``group``'s rows from ``N(0, I)``."""
        idx = self._check_group(group)
        return torch.randn(n, len(idx), self.style_dim, generator=generator)

    def insert(self, styles: torch.Tensor, group: str, rows: torch.Tensor) -> torch.Tensor:
        """A copy of ``styles [B, K, D]`` with ``group``'s rows replaced by ``rows``."""
        idx = self._check_group(group)
        out = styles.clone()
        out[:, idx] = rows.to(styles)
        return out


class GroupDNetBaseline(nn.Module):
    """Grouped per-class VAE encoder + SEAN generator (see the module docstring)."""

    def __init__(
        self,
        num_classes: int = NUM_CLASSES,
        image_size: int = 256,
        ngf: int = 64,
        num_up: int = 5,
        z_dim: int = 64,
        encoder_ngf: int = 16,
        hidden: int = 128,
        param_norm: str = "instance",
    ) -> None:
        super().__init__()
        self.num_classes, self.z_dim = num_classes, z_dim
        self.encoder = GroupedEncoder(num_classes, image_size, encoder_ngf, z_dim)
        self.generator = RegionalGenerator(
            num_classes, image_size, ngf, num_up, norm="sean", style_dim=z_dim, hidden=hidden,
            param_norm=param_norm
        )  # fmt: skip
        self.prior = GroupDNetPrior(z_dim)

    def encode(self, images: torch.Tensor, labels: torch.Tensor):
        """Per-class posterior ``(mu, logvar)``, each ``[B, K, z_dim]``, of images in [0, 1]."""
        check_image_labels(images, labels, self.num_classes)
        return self.encoder(images * 2 - 1, labels)

    def present(self, labels: torch.Tensor) -> torch.Tensor:
        """``[B, K]`` bool: which classes each label map has."""
        k = self.num_classes
        return torch.zeros(labels.shape[0], k, dtype=torch.bool, device=labels.device).scatter_(
            1, labels.flatten(1), True
        )

    def decode(self, labels: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Generator output in [0, 1] for a label map and per-class codes ``[B, K, z_dim]``."""
        return (self.generator(labels, codes) + 1) / 2

    def forward(self, images: torch.Tensor, labels: torch.Tensor):
        """Training pass: ``(output in [0, 1], KL term)`` with reparameterised codes."""
        mu, logvar = self.encode(images, labels)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        kl_rows = -0.5 * (1 + logvar - mu.square() - logvar.exp()).mean(2)  # [B, K]
        present = self.present(labels).to(kl_rows.dtype)
        kl = (kl_rows * present).sum() / present.sum()
        return self.decode(labels, z), kl

    def reconstruct(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.decode(labels, self.encode(images, labels)[0])

    def transfer(
        self,
        target: torch.Tensor,
        target_labels: torch.Tensor,
        reference: torch.Tensor,
        reference_labels: torch.Tensor,
        regions: torch.Tensor,
    ) -> torch.Tensor:
        """The target with the reference's codes for ``regions`` (bool ``[K]``) that the
        reference has; a plain row swap of posterior means."""
        s_t = self.encode(target, target_labels)[0]
        s_r = self.encode(reference, reference_labels)[0]
        regions = regions.to(s_t.device).expand(s_t.shape[0], -1)
        mixed = swap_regions(s_t, s_r, regions & self.present(reference_labels))
        return self.decode(target_labels, mixed)

    def sample(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        n: int,
        group: str = "skin",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``[B, n, 3, H, W]``: ``n`` random styles of ``group`` per image (its classes'
        codes from the prior, every other class at its posterior mean)."""
        b = images.shape[0]
        mu = self.encode(images, labels)[0].repeat_interleave(n, 0)
        rows = self.prior.sample(group, b * n, generator).to(mu)
        out = self.decode(labels.repeat_interleave(n, 0), self.prior.insert(mu, group, rows))
        return out.view(b, n, *out.shape[1:])


__all__ = ["GroupDNetBaseline", "GroupDNetPrior"]
