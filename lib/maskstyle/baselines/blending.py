"""Face-blending baselines of LRNet's comparison (Zheng et al. 2020, Section 5.3, Table 1).

All four blend the foreground of a source face ``x_A`` onto an aligned target ``x_B``:

* **Alpha blending** - Reinhard et al.'s colour transfer moves A's colours towards B's
  (per-channel mean/std matching in a decorrelated colour space), then Porter-Duff
  compositing ``x = a * x_A' + (1 - a) * x_B`` with a feathered (Gaussian-blurred) mask
  ``a``. Colour space: **CIE 1976 L*a*b* (D65, sRGB input)** from
  :func:`skimage.color.rgb2lab` - *not* Reinhard's original l-alpha-beta (log-LMS)
  space, and not OpenCV's 8-bit Lab. The statistics are taken over the foreground of A and
  the same regions of B (a face-to-face transfer), and applied to every pixel of A.
* **Poisson blending** (Perez et al. 2003) - OpenCV's :func:`cv2.seamlessClone`:
  ``NORMAL_CLONE`` keeps A's gradients inside the mask with B's values on its border;
  ``MIXED_CLONE`` keeps, per pixel, the stronger of A's and B's gradients.
* **Style blending** - AdaIN (Huang & Belongie 2017) at VGG19 relu4_1 restyles A with B's
  statistics, a decoder inverts the features, then alpha blending as above.
* Deep image blending (Zhang et al. 2020), first stage: :mod:`maskstyle.baselines.deep_blending`.

Images are float32 ``[3, H, W]`` or ``[B, 3, H, W]`` in [0, 1]; foreground masks are bool
(or 0/1) ``[H, W]`` / ``[B, H, W]``; build one from a label map with :func:`region_mask`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from skimage.color import lab2rgb, rgb2lab

from maskstyle.nn.masks import check_label_map
from maskstyle.nn.stats import adain

DEFAULT_FEATHER_SIGMA = 2.0
"""Gaussian sigma (pixels) that softens masks for alpha blending (paper: unspecified)."""


# --------------------------------------------------------------------------- helpers


def region_mask(labels: torch.Tensor, regions: Sequence[int]) -> torch.Tensor:
    """Bool foreground ``[..., H, W]``: pixels of ``labels`` whose value is in ``regions``."""
    check_label_map(labels, "labels", batch=labels.dim() == 3)
    wanted = torch.as_tensor(list(regions), dtype=labels.dtype, device=labels.device)
    return torch.isin(labels, wanted)


def _batched(images: torch.Tensor, masks: torch.Tensor | None = None, what: str = "image"):
    """Validate an image (and mask) layout; return ``[B, 3, H, W]``, ``[B, H, W]``, squeeze."""
    if not isinstance(images, torch.Tensor) or images.dim() not in (3, 4):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
        raise ValueError(f"{what} must be [3, H, W] or [B, 3, H, W] in [0, 1], got {shape}")
    squeeze = images.dim() == 3
    images = images[None] if squeeze else images
    if images.shape[1] != 3:
        raise ValueError(
            f"{what} must have 3 channels first ([B, 3, H, W]), got {tuple(images.shape)}; "
            "for an [H, W, 3] array use .permute(2, 0, 1)"
        )
    if masks is None:
        return images, None, squeeze
    if masks.dim() == 2:
        masks = masks[None]
    if masks.shape != (images.shape[0], *images.shape[-2:]):
        raise ValueError(
            f"mask shape {tuple(masks.shape)} does not match {what} {tuple(images.shape)}: "
            "a foreground mask is [H, W] or [B, H, W] at the image size"
        )
    return images, masks, squeeze


def _check_pair(image_a: torch.Tensor, image_b: torch.Tensor) -> None:
    if image_a.shape != image_b.shape:
        raise ValueError(
            f"image_a {tuple(image_a.shape)} and image_b {tuple(image_b.shape)} must have the "
            "same shape: blending needs an aligned pair (resize or warp one of them first)"
        )


def _check_not_empty(fg: torch.Tensor, what: str) -> None:
    empty = ~fg.flatten(1).any(1)
    if bool(empty.any()):
        raise ValueError(
            f"{what} is empty for sample(s) {empty.nonzero()[:, 0].tolist()}: there is no "
            "foreground to blend - check the mask or the selected regions"
        )


def feather_mask(fg: torch.Tensor, sigma: float = DEFAULT_FEATHER_SIGMA) -> torch.Tensor:
    """Soft alpha ``[B, 1, H, W]`` in [0, 1]: the foreground ``[B, H, W]`` Gaussian-blurred.

    ``sigma`` is in pixels of ``fg`` (0 = hard mask); a separable Gaussian kernel spanning
    +-3 sigma (clipped to the image), reflection padding at the borders.
    """
    if fg.dim() != 3:
        raise ValueError(f"fg must be a [B, H, W] mask, got shape {tuple(fg.shape)}")
    alpha = fg[:, None].float()
    if sigma <= 0:
        return alpha
    radius = min(max(1, int(np.ceil(3 * sigma))), (min(fg.shape[-2:]) - 1))
    if radius < 1:
        return alpha
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32, device=fg.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    alpha = F.pad(alpha, (radius, radius, radius, radius), mode="reflect")
    alpha = F.conv2d(alpha, kernel.view(1, 1, 1, -1))
    alpha = F.conv2d(alpha, kernel.view(1, 1, -1, 1))
    return alpha.clamp(0, 1)


def alpha_blend(foreground: torch.Tensor, background: torch.Tensor, alpha: torch.Tensor):
    """Porter-Duff "over" with an alpha map: ``alpha * fg + (1 - alpha) * bg``."""
    return alpha * foreground + (1 - alpha) * background


# --------------------------------------------------------------------------- Reinhard


def reinhard_color_transfer(
    source: torch.Tensor,
    target: torch.Tensor,
    source_mask: torch.Tensor | None = None,
    target_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reinhard colour transfer in CIE L*a*b*: match A's per-channel mean/std to B's.

    ``l' = (l - mu_s) / sigma_s * sigma_t + mu_t`` per Lab channel, with statistics over
    ``source_mask`` / ``target_mask`` (default: whole images), applied to every pixel of
    ``source``; the result is converted back to sRGB and clipped to [0, 1].
    """
    src, smask, squeeze = _batched(source, source_mask, "source")
    tgt, tmask, _ = _batched(target, target_mask, "target")
    if src.shape[0] != tgt.shape[0]:
        raise ValueError(f"source and target batch sizes differ: {src.shape[0]} vs {tgt.shape[0]}")
    out = []
    for i in range(src.shape[0]):
        lab_s = rgb2lab(src[i].permute(1, 2, 0).detach().cpu().double().numpy())
        lab_t = rgb2lab(tgt[i].permute(1, 2, 0).detach().cpu().double().numpy())
        sel_s = lab_s.reshape(-1, 3) if smask is None else lab_s[smask[i].cpu().numpy() > 0]
        sel_t = lab_t.reshape(-1, 3) if tmask is None else lab_t[tmask[i].cpu().numpy() > 0]
        if len(sel_s) == 0 or len(sel_t) == 0:
            which = "source" if len(sel_s) == 0 else "target"
            raise ValueError(
                f"colour transfer needs pixels to measure: the {which} mask of sample {i} is empty"
            )
        mu_s, sd_s = sel_s.mean(0), sel_s.std(0) + 1e-6
        mu_t, sd_t = sel_t.mean(0), sel_t.std(0)
        with warnings.catch_warnings():  # out-of-gamut colours are clipped on purpose
            warnings.filterwarnings("ignore", message=".*negative Z values.*")
            rgb = lab2rgb((lab_s - mu_s) / sd_s * sd_t + mu_t).clip(0, 1)
        out.append(torch.from_numpy(rgb).permute(2, 0, 1).to(source.dtype))
    result = torch.stack(out).to(source.device)
    return result[0] if squeeze else result


