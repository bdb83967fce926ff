"""DoveNet-style image harmonisation (Cong et al., CVPR 2020): the "SEAN+DoveNet" baseline of
the harmonized regional style transfer paper (Sec. 4.5, Table 2, Fig. 7), a separate network
that harmonises SEAN's transfer afterwards, without seeing the reference.

DoveNet's idea: a composite's foreground and background come from different capture
*domains* (illumination, camera, processing); a harmonious image has one. Three networks:

- generator ``G``: a U-Net on the composite ``x`` and its foreground mask ``m`` (4 channels)
  with an attention gate on every skip connection; the harmonised image ``I~ = G(x, m)``;
- global discriminator ``D_g``: real images vs harmonised ones (patch scores);
- domain verification discriminator ``D_v``: one partial-convolution encoder reads the
  foreground only and the background only, giving domain codes ``l_f`` and ``l_b``; the
  verification score is their inner product ``s = l_f . l_b``, high when both share a
  domain. ``D_v`` learns to give real images a high ``s`` and harmonised ones a low ``s``;
  ``G`` learns to raise it.

Losses (DoveNet Sec. 3, our notation; ``I`` the real image):

    L_G = lambda_rec |I~ - I|_1 + L_adv(D_g(I~)) + L_adv(s(I~))
    L_D = L_disc(D_g(I), D_g(I~)) + L_disc(s(I), s(I~))

Partial convolution (Liu et al. 2018), which lets a code see only its region:

    x' = W^T (x * M) * sum(1) / sum(M) + b   where the window holds a valid pixel, else 0;
    M' = 1 where the window holds a valid pixel, else 0

**Our reading / deviations (small nets for 64 px faces):** widths and depth scaled down; the
toolkit's hinge losses (:mod:`maskstyle.gan.losses`) for both discriminators;
``lambda_rec = 100`` (pix2pix's L1 weight; DoveNet's code builds on pix2pix's); ``G`` predicts a
residual on the composite and the output keeps the composite outside the mask,
``I~ = m (x + G(x, m)) + (1 - m) x``: harmonisation changes the foreground only, and a short
fit cannot blur the background; the attention gate is a 1x1 conv with a sigmoid on the
concatenated skip and decoder features (DoveNet uses Cun and Pun's spatial-separated
attention); codes are masked means of the last partial-conv features through a linear layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.gan.discriminators import ConvDiscriminator
from maskstyle.gan.losses import discriminator_loss, generator_loss


def _check_composite(composite: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Shapes and mask contract; returns the mask as float ``[B, 1, H, W]``."""
    if composite.dim() != 4 or composite.shape[1] != 3:
        raise ValueError(f"images must be RGB [B, 3, H, W] in [0, 1], got {tuple(composite.shape)}")
    if mask.dim() == 4 and mask.shape[1] == 1:
        mask = mask[:, 0]
    if mask.shape != (composite.shape[0], *composite.shape[-2:]):
        raise ValueError(
            f"mask must be [B, H, W] = {(composite.shape[0], *composite.shape[-2:])} (the "
            f"foreground of each image), got {tuple(mask.shape)}"
        )
    mask = mask.to(composite.dtype)
    if bool(((mask != 0) & (mask != 1)).any()):
        raise ValueError("mask must be binary (bool, or 0/1 values): the pasted foreground")
    if bool((mask.flatten(1).sum(1) == 0).any()):
        raise ValueError("a mask has no foreground pixel; harmonise only images with a region")
    return mask[:, None]


