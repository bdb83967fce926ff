"""StarGAN-v2-style mapping network for Table 5's "SEAN+StarGAN-v2" row (Choi et al. 2020,
"StarGAN v2: Diverse image synthesis for multiple domains", Sec. 2, Eqs. 1-3 and 5).

**Network:** StarGAN v2's mapping ``F``: a trunk shared by all domains (4 x Linear + ReLU)
and one unshared head per domain (3 x Linear + ReLU, then Linear to the style). Here a
"domain" is a region group (skin with nose, hair) and a head outputs the group's style rows,
``s = F_j(z)``, ``[B, len(group), style_dim]``.

**Training (our reading of "the training strategy of StarGAN-v2" with a SEAN generator):**
unlike ours (:mod:`.mapping`, Eq. 6, a discriminator on the *style space*), StarGAN v2 trains
its mapping only through generated *images*. With ``G`` the trained (frozen) SEAN
encoder-decoder, ``x`` a face, ``m`` its label map and ``G(m, s | j)`` the face decoded with
group ``j``'s rows replaced by ``s``:

    L_adv = -E log D(G(m, F_j(z) | j))                                (StarGAN v2 Eq. 1)
    L_sty = E || E_j(G(m, F_j(z) | j)) - F_j(z) ||_1                  (StarGAN v2 Eq. 2)
    L_ds  = E || G(m, F_j(z_1) | j) - G(m, F_j(z_2) | j) ||_1         (StarGAN v2 Eq. 3)
    L_F   = L_adv + lambda_sty L_sty - lambda_ds L_ds      (StarGAN v2 Eq. 5 without Eq. 4)

with ``E_j`` the SEAN encoder's rows of group ``j`` and ``D`` a fresh image discriminator on
``[one_hot(m), image]`` (SPADE's PatchGAN, non-saturating loss) trained against real faces.
``lambda_sty = lambda_ds = 1`` (StarGAN v2, CelebA-HQ). Choices we make: ``G`` and ``E`` stay
frozen (the paper's point is that StarGAN v2's strategy would train the generator without
supervision; freezing it isolates the mapping), no cycle loss (it trains ``G`` only), no R1
penalty, no decay of ``lambda_ds``, and the mapping's lr is ours (2e-4, Adam betas (0, 0.99))
so both mappings get the same optimiser and step budget - StarGAN v2 itself uses 1e-6.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.models.regional_style.mapping import DEFAULT_GROUPS, group_indices, mlp

W_STY, W_DS = 1.0, 1.0
"""StarGAN v2's lambda_sty and lambda_ds (CelebA-HQ)."""