def alpha_blending(
    image_a: torch.Tensor,
    image_b: torch.Tensor,
    fg: torch.Tensor,
    fg_b: torch.Tensor | None = None,
    sigma: float = DEFAULT_FEATHER_SIGMA,
    color_transfer: bool = True,
) -> torch.Tensor:
    """Alpha-blending baseline: Reinhard colour transfer of A to B, then feathered alpha.

    ``fg`` is A's foreground (what is pasted); ``fg_b`` B's matching region for the colour
    statistics (default ``fg``: the pair is aligned).
    """
    _check_pair(image_a, image_b)
    a, fg_, squeeze = _batched(image_a, fg, "image_a")
    b, fg_b_, _ = _batched(image_b, fg if fg_b is None else fg_b, "image_b")
    _check_not_empty(fg_, "the foreground mask")
    if color_transfer:
        a = reinhard_color_transfer(a, b, fg_, fg_b_)
    out = alpha_blend(a, b, feather_mask(fg_, sigma).to(a.dtype))
    return out[0] if squeeze else out


# --------------------------------------------------------------------------- Poisson

POISSON_MODES = {"normal": cv2.NORMAL_CLONE, "mixed": cv2.MIXED_CLONE}


def _to_bgr8(image: torch.Tensor) -> np.ndarray:
    rgb = (image.detach().cpu().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    return np.ascontiguousarray(rgb[..., ::-1])


def poisson_blending(
    image_a: torch.Tensor, image_b: torch.Tensor, fg: torch.Tensor, mode: str = "normal"
) -> torch.Tensor:
    """Poisson blending of A's foreground onto B with OpenCV ``seamlessClone``.

    ``mode="normal"`` (``NORMAL_CLONE``) or ``"mixed"`` (``MIXED_CLONE``). The pair is
    aligned, so the clone is placed where the mask is (centre of its bounding box). Works
    on 8-bit images (OpenCV's API): the result is quantised to 1/255.
    """
    if mode not in POISSON_MODES:
        raise ValueError(f"mode must be one of {sorted(POISSON_MODES)}, got {mode!r}")
    _check_pair(image_a, image_b)
    a, fg_, squeeze = _batched(image_a, fg, "image_a")
    b, _, _ = _batched(image_b, None, "image_b")
    _check_not_empty(fg_, "the foreground mask")
    out = []
    for i in range(a.shape[0]):
        mask8 = (fg_[i].cpu().numpy() > 0).astype(np.uint8) * 255
        # seamlessClone solves inside the mask's bounding box and needs a 1-pixel margin.
        mask8[[0, -1], :] = 0
        mask8[:, [0, -1]] = 0
        if not mask8.any():
            raise ValueError(f"the foreground of sample {i} lies only on the image border")
        x, y, w, h = cv2.boundingRect(mask8)
        if min(w, h) < 3:  # OpenCV asserts inside seamlessClone for thinner masks
            raise ValueError(
                f"the foreground of sample {i} spans only {w}x{h} px; seamlessClone needs a "
                "bounding box of at least 3x3 - blend a larger region or a larger image"
            )
        centre = (x + w // 2, y + h // 2)
        res = cv2.seamlessClone(_to_bgr8(a[i]), _to_bgr8(b[i]), mask8, centre, POISSON_MODES[mode])
        out.append(torch.from_numpy(res[..., ::-1].copy()).permute(2, 0, 1).float() / 255)
    result = torch.stack(out).to(image_a.device, image_a.dtype)
    return result[0] if squeeze else result


# --------------------------------------------------------------------------- style


def style_blend(
    image_a: torch.Tensor,
    image_b: torch.Tensor,
    fg: torch.Tensor,
    encode: Callable[[torch.Tensor], torch.Tensor],
    decode: Callable[[torch.Tensor], torch.Tensor],
    sigma: float = DEFAULT_FEATHER_SIGMA,
) -> torch.Tensor:
    """Style blending: ``decode(AdaIN(encode(A), encode(B)))`` alpha-blended onto B.

    ``encode`` maps ``[B, 3, H, W]`` images to features, ``decode`` features back to
    images of the same size (see :class:`StyleBlending` for VGG19 relu4_1 + its decoder).
    """
    _check_pair(image_a, image_b)
    a, fg_, squeeze = _batched(image_a, fg, "image_a")
    b, _, _ = _batched(image_b, None, "image_b")
    _check_not_empty(fg_, "the foreground mask")
    both = encode(torch.cat([a, b]))
    stylised = decode(adain(both[: len(a)], both[len(a) :])).clamp(0, 1)
    if stylised.shape != a.shape:
        raise ValueError(
            f"decode returned {tuple(stylised.shape)} for images {tuple(a.shape)}: the decoder "
            "must invert the encoder to the input size"
        )
    out = alpha_blend(stylised, b, feather_mask(fg_, sigma).to(a.dtype))
    return out[0] if squeeze else out


class StyleBlending(torch.nn.Module):
    """Style-blending baseline with VGG19 relu4_1 features and their decoder.

    ``encoder`` / ``decoder`` default to :class:`maskstyle.nn.vgg.VGG19Features`
    (``weights``, ``seed``) and :class:`maskstyle.nn.vgg_decoder.VGGDecoder` ("relu4_1"),
    whose weights may be loaded from ``decoder_weights`` (a state-dict path). Random
    decoders give meaningless images: check ``provenance``.
    """

    def __init__(
        self,
        weights: str = "random",
        decoder_weights: str | None = None,
        sigma: float = DEFAULT_FEATHER_SIGMA,
        seed: int = 0,
        encoder: torch.nn.Module | None = None,
        decoder: torch.nn.Module | None = None,
    ) -> None:
        super().__init__()
        if encoder is None:
            from maskstyle.nn.vgg import VGG19Features

            encoder = VGG19Features(layers=("relu4_1",), weights=weights, seed=seed)
        if decoder is None:
            from maskstyle.nn.vgg_decoder import VGGDecoder

            decoder = VGGDecoder(layer="relu4_1", seed=seed)
            if decoder_weights is not None:
                state = torch.load(decoder_weights, map_location="cpu", weights_only=True)
                decoder.load_state_dict(state)
                decoder.provenance = f"VGGDecoder(relu4_1): {decoder_weights}"
        self.encoder, self.decoder, self.sigma = encoder, decoder, sigma
        self.provenance = {
            "encoder": getattr(encoder, "provenance", type(encoder).__name__),
            "decoder": getattr(decoder, "provenance", decoder_weights or type(decoder).__name__),
        }

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(images)
        return feats["relu4_1"] if isinstance(feats, dict) else feats

    @torch.no_grad()
    def forward(self, image_a: torch.Tensor, image_b: torch.Tensor, fg: torch.Tensor):
        return style_blend(image_a, image_b, fg, self.encode, self.decoder, self.sigma)
