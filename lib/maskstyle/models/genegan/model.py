"""GeneGAN's networks (Zhou et al. 2017, Sec. 2.1 and 3, Fig. 3).

Encoder (Sec. 3): three 4x4 stride-2 convolutions, zero padding 1, 128 / 256 / 512
channels, LeakyReLU 0.2, batch norm. At 64 px it gives a ``[B, 512, 8, 8]`` code whose first
384 channels are the background feature ``A`` and the last 128 the object feature ``u``
(the official code's ``second_ratio = 0.25``)::

    (A, u) = Encoder(x_Au)                                    # Eq. 2

Decoder: three 4x4 transposed convolutions with stride 2 (Sec. 3: "fractional stride 1/2"),
512 / 256 / 3 channels, batch norm and ReLU after the first two, then
``x = (tanh(h) + 1) / 2`` - the paper's "clipped by tanh and then affine transformed to be
in value range [0, 1]".

Two discriminators (official code; the paper says only "adversarial discriminators"): one
for the object-present set (scores ``x_Au`` real vs ``x_Bu`` fake), one for the
object-absent set (``x_Be`` real vs ``x_Ae`` fake); 4x4 stride-2 convs 128/256/512/512,
LeakyReLU 0.2, BN from the second conv, one linear output
(:class:`maskstyle.gan.ConvDiscriminator` with ``head="linear"``).

**Our reading:** the two parents go through the encoder in one batch (the official code
encodes them in two calls, so batch norm gives each parent batch unit-variance object codes
and the nulling loss cannot approach 0). The paper says every network is "equipped with
Batch Normalization"; the official code leaves the encoder's first conv without BN. We
follow the paper (BN after every encoder conv, ``first_bn=True``); ``first_bn=False``
gives the code's variant.
``width`` scales every channel count (1.0 = the paper's sizes; the cpu profile may use a
narrower net at the paper's topology, and says so).
"""

from __future__ import annotations

import torch
from torch import nn

from maskstyle.gan.discriminators import ConvDiscriminator
from maskstyle.utils.shapes import expect_shape

ENCODER_CHANNELS = (128, 256, 512)
DECODER_CHANNELS = (512, 256)
DISCRIMINATOR_CHANNELS = (128, 256, 512, 512)
OBJECT_FRACTION = 0.25  # 128 of 512 channels (official code: second_ratio)


def check_images(x: torch.Tensor, size: int, name: str = "x") -> None:
    """``x`` must be float ``[B, 3, size, size]`` in [0, 1]; errors name the fix."""
    expect_shape(x, ["B", 3, "H", "W"], name, what="images")
    if tuple(x.shape[-2:]) != (size, size):
        raise ValueError(
            f"{name} is {x.shape[-2]}x{x.shape[-1]} px but this GeneGAN was built for "
            f"{size}x{size}; resize the images (e.g. torch.nn.functional.interpolate(x, "
            f"size={size}, mode='area')) or build GeneGAN(image_size={x.shape[-1]})"
        )
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must be float images in [0, 1], got {x.dtype} (use x.float()/255)")


def _scaled(channels: tuple[int, ...], width: float) -> tuple[int, ...]:
    return tuple(max(4, int(round(c * width))) for c in channels)