class PartialConv2d(nn.Conv2d):
    """Partial convolution (Liu et al. 2018, formula in the module docstring):
    ``forward(x, mask [B, 1, H, W] in {0, 1}) -> (out, new_mask)``."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            ones = torch.ones(1, 1, *self.kernel_size, dtype=x.dtype, device=x.device)
            count = F.conv2d(mask, ones, None, self.stride, self.padding, self.dilation)
        valid = (count > 0).to(x.dtype)
        window = float(self.kernel_size[0] * self.kernel_size[1])
        raw = F.conv2d(x * mask, self.weight, None, self.stride, self.padding, self.dilation)
        out = raw * (window / count.clamp_min(1.0)) * valid
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1) * valid
        return out, valid


class DomainVerifier(nn.Module):
    """``D_v``: domain codes of the foreground and the background from one partial-conv
    encoder; ``forward(image, mask) -> s [B] = l_f . l_b``."""

    def __init__(self, width: int = 16, depth: int = 3, code_dim: int = 32) -> None:
        super().__init__()
        widths = [width * 2**i for i in range(depth)]
        self.convs = nn.ModuleList(
            PartialConv2d(c_in, c_out, 3, stride=2, padding=1)
            for c_in, c_out in zip([3, *widths[:-1]], widths)
        )
        self.to_code = nn.Linear(widths[-1], code_dim)

    def code(self, image: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
        """The domain code ``[B, code_dim]`` of the pixels where ``region [B, 1, H, W]`` is 1."""
        h, m = image * 2 - 1, region
        for conv in self.convs:
            h, m = conv(h, m)
            h = F.leaky_relu(h, 0.2)
        pooled = (h * m).sum((2, 3)) / m.sum((2, 3)).clamp_min(1.0)
        return self.to_code(pooled)

    def codes(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(l_f, l_b)``: the foreground's and the background's domain codes."""
        m = _check_composite(image, mask)
        return self.code(image, m), self.code(image, 1 - m)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        l_f, l_b = self.codes(image, mask)
        return (l_f * l_b).sum(1)