class StarGANv2Mapping(nn.Module):
    """Shared trunk + one head per group: ``forward(z, group)`` -> ``[B, n, style_dim]``."""

    def __init__(
        self,
        style_dim: int,
        groups: dict[str, tuple[str, ...]] | None = None,
        z_dim: int = 16,
        hidden: int = 512,
        shared_layers: int = 4,
        head_layers: int = 3,
    ) -> None:
        super().__init__()
        self.groups = dict(DEFAULT_GROUPS if groups is None else groups)
        self.indices = {name: group_indices(regions) for name, regions in self.groups.items()}
        self.style_dim, self.z_dim = style_dim, z_dim
        trunk: list[nn.Module] = []
        width = z_dim
        for _ in range(shared_layers):
            trunk += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.trunk = nn.Sequential(*trunk)
        self.heads = nn.ModuleDict(
            {
                n: mlp(width, hidden, len(i) * style_dim, head_layers)
                for n, i in self.indices.items()
            }
        )

    def _check_group(self, group: str) -> list[int]:
        if group not in self.indices:
            raise ValueError(
                f"unknown group {group!r}; this mapping has heads {sorted(self.indices)}"
            )
        return self.indices[group]

    def forward(self, z: torch.Tensor, group: str) -> torch.Tensor:
        idx = self._check_group(group)
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [B, {self.z_dim}], got {tuple(z.shape)}")
        # s = F_j(z): shared trunk, then group j's head
        return self.heads[group](self.trunk(z)).view(-1, len(idx), self.style_dim)

    def sample(self, group: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` random style rows of ``group`` from ``z ~ N(0, I)``."""
        self._check_group(group)
        device = next(self.parameters()).device
        return self(torch.randn(n, self.z_dim, generator=generator, device=device), group)

    def insert(self, styles: torch.Tensor, group: str, rows: torch.Tensor) -> torch.Tensor:
        """A copy of ``styles [B, K, D]`` with ``group``'s rows replaced by ``rows``."""
        idx = self._check_group(group)
        out = styles.clone()
        out[:, idx] = rows
        return out


def restyle(
    model,
    styles: torch.Tensor,
    labels: torch.Tensor,
    group_regions: torch.Tensor,
    s_r: torch.Tensor,
) -> torch.Tensor:
    """``G(m, s | j)``: decode ``labels`` with the reference matrix ``s_r`` mixed into
    ``styles`` for ``group_regions`` (MRSA for ours, a row swap for SEAN), in [0, 1]."""
    mixed = model.mix(styles, s_r, group_regions, model.present(labels))
    return model.decode(labels, mixed)


def train_stargan_mapping(
    mapping: StarGANv2Mapping,
    model,
    images: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    batch_size: int = 4,
    lr: float = 2e-4,
    ndf: int = 16,
    w_sty: float = W_STY,
    w_ds: float = W_DS,
    progress: bool = True,
) -> list[dict[str, float]]:
    """Fit ``mapping`` through the frozen ``model`` (a :class:`RegionalStyleNet`) with
    StarGAN v2's losses (module docstring); returns per-step losses per group. ``model`` is
    left in eval mode with ``requires_grad`` off."""
    from tqdm.auto import trange

    from maskstyle.gan.losses import discriminator_loss, generator_loss
    from maskstyle.gan.step import AlternatingGANStep
    from maskstyle.models.regional_style.train import _d_input, build_discriminator

    k = model.config.num_classes
    model.eval().requires_grad_(False)
    disc = build_discriminator(k, ndf, scales=1)
    betas = (0.0, 0.99)
    opt_f = torch.optim.Adam(mapping.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr, betas=betas)
    present = model.present(labels)
    faces = {}
    for g, idx in mapping.indices.items():
        keep = present[:, idx].all(1).nonzero()[:, 0]
        if len(keep) < 2:
            raise ValueError(f"group {g!r} is present in fewer than 2 images; cannot fit it")
        faces[g] = keep
    cache: dict[str, torch.Tensor] = {}

    def make_step(g: str) -> AlternatingGANStep:
        idx = mapping.indices[g]
        regions = torch.zeros(k, dtype=torch.bool)
        regions[idx] = True

        def d_loss(pick: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            x, m = images[pick], labels[pick]
            with torch.no_grad():
                s = model.encode(x, m)
            z = torch.randn(2 * batch_size, mapping.z_dim)
            r1, r2 = mapping(z, g).chunk(2)
            cache["r1"] = r1
            cache["fake1"] = restyle(model, s, m, regions, mapping.insert(s, g, r1))
            cache["fake2"] = restyle(model, s, m, regions, mapping.insert(s, g, r2))
            loss = discriminator_loss(
                disc(_d_input(x, m, k)), disc(_d_input(cache["fake1"].detach(), m, k)),
                kind="standard",
            )
            return loss, {"d": loss}

        def g_loss(pick: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            m = labels[pick]
            r1, fake1, fake2 = cache.pop("r1"), cache.pop("fake1"), cache.pop("fake2")
            adv = generator_loss(disc(_d_input(fake1, m, k)), kind="nonsaturating")  # Eq. 1
            sty = F.l1_loss(model.encode(fake1, m)[:, idx], r1)  # Eq. 2
            ds = (fake1 - fake2).abs().mean()  # Eq. 3
            loss = adv + w_sty * sty - w_ds * ds  # Eq. 5 (no cycle term), the mapping's side
            return loss, {"adv": adv, "sty": sty, "ds": ds}

        return AlternatingGANStep(
            d_loss=d_loss, g_loss=g_loss, d_optimizer=opt_d, g_optimizer=opt_f,
            discriminators=[disc],
        )  # fmt: skip

    group_steps = {g: make_step(g) for g in faces}
    history = []
    for t in trange(steps, disable=not progress, desc="StarGAN-v2 mapping"):
        terms = {}
        for g, keep in faces.items():
            pick = keep[torch.randint(0, len(keep), (batch_size,))]
            values = group_steps[g](pick, t)  # one D step, then one F step
            terms |= {f"{g}_{name}": float(v) for name, v in values.items()}
        history.append(terms)
    mapping.eval()
    disc.requires_grad_(False)
    return history


__all__ = ["W_DS", "W_STY", "StarGANv2Mapping", "restyle", "train_stargan_mapping"]