class Encoder(nn.Module):
    """``x [B, 3, S, S] -> h [B, C, S/8, S/8]`` (three 4x4 stride-2 convs, LeakyReLU 0.2)."""

    def __init__(self, width: float = 1.0, first_bn: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 3
        for i, out in enumerate(_scaled(ENCODER_CHANNELS, width)):
            bn = first_bn or i > 0
            layers.append(nn.Conv2d(previous, out, 4, 2, 1, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2))
            previous = out
        self.net = nn.Sequential(*layers)
        self.out_channels = previous

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """``h [B, C, S/8, S/8] -> x [B, 3, S, S]`` in [0, 1]: transposed convs 512/256/3,
    BN + ReLU after the first two, ``(tanh + 1) / 2``."""

    def __init__(self, in_channels: int, width: float = 1.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_channels
        for out in _scaled(DECODER_CHANNELS, width):
            layers += [nn.ConvTranspose2d(previous, out, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(out), nn.ReLU()]  # fmt: skip
            previous = out
        layers.append(nn.ConvTranspose2d(previous, 3, 4, 2, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(self.net(h)) + 1) / 2  # tanh, then affine to [0, 1]


def _init_dcgan(module: nn.Module) -> None:
    """N(0, 0.02) weights as the official code (``random_normal_initializer(stddev=0.02)``)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


D_NORMS = ("batch", "none", "spectral", "instance")


def make_discriminator(
    image_size: int, width: float = 1.0, norm: str = "batch"
) -> ConvDiscriminator:
    """GeneGAN's critic: 4x4 stride-2 convs 128/256/512/512 (scaled by ``width``), linear to 1.

    ``norm``: ``"batch"`` (the official code: BN from the second conv), ``"none"``,
    ``"instance"``, or ``"spectral"`` (spectral norm on every weight, no BN; Miyato et al.
    2018). With BN the real and fake batches are normalised separately (each D call sees one
    of them), so the critic can judge a batch's statistics rather than each image.
    """
    if norm not in D_NORMS:
        raise ValueError(f"discriminator norm must be one of {D_NORMS}, got {norm!r}")
    return ConvDiscriminator(
        channels=_scaled(DISCRIMINATOR_CHANNELS, width), head="linear", input_size=image_size,
        norm="none" if norm == "spectral" else norm, spectral=norm == "spectral",
    )  # fmt: skip


class GeneGAN(nn.Module):
    """Encoder, decoder and the two discriminators of GeneGAN.

    ``encode(x) -> (background [B, C_bg, s, s], obj [B, C_obj, s, s])`` with ``s = S / 8``
    (at 64 px and width 1: 384 and 128 channels, 8 x 8); ``decode(background, obj) -> x``.
    ``d_with`` judges object-present images, ``d_without`` object-absent ones
    (``d_norm``: see :func:`make_discriminator`).
    """

    def __init__(
        self,
        image_size: int = 64,
        width: float = 1.0,
        first_bn: bool = True,
        object_fraction: float = OBJECT_FRACTION,
        seed: int = 0,
        d_norm: str = "batch",
    ) -> None:
        super().__init__()
        if isinstance(image_size, bool) or not isinstance(image_size, int):
            raise TypeError(f"image_size must be an int, got {image_size!r}")
        if image_size < 16 or image_size % 8:
            raise ValueError(
                f"image_size must be a multiple of 8 and at least 16 (three stride-2 convs and "
                f"a 4-conv discriminator), got {image_size}; the paper uses 64"
            )
        if not 0 < width <= 4:
            raise ValueError(f"width must be in (0, 4], got {width}")
        if not 0 < object_fraction < 1:
            raise ValueError(f"object_fraction must be in (0, 1), got {object_fraction}")
        self.image_size, self.width, self.first_bn = image_size, width, first_bn
        self.encoder = Encoder(width, first_bn)
        channels = self.encoder.out_channels
        self.object_channels = int(channels * object_fraction)
        self.background_channels = channels - self.object_channels
        self.decoder = Decoder(channels, width)
        self.d_with = make_discriminator(image_size, width, d_norm)
        self.d_without = make_discriminator(image_size, width, d_norm)
        generator = torch.random.fork_rng(devices=[])
        with generator:  # seeded init without touching the caller's RNG stream
            torch.manual_seed(seed)
            _init_dcgan(self)
        self.config = {
            "image_size": image_size, "width": width, "first_bn": first_bn,
            "object_fraction": object_fraction, "seed": seed, "d_norm": d_norm,
        }  # fmt: skip

    @property
    def code_size(self) -> int:
        return self.image_size // 8

    def generator_parameters(self) -> list[nn.Parameter]:
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return [*self.d_with.parameters(), *self.d_without.parameters()]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 2: ``(A, u) = Encoder(x)``; the first channels are A, the last ``u``."""
        check_images(x, self.image_size)
        h = self.encoder(x)  # [B, C, S/8, S/8]
        return h[:, : self.background_channels], h[:, self.background_channels :]

    def decode(self, background: torch.Tensor, obj: torch.Tensor) -> torch.Tensor:
        """``Decoder(A, u)``; pass ``torch.zeros_like(u)`` (or :meth:`zero_object`) for ``0``."""
        size = self.code_size
        expect_shape(background, ["B", self.background_channels, size, size], "background")
        expect_shape(obj, ["B", self.object_channels, size, size], "obj")
        if obj.shape[0] != background.shape[0]:
            raise ValueError(
                f"background has {background.shape[0]} codes but obj {obj.shape[0]}; "
                "expand one of them (e.g. obj.expand(B, -1, -1, -1))"
            )
        return self.decoder(torch.cat([background, obj], dim=1))

    def zero_object(self, batch: int, like: torch.Tensor | None = None) -> torch.Tensor:
        """The null object code ``0`` (``[batch, C_obj, s, s]``)."""
        shape = (batch, self.object_channels, self.code_size, self.code_size)
        if like is not None:
            return like.new_zeros(shape)
        return torch.zeros(shape)

    def four_children(self, x_au: torch.Tensor, x_be: torch.Tensor) -> dict[str, torch.Tensor]:
        """Eq. 2: codes ``A, u, B, e`` and the four children of parents ``x_Au``, ``x_Be``:
        ``Ae = Dec(A, 0)``, ``Bu = Dec(B, u)``, ``Au = Dec(A, u)``, ``Be = Dec(B, 0)``."""
        check_images(x_be, self.image_size, "x_be")
        if x_au.shape[0] != x_be.shape[0]:
            raise ValueError(
                f"the parents must come in equal batches, got {x_au.shape[0]} and {x_be.shape[0]}"
            )
        # one encoder pass over both parents: in training, batch norm then normalises the
        # object channels over positives and negatives together, so e can shrink to 0 while
        # u does not (two passes would give each parent batch unit-variance codes, and the
        # nulling loss could not fall below E|LeakyReLU(N(0, 1))| ~ 0.47)
        code_bg, code_obj = self.encode(torch.cat([x_au, x_be]))
        n = len(x_au)
        a, b, u, e = code_bg[:n], code_bg[n:], code_obj[:n], code_obj[n:]
        zero = torch.zeros_like(e)  # "We use 0 instead of e when decoding" (Sec. 2.1.1)
        # one decoder pass over the four recombinations: [Ae; Bu; Au; Be]
        out = self.decode(torch.cat([a, b, a, b]), torch.cat([zero, u, u, zero]))
        ae, bu, au, be = out.chunk(4)
        return {"A": a, "u": u, "B": b, "e": e, "Ae": ae, "Bu": bu, "Au": au, "Be": be}


__all__ = ["Decoder", "Encoder", "GeneGAN", "check_images", "make_discriminator"]
