"""Regional style mapping (RSM) networks with discriminators on the style space
(harmonized regional style transfer, Section 3.1 Eq. 3 and Section 3.4 Eq. 6).

One mapping network per group of correlated regions (the paper trains two: skin with nose,
and hair) turns a Gaussian ``z`` into the group's style rows:

    s_r = M_j(z)                                                      (Eq. 3)

``M_j`` is StarGAN-v2's mapping MLP (a shared trunk of Linear(., hidden) + ReLU layers, then
a Linear to ``len(group) * style_dim``). Unlike StarGAN-v2, it is trained against a
discriminator ``D_j`` on the *style space* - real samples are the encoder's style rows
``s_s`` of training images - not on generated images:

    L_j = min_M max_D  E[log D_j(s_s)] + E[log(1 - D_j(M_j(z)))]       (Eq. 6)

**Our reading:** the generator side uses the non-saturating form ``-E log D(M(z))``
(Goodfellow et al.'s practical choice; the minimax form of Eq. 6 gives vanishing gradients
when D wins), via :func:`maskstyle.gan.generator_loss`. Only images in which every region of
the group is present give real samples (an absent region's pooled row is 0, not a style).
lr 2e-4 for both (paper Sec. 4.2).
"""

from __future__ import annotations

import torch
from torch import nn

from maskstyle.data.labels import LABEL_INDEX
from maskstyle.gan.losses import discriminator_loss, generator_loss

DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {"skin": ("skin", "nose"), "hair": ("hair",)}
"""The groups the paper trains (Section 3.1): skin with nose, and hair."""


def group_indices(group: tuple[str, ...] | list[str]) -> list[int]:
    """Label values of a group of region names, with a clear error for unknown names."""
    unknown = [name for name in group if name not in LABEL_INDEX]
    if unknown:
        raise ValueError(f"unknown region name(s) {unknown}; choose from {sorted(LABEL_INDEX)}")
    return [LABEL_INDEX[name] for name in group]


def mlp(d_in: int, hidden: int, d_out: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    width = d_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    mods.append(nn.Linear(width, d_out))
    return nn.Sequential(*mods)


class StyleMapping(nn.Module):
    """``M_j``: ``z [B, z_dim]`` -> group style rows ``[B, len(group), style_dim]`` (Eq. 3)."""

    def __init__(
        self, num_regions: int, style_dim: int, z_dim: int = 64, hidden: int = 512, layers: int = 4
    ) -> None:
        super().__init__()
        self.num_regions, self.style_dim, self.z_dim = num_regions, style_dim, z_dim
        self.net = mlp(z_dim, hidden, num_regions * style_dim, layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [B, {self.z_dim}], got {tuple(z.shape)}")
        # Eq. 3: s_r = M(z)
        return self.net(z).view(-1, self.num_regions, self.style_dim)


class StyleDiscriminator(nn.Module):
    """``D_j``: a group's style rows ``[B, n, style_dim]`` -> one logit ``[B, 1]``."""

    def __init__(self, num_regions: int, style_dim: int, hidden: int = 512, layers: int = 3):
        super().__init__()
        trunk = mlp(num_regions * style_dim, hidden, 1, layers)
        self.net = nn.Sequential(
            *[nn.LeakyReLU(0.2) if isinstance(m, nn.ReLU) else m for m in trunk]
        )

    def forward(self, styles: torch.Tensor) -> torch.Tensor:
        return self.net(styles.flatten(1))


class RegionalStyleMapping(nn.Module):
    """All groups' mapping networks and style-space discriminators (Eqs. 3 and 6)."""

    def __init__(
        self,
        style_dim: int,
        groups: dict[str, tuple[str, ...]] | None = None,
        z_dim: int = 64,
        hidden: int = 512,
        layers: int = 4,
    ) -> None:
        super().__init__()
        self.groups = dict(DEFAULT_GROUPS if groups is None else groups)
        self.indices = {name: group_indices(regions) for name, regions in self.groups.items()}
        self.style_dim, self.z_dim = style_dim, z_dim
        self.mappings = nn.ModuleDict(
            {
                n: StyleMapping(len(i), style_dim, z_dim, hidden, layers)
                for n, i in self.indices.items()
            }
        )
        self.discriminators = nn.ModuleDict(
            {n: StyleDiscriminator(len(i), style_dim, hidden) for n, i in self.indices.items()}
        )

    def _check_group(self, group: str) -> list[int]:
        if group not in self.indices:
            raise ValueError(f"unknown group {group!r}; this model maps {sorted(self.indices)}")
        return self.indices[group]

    def sample(self, group: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` random style rows for ``group`` from ``z ~ N(0, I)`` (Eq. 3)."""
        self._check_group(group)
        device = next(self.parameters()).device
        z = torch.randn(n, self.z_dim, generator=generator, device=device)
        return self.mappings[group](z)

    def real_rows(self, styles: torch.Tensor, group: str, present: torch.Tensor) -> torch.Tensor:
        """The encoder's rows ``s_s`` of ``group`` for samples where all its regions exist."""
        idx = self._check_group(group)
        keep = present[:, idx].all(1)
        return styles[keep][:, idx]

    def insert(self, styles: torch.Tensor, group: str, rows: torch.Tensor) -> torch.Tensor:
        """A copy of the style matrix ``[B, K, D]`` with ``group``'s rows replaced."""
        idx = self._check_group(group)
        out = styles.clone()
        out[:, idx] = rows
        return out

    def losses(self, real: torch.Tensor, group: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(L_D, L_G)`` of Eq. 6 for one batch of real rows ``[B, n, D]`` of ``group``.

        ``L_D = -E log D(s_s) - E log(1 - D(M(z)))`` (fakes detached);
        ``L_G = -E log D(M(z))`` (non-saturating, see the module docstring)."""
        self._check_group(group)
        fake = self.mappings[group](torch.randn(real.shape[0], self.z_dim, device=real.device))
        disc = self.discriminators[group]
        # Eq. 6: max_D E log D(s_s) + E log(1 - D(M(z)))  ==  min_D of the "standard" loss
        d_loss = discriminator_loss(disc(real.detach()), disc(fake.detach()), kind="standard")
        g_loss = generator_loss(disc(fake), kind="nonsaturating")
        return d_loss, g_loss


__all__ = [
    "DEFAULT_GROUPS",
    "RegionalStyleMapping",
    "StyleDiscriminator",
    "StyleMapping",
    "group_indices",
]
