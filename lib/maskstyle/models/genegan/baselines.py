"""The GAN-with-cyclic-loss baseline (DiscoGAN-style, Sec. 2.2, Figs. 2a and 6).

Two image-to-image networks with GeneGAN's own encoder/decoder sizes (no code split):
``G_remove`` maps object-present faces to object-absent ones, ``G_add`` the reverse, and
two discriminators as GeneGAN's. Its losses are
:func:`~maskstyle.models.genegan.losses.cyclic_generator_loss` /
:func:`~maskstyle.models.genegan.losses.cyclic_discriminator_loss`. Stacked GeneGAN
(Fig. 2b) is GeneGAN's own network trained with
:func:`~maskstyle.models.genegan.losses.stacked_generator_loss`.

The paper's point (Sec. 2.2) shows in the API: :meth:`CyclicGAN.transplant` cannot take
an exemplar's object - ``G_add`` decides the object itself.
"""

from __future__ import annotations

import torch
from torch import nn

from maskstyle.models.genegan.model import (
    Decoder,
    Encoder,
    _init_dcgan,
    check_images,
    make_discriminator,
)


class _Translator(nn.Module):
    def __init__(self, width: float, first_bn: bool) -> None:
        super().__init__()
        self.encoder = Encoder(width, first_bn)
        self.decoder = Decoder(self.encoder.out_channels, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class CyclicGAN(nn.Module):
    """``remove_net`` (with -> without), ``add_net`` (without -> with), ``d_with`` and
    ``d_without``."""

    def __init__(self, image_size: int = 64, width: float = 1.0, first_bn: bool = True,
                 seed: int = 0, d_norm: str = "batch") -> None:  # fmt: skip
        super().__init__()
        if image_size < 16 or image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8 and >= 16, got {image_size}")
        self.image_size = image_size
        self.remove_net = _Translator(width, first_bn)
        self.add_net = _Translator(width, first_bn)
        self.d_with = make_discriminator(image_size, width, d_norm)
        self.d_without = make_discriminator(image_size, width, d_norm)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            _init_dcgan(self)
        self.config = {"image_size": image_size, "width": width, "first_bn": first_bn,
                       "seed": seed, "d_norm": d_norm}  # fmt: skip

    def generator_parameters(self) -> list[nn.Parameter]:
        return [*self.remove_net.parameters(), *self.add_net.parameters()]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return [*self.d_with.parameters(), *self.d_without.parameters()]

    def remove(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.image_size)
        return self.remove_net(x)

    def transplant(self, background: torch.Tensor, exemplar: torch.Tensor | None = None):
        """``G_add(background)``; ``exemplar`` is ignored - the cyclic model has no object code."""
        check_images(background, self.image_size, "background")
        return self.add_net(background)


__all__ = ["CyclicGAN"]