class AttentionUNet(nn.Module):
    """``G``: a U-Net on ``[composite, mask]`` with a sigmoid attention gate on each skip;
    returns a residual ``[B, 3, H, W]`` in ``(-1, 1)``."""

    def __init__(self, width: int = 16, depth: int = 4) -> None:
        super().__init__()
        widths = [width * 2 ** min(i, 3) for i in range(depth)]
        self.downs = nn.ModuleList()
        for i, (c_in, c_out) in enumerate(zip([4, *widths[:-1]], widths)):
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, 2, 1)]
            if i > 0:
                layers.append(nn.InstanceNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
            self.downs.append(nn.Sequential(*layers))
        self.ups, self.gates = nn.ModuleList(), nn.ModuleList()
        c_in = widths[-1]
        for skip in [*reversed(widths[:-1]), 4]:  # the last skip is the input itself
            c_out = max(skip, width)
            self.ups.append(nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1),
                nn.InstanceNorm2d(c_out), nn.ReLU()))  # fmt: skip
            self.gates.append(nn.Conv2d(c_out + skip, skip, 1))
            c_in = c_out + skip
        self.out = nn.Conv2d(c_in, 3, 3, 1, 1)

    def forward(self, composite: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = torch.cat([composite * 2 - 1, mask * 2 - 1], 1)
        skips, h = [x], x
        for down in self.downs:
            h = down(h)
            skips.append(h)
        skips.pop()  # the bottleneck is h itself
        for up, gate in zip(self.ups, self.gates):
            h = up(h)
            skip = skips.pop()
            attention = torch.sigmoid(gate(torch.cat([h, skip], 1)))
            h = torch.cat([h, skip * attention], 1)
        return torch.tanh(self.out(h))


class DoveNetHarmonizer(nn.Module):
    """``G``, ``D_g`` and ``D_v`` together; ``forward(composite, mask)`` harmonises
    (``I~ = m (x + G(x, m)) + (1 - m) x``, clamped to [0, 1]).

    ``composite`` ``[B, 3, H, W]`` in [0, 1]; ``mask`` ``[B, H, W]`` bool (or 0/1), the
    pasted (here: transferred) region, at least one pixel per image."""

    def __init__(self, width: int = 16, depth: int = 4, code_dim: int = 32) -> None:
        super().__init__()
        self.generator = AttentionUNet(width, depth)
        self.global_discriminator = ConvDiscriminator(
            3, channels=(width, 2 * width, 4 * width), norm="none", spectral=True
        )
        self.verifier = DomainVerifier(width, 3, code_dim)

    def forward(self, composite: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = _check_composite(composite, mask)
        residual = self.generator(composite, m)
        return (composite + m * residual).clamp(0.0, 1.0)

    def losses(
        self, real: torch.Tensor, composite: torch.Tensor, mask: torch.Tensor,
        lambda_rec: float = 100.0,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """``({"rec", "adv_global", "adv_verify", "g"}, harmonised)``: ``L_G``'s terms."""
        harmonised = self(composite, mask)
        return self.generator_losses(real, harmonised, mask, lambda_rec), harmonised

    def generator_losses(
        self, real: torch.Tensor, harmonised: torch.Tensor, mask: torch.Tensor,
        lambda_rec: float = 100.0,
    ) -> dict[str, torch.Tensor]:
        """``L_G``'s terms ``{"rec", "adv_global", "adv_verify", "g"}`` of a harmonised batch."""
        terms = {
            "rec": (harmonised - real).abs().mean(),
            "adv_global": generator_loss(self.global_discriminator(harmonised), "hinge"),
            "adv_verify": generator_loss(self.verifier(harmonised, mask), "hinge"),
        }
        terms["g"] = lambda_rec * terms["rec"] + terms["adv_global"] + terms["adv_verify"]
        return terms

    def discriminator_losses(
        self, real: torch.Tensor, harmonised: torch.Tensor, mask: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """``L_D``'s terms: ``{"d_global", "d_verify", "d"}`` (``harmonised`` is detached)."""
        fake = harmonised.detach()
        terms = {
            "d_global": discriminator_loss(self.global_discriminator(real),
                                           self.global_discriminator(fake), "hinge"),
            "d_verify": discriminator_loss(self.verifier(real, mask), self.verifier(fake, mask),
                                           "hinge"),
        }  # fmt: skip
        terms["d"] = terms["d_global"] + terms["d_verify"]
        return terms


def train_dovenet(
    harmonizer: DoveNetHarmonizer,
    real: torch.Tensor,
    composite: torch.Tensor,
    mask: torch.Tensor,
    steps: int,
    batch_size: int = 8,
    lr: float = 2e-4,
    lambda_rec: float = 100.0,
    seed: int = 0,
    progress: bool = True,
) -> list[dict[str, float]]:
    """One ``D`` step (``D_g`` and ``D_v``) then one ``G`` step per iteration
    (:class:`maskstyle.gan.step.AlternatingGANStep`) on random batches of (``real``,
    ``composite``, ``mask``) triples; Adam (0.5, 0.999) at ``lr`` for both (pix2pix). The D
    step harmonises the batch and the G step reuses that output. Returns the per-step losses."""
    from tqdm.auto import trange

    from maskstyle.gan.step import AlternatingGANStep

    if not (real.shape == composite.shape and len(mask) == len(real)):
        raise ValueError(
            f"real {tuple(real.shape)}, composite {tuple(composite.shape)} and mask "
            f"{tuple(mask.shape)} must hold the same images"
        )
    _check_composite(composite, mask)
    g = torch.Generator().manual_seed(seed)
    d_params = [*harmonizer.global_discriminator.parameters(), *harmonizer.verifier.parameters()]
    opt_g = torch.optim.Adam(harmonizer.generator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d_params, lr=lr, betas=(0.5, 0.999))
    cache: dict[str, torch.Tensor] = {}

    def d_loss(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        harmonised = harmonizer(composite[idx], mask[idx])
        cache["harmonised"] = harmonised  # the G step of this iteration reuses it
        terms = harmonizer.discriminator_losses(real[idx], harmonised, mask[idx])
        return terms["d"], terms

    def g_loss(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        harmonised = cache.pop("harmonised")
        terms = harmonizer.generator_losses(real[idx], harmonised, mask[idx], lambda_rec)
        return terms["g"], terms

    step = AlternatingGANStep(
        d_loss=d_loss, g_loss=g_loss, d_optimizer=opt_d, g_optimizer=opt_g,
        discriminators=[harmonizer.global_discriminator, harmonizer.verifier],
    )  # fmt: skip
    harmonizer.train()
    history = []
    for t in trange(steps, disable=not progress, desc="DoveNet"):
        idx = torch.randint(0, len(real), (min(batch_size, len(real)),), generator=g)
        history.append({k: float(v) for k, v in step(idx, t).items()})
    harmonizer.eval()
    return history


__all__ = [
    "AttentionUNet",
    "DomainVerifier",
    "DoveNetHarmonizer",
    "PartialConv2d",
    "train_dovenet",
]
