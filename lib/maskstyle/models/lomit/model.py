"""LOMIT (Yang et al., "LOMIT: local mask-based image-to-image translation via pixel-wise
highway adaptive instance normalization"): networks and the translation pass.

Workflow (paper Fig. 2, Sections 2-3), for an input ``x1`` and an exemplar ``x2``:

1. content codes ``c1 = E_c(x1)``, ``c2 = E_c(x2)`` (``[B, C, H/4, W/4]``; ``n_down``
   stride-2 convs give ``H / 2^n_down``);
2. co-segmentation (Sec. 3.1, Fig. 3): ``m1 = S(c1 | c2)``, ``m2 = S(c2 | c1)`` - the OTHER
   image's globally pooled content goes through a 2-layer MLP (tanh, then sigmoid) and gates
   this image's content channel-wise; six 3x3 conv + BN + ReLU, a 1x1 conv and a sigmoid
   give a soft mask at content resolution, upsampled (bilinear) to the image for Eq. 1;
3. Eq. 1-2: ``x^f = m * x``, ``x^b = (1 - m) * x``; ``s^f = E_s^f(x^f)``, ``s^b = E_s^b(x^b)``;
4. Eqs. 3-4: ``h = HAdaIN(c1, m1, s2^f, s1^b)`` (:func:`maskstyle.nn.highway_adain`), with
   ``[beta; log sigma^2] = MLP_f(s^f)`` and ``MLP_b(s^b)``, ``gamma = exp(0.5 log sigma^2)``;
5. ``x_{1->2} = G(h)``.

Architecture (appendix 7.1, official code as described in ``reference-notes.md``): content
encoder 7x7 conv, two 4x4 stride-2 convs, residual blocks, instance norm, reflection padding;
foreground/background style encoders share a trunk (7x7 conv + two 4x4 stride-2 convs, no
normalisation), each head has two more stride-2 convs, global average pooling and a 1x1 conv
to an 8-d code (four strided convs in all, no IN "to maintain the style information");
decoder: residual blocks with layer norm (``GroupNorm(1)``), two (nearest x2 upsample + 5x5
conv + LN + ReLU), a 7x7 conv and tanh. Images are ``[0, 1]`` at the interface (mapped to
``[-1, 1]`` inside; the tanh output is mapped back).

``n_down`` (default 2, the paper's) sets the number of stride-2 convs in ``E_c`` and of
upsamplings in ``G``. The paper's two put a 128 px face on a 32 x 32 content map; at 64 px
the same two leave 16 x 16, where eyes, lips and a moustache span one or two cells, so a
64 px model may take ``n_down=1`` to keep the paper's 32 x 32 map (and the masks' resolution)
at the same cost per residual block (half the channels on four times the cells).

The official code's quirks are NOT reproduced: its AdaIN "std" is a std of stds (we use the
spatial std of :mod:`maskstyle.nn.stats`) and its MLP drops the tanh/sigmoid activations of
the co-segmentation gate (we keep them, as the paper says).

Baseline in the same code: ``LOMIT(use_masks=False)`` is the MUNIT-style global AdaIN
translator (the same encoders and decoder; the style comes from the whole exemplar through
the foreground encoder and is applied everywhere: ``m = 1``). Ablations: ``attention=False``
drops the co-segmentation gate (each mask sees only its own image). DRIT and StarGAN are
not built here: DRIT needs domain-specific encoders and a content discriminator per pair of
domains (the face world's 10-attribute vectors give hundreds of domains), and StarGAN's
label-conditioned generator is unimodal by design, which Fig. 6 already shows; the global
AdaIN baseline isolates what the paper claims for the masks (background kept, style taken
from the right region), which the face world can measure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.nn.highway_adain import highway_adain
from maskstyle.utils.shapes import expect_shape

STYLE_DIM = 8


@dataclass(frozen=True)
class LOMITConfig:
    """Architecture of one LOMIT (appendix 7.1; defaults are the paper's 128 px model)."""

    image_size: int = 128  # side of the (square) images, px; divisible by 2 ** n_down
    dim: int = 64  # width of the first conv; content code has dim * 2 ** n_down channels
    n_res: int = 4  # residual blocks in the content encoder and in the decoder
    n_down: int = 2  # stride-2 convs of E_c (and upsamplings of G); the paper's two
    style_dim: int = STYLE_DIM  # s^f, s^b are 8-d (appendix 7.1)
    mlp_dim: int = 256  # hidden width of the HAdaIN MLPs
    mask_dim: int = 64  # width of the co-segmentation convs
    mask_layers: int = 6  # "six convolutional layers with a batch normalization"
    use_masks: bool = True  # False: MUNIT-style global AdaIN baseline (m = 1)
    attention: bool = True  # False: ablation without the co-segmentation gate

    def __post_init__(self) -> None:
        if not isinstance(self.n_down, int) or self.n_down < 1:
            raise ValueError(f"n_down must be an int >= 1, got {self.n_down!r}")
        step = 2**self.n_down
        if self.image_size % step or self.image_size < 2 * step:
            raise ValueError(
                f"image_size must be a multiple of {step} ({self.n_down} stride-2 convs) and at "
                f"least {2 * step}, got {self.image_size}"
            )
        for name in ("dim", "n_res", "style_dim", "mlp_dim", "mask_dim", "mask_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "n_res" else 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(cin: int, cout: int, k: int, s: int, norm: str, act: bool = True) -> nn.Sequential:
    """Reflection-padded conv + optional norm (``in``, ``ln``, ``bn``, ``none``) + ReLU."""
    pad = (k - 1) // 2 if s == 1 else 1  # same size; 4x4 stride 2 with pad 1 halves exactly
    layers: list[nn.Module] = [nn.ReflectionPad2d(pad), nn.Conv2d(cin, cout, k, s)]
    if norm == "in":
        layers.append(nn.InstanceNorm2d(cout))
    elif norm == "ln":
        layers.append(nn.GroupNorm(1, cout))  # layer norm over C, H, W (per-channel affine)
    elif norm == "bn":
        layers.append(nn.BatchNorm2d(cout))
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    """``x + conv(norm(relu(conv(norm(x)))))``-style residual block (MUNIT's)."""

    def __init__(self, dim: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(dim, dim, 3, 1, norm), _conv(dim, dim, 3, 1, norm, False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ContentEncoder(nn.Module):
    """``E_c``: 7x7 conv, ``n_down`` 4x4 stride-2 convs (the paper: two), each doubling the
    width, ``n_res`` residual blocks, all with IN."""

    def __init__(self, dim: int, n_res: int, n_down: int = 2) -> None:
        super().__init__()
        layers = [_conv(3, dim, 7, 1, "in")]
        layers += [_conv(dim * 2**i, dim * 2 ** (i + 1), 4, 2, "in") for i in range(n_down)]
        self.out_channels = dim * 2**n_down
        layers += [ResBlock(self.out_channels, "in") for _ in range(n_res)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)  # [B, dim 2^n_down, H / 2^n_down, W / 2^n_down]


class StyleEncoders(nn.Module):
    """``E_s^f`` and ``E_s^b``: a shared trunk (7x7 conv + two stride-2 convs, no norm), then
    per branch two more stride-2 convs, global average pooling and a 1x1 conv to 8 dims (the
    width ``4 dim`` whatever ``n_down``: the codes are global)."""

    def __init__(self, dim: int, style_dim: int) -> None:
        super().__init__()
        self.trunk = nn.Sequential(_conv(3, dim, 7, 1, "none"), _conv(dim, 2 * dim, 4, 2, "none"),
                                   _conv(2 * dim, 4 * dim, 4, 2, "none"))  # fmt: skip

        def head() -> nn.Sequential:
            return nn.Sequential(_conv(4 * dim, 4 * dim, 4, 2, "none"),
                                 _conv(4 * dim, 4 * dim, 4, 2, "none"),
                                 nn.AdaptiveAvgPool2d(1), nn.Conv2d(4 * dim, style_dim, 1))

        self.fg, self.bg = head(), head()

    def foreground(self, x_f: torch.Tensor) -> torch.Tensor:
        return self.fg(self.trunk(x_f)).flatten(1)  # [B, 8]

    def background(self, x_b: torch.Tensor) -> torch.Tensor:
        return self.bg(self.trunk(x_b)).flatten(1)  # [B, 8]


class CoSegmentation(nn.Module):
    """Section 3.1 / Fig. 3: the mask of one image given the other image's content."""

    def __init__(self, channels: int, mask_dim: int, layers: int, attention: bool = True) -> None:
        super().__init__()
        self.attention = attention
        # 2-layer MLP on the other image's pooled content: tanh, then sigmoid (Fig. 3)
        self.gate = nn.Sequential(nn.Linear(channels, channels), nn.Tanh(),
                                  nn.Linear(channels, channels), nn.Sigmoid())  # fmt: skip
        convs = [nn.Sequential(nn.Conv2d(channels if i == 0 else mask_dim, mask_dim, 3, 1, 1),
                               nn.BatchNorm2d(mask_dim), nn.ReLU(inplace=True))
                 for i in range(layers)]  # fmt: skip
        self.body = nn.Sequential(*convs, nn.Conv2d(mask_dim, 1, 1), nn.Sigmoid())

    def forward(self, content: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """``content``, ``other`` ``[B, C, h, w]`` -> soft mask ``[B, 1, h, w]`` in (0, 1)."""
        if self.attention:
            a = self.gate(other.mean(dim=(2, 3)))  # [B, C] channel attention from the OTHER image
            content = content * a[:, :, None, None]
        return self.body(content)


class AdaINParams(nn.Module):
    """``MLP(s) -> (gamma, beta)``: the MLP outputs a mean and a log-variance per channel,
    ``beta = mean``, ``gamma = exp(0.5 * logvar)`` (official code; paper Eq. 4's MLPs)."""

    def __init__(self, style_dim: int, hidden: int, channels: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(style_dim, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, 2 * channels))  # fmt: skip

    def forward(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.mlp(style).chunk(2, dim=1)
        return torch.exp(0.5 * logvar), mean  # gamma, beta: [B, C] each


class Decoder(nn.Module):
    """``G``: residual blocks with layer norm, ``n_down`` (the paper: two) (nearest x2 + 5x5
    conv + LN), each halving the width, 7x7 conv, tanh."""

    def __init__(self, dim: int, n_res: int, n_down: int = 2) -> None:
        super().__init__()
        c = dim * 2**n_down
        layers: list[nn.Module] = [ResBlock(c, "ln") for _ in range(n_res)]
        for i in range(n_down, 0, -1):
            cin, cout = dim * 2**i, dim * 2 ** (i - 1)
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), _conv(cin, cout, 5, 1, "ln")]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(dim, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return (self.model(h) + 1) / 2  # tanh -> [0, 1]


def check_images(x: torch.Tensor, name: str, size: int | None = None) -> None:
    """``x`` must be a float ``[B, 3, H, W]`` batch (at ``size`` px if given)."""
    expect_shape(x, ["B", 3, "H", "W"], name, what="an RGB batch", hint=" (values in [0, 1])")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must be float in [0, 1], got {x.dtype}: use x.float() / 255")
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        raise ValueError(
            f"{name} is {tuple(x.shape[-2:])} px but this LOMIT was built for {size} x {size}: "
            f"resize it (F.interpolate(x, size={size}, mode='bilinear'))"
        )


def check_mask(mask: torch.Tensor, image: torch.Tensor, name: str) -> None:
    """A user mask must be ``[B, 1, H, W]`` float at the image's size."""
    expect_shape(mask, ["B", 1, "H", "W"], name, what="a soft mask", hint=" (values in [0, 1])")
    if mask.shape[0] != image.shape[0] or mask.shape[-2:] != image.shape[-2:]:
        raise ValueError(
            f"{name} {tuple(mask.shape)} and its image {tuple(image.shape)} differ in batch or "
            "size: give one mask per image at the image's resolution"
        )
    if not mask.dtype.is_floating_point:
        raise TypeError(f"{name} must be float in [0, 1], got {mask.dtype}: use mask.float()")


@dataclass
class Encoded:
    """One image's codes: content ``c``, masks (content and image size), styles."""

    content: torch.Tensor  # [B, C, h, w]
    mask: torch.Tensor  # [B, 1, h, w] (content resolution; HAdaIN's m)
    mask_image: torch.Tensor  # [B, 1, H, W] (image resolution; Eq. 1's m)
    style_f: torch.Tensor  # [B, 8]
    style_b: torch.Tensor | None  # [B, 8]; None for the global AdaIN baseline


class LOMIT(nn.Module):
    """The generator side of LOMIT (encoders, co-segmentation, HAdaIN MLPs, decoder)."""

    def __init__(self, config: LOMITConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is not None and kwargs:
            raise TypeError("pass a LOMITConfig or keyword arguments, not both")
        self.config = config or LOMITConfig(**kwargs)
        cfg = self.config
        self.content_encoder = ContentEncoder(cfg.dim, cfg.n_res, cfg.n_down)
        channels = self.content_encoder.out_channels
        self.style_encoders = StyleEncoders(cfg.dim, cfg.style_dim)
        self.coseg = CoSegmentation(channels, cfg.mask_dim, cfg.mask_layers, cfg.attention)
        self.mlp_f = AdaINParams(cfg.style_dim, cfg.mlp_dim, channels)
        self.mlp_b = AdaINParams(cfg.style_dim, cfg.mlp_dim, channels)
        self.decoder = Decoder(cfg.dim, cfg.n_res, cfg.n_down)
        if not cfg.use_masks:  # the global AdaIN baseline has no masks and no background style
            del self.coseg, self.mlp_b
            self.style_encoders.bg = nn.Identity()
        self.init_weights()

    def init_weights(self) -> None:
        """He (Kaiming) initialisation of every conv and linear layer (appendix 7.2)."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    # ---- pieces ---------------------------------------------------------------------
    def content(self, x: torch.Tensor) -> torch.Tensor:
        """``E_c(x)`` for ``x`` in [0, 1]."""
        return self.content_encoder(2 * x - 1)

    def masks(self, c1: torch.Tensor, c2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Co-segmentation of a pair: ``(m1, m2)`` at content resolution."""
        if not self.config.use_masks:
            ones = c1.new_ones(c1.shape[0], 1, *c1.shape[-2:])
            return ones, c2.new_ones(c2.shape[0], 1, *c2.shape[-2:])
        return self.coseg(c1, c2), self.coseg(c2, c1)

    def upsample(self, mask: torch.Tensor) -> torch.Tensor:
        """Content-resolution mask -> image-resolution mask (bilinear)."""
        size = self.config.image_size
        return F.interpolate(mask, size=(size, size), mode="bilinear", align_corners=False)

    def downsample(self, mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Image-resolution (user) mask -> content resolution (area average)."""
        return F.adaptive_avg_pool2d(mask, like.shape[-2:])

    def styles(self, x: torch.Tensor, mask_image: torch.Tensor):
        """Eqs. 1-2: ``s^f = E_s^f(m * x)``, ``s^b = E_s^b((1 - m) * x)``."""
        x = 2 * x - 1  # the encoders see [-1, 1]; a masked-out pixel is 0 (mid-grey)
        # Eq. 1-2: x^f = m * x
        s_f = self.style_encoders.foreground(mask_image * x)
        if not self.config.use_masks:
            return s_f, None
        # Eq. 1-2: x^b = (1 - m) x
        s_b = self.style_encoders.background((1 - mask_image) * x)
        return s_f, s_b

    def encode_pair(
        self,
        x1: torch.Tensor,
        x2: torch.Tensor,
        mask1: torch.Tensor | None = None,
        mask2: torch.Tensor | None = None,
    ) -> tuple[Encoded, Encoded]:
        """Content, co-segmentation masks (or the given image-size masks) and styles."""
        size = self.config.image_size
        check_images(x1, "x1 (input)", size)
        check_images(x2, "x2 (exemplar)", size)
        if x1.shape[0] != x2.shape[0]:
            raise ValueError(
                f"input batch {x1.shape[0]} and exemplar batch {x2.shape[0]} differ: pair them "
                "one to one"
            )
        c1, c2 = self.content(x1), self.content(x2)
        m1, m2 = self.masks(c1, c2)
        out = []
        for x, c, m, override, name in ((x1, c1, m1, mask1, "mask1"), (x2, c2, m2, mask2, "mask2")):
            if override is not None:
                if not self.config.use_masks:
                    raise ValueError("the global AdaIN baseline has no masks to override")
                check_mask(override, x, name)
                m_image, m = override, self.downsample(override, c)
            else:
                m_image = self.upsample(m)
            s_f, s_b = self.styles(x, m_image)
            out.append(Encoded(c, m, m_image, s_f, s_b))
        return out[0], out[1]

    def hadain(self, content: torch.Tensor, mask: torch.Tensor, style_f: torch.Tensor,
               style_b: torch.Tensor | None) -> torch.Tensor:  # fmt: skip
        """Eq. 4 ``h(c, m, s^f, s^b)``; the baseline: AdaIN with ``s^f`` everywhere (Eq. 3)."""
        # Eq. 4: [beta; gamma] = MLP_f(s^f)
        fg_gamma, fg_beta = self.mlp_f(style_f)
        if style_b is None:
            bg_gamma, bg_beta = fg_gamma, fg_beta  # global AdaIN: one style everywhere
        else:
            # Eq. 4: [beta; gamma] = MLP_b(s^b)
            bg_gamma, bg_beta = self.mlp_b(style_b)
        return highway_adain(content, mask, fg_gamma, fg_beta, bg_gamma, bg_beta)

    def decode(self, content, mask, style_f, style_b) -> torch.Tensor:
        """``x = G(h(c, m, s^f, s^b))``."""
        return self.decoder(self.hadain(content, mask, style_f, style_b))

    # ---- user-facing ----------------------------------------------------------------
    def translate(
        self,
        x1: torch.Tensor,
        x2: torch.Tensor,
        mask_override: tuple[torch.Tensor | None, torch.Tensor | None] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Translate input ``x1`` with the foreground style of exemplar ``x2``.

        ``mask_override = (mask1, mask2)`` replaces the co-segmentation masks (image size,
        ``[B, 1, H, W]``; either may be ``None``) - the paper's mask editing (Fig. 4 a'-c').
        Returns ``{"output", "mask1", "mask2"}`` (masks at image size).
        """
        mask1, mask2 = mask_override if mask_override is not None else (None, None)
        e1, e2 = self.encode_pair(x1, x2, mask1, mask2)
        out = self.decode(e1.content, e1.mask, e2.style_f, e1.style_b)  # x_{1->2}
        return {"output": out, "mask1": e1.mask_image, "mask2": e2.mask_image}

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self.translate(x1, x2)["output"]


def erase_box(mask: torch.Tensor, top: float, left: float, bottom: float, right: float,
              value: float = 0.0) -> torch.Tensor:  # fmt: skip
    """A copy of ``mask [B, 1, H, W]`` with the box (fractions of the image, ``[0, 1]``) set to
    ``value`` - the paper's mask editing (Fig. 4: "the area marked as a red rectangle")."""
    if not (0 <= top < bottom <= 1 and 0 <= left < right <= 1):
        raise ValueError(
            f"box must satisfy 0 <= top < bottom <= 1 and 0 <= left < right <= 1, got "
            f"({top}, {left}, {bottom}, {right})"
        )
    h, w = mask.shape[-2:]
    out = mask.clone()
    out[..., round(top * h): round(bottom * h), round(left * w): round(right * w)] = value
    return out


def erase_region(mask: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """``mask * (1 - region)``: remove a (bool or soft) region ``[B, 1, H, W]`` or ``[H, W]``."""
    region = region.to(mask.dtype)
    while region.dim() < 4:
        region = region.unsqueeze(0)
    if region.shape[-2:] != mask.shape[-2:]:
        raise ValueError(
            f"region {tuple(region.shape)} and mask {tuple(mask.shape)} differ in size: give "
            "the region at the mask's resolution"
        )
    return mask * (1 - region)
