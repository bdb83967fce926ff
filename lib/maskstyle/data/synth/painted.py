"""Painted portraits: face-world faces re-rendered in painterly styles, with their masks.

They serve as style exemplars for the style-transfer papers (a style image that has a
label map). A style is three operations on the photo-like render:

1. *Stroke direction*: a unit vector field - along the image's edges (perpendicular to
   the smoothed luminance gradient, from the structure tensor
   ``J = G_s * (grad I grad I^T)``, whose minor eigenvector is the edge direction), a fixed
   angle, or a swirl around the image centre.
2. *Brush texture*: line-integral convolution (LIC) - white noise and the image are
   averaged along the stroke direction,
   ``B(p) = (1 / (2L + 1)) sum_{k=-L..L} N(p + k d(p))``,                              (1)
   which turns isotropic noise into oriented strokes and smears colour along them.
3. *Palette*: each pixel is mapped to the nearest colour of a small palette (k-means on
   the image for ``oil``; fixed inks for ``pop``), then mixed with the brush texture.

The mask is the face's mask: paint never moves a part's boundary by more than a stroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from maskstyle.data.synth.params import as_generator, sample_params
from maskstyle.data.synth.renderer import render


@dataclass(frozen=True)
class PaintStyle:
    direction: str  # "edges", "angle" or "swirl"
    angle: float  # degrees, for "angle"
    stroke: float  # stroke half-length as a fraction of the image size
    texture: float  # strength of the brush texture
    palette: str  # "kmeans", "pop", "gray" or "earth"
    colours: int  # palette size
    smear: float  # how much of the LIC-smeared colour replaces the original
    paper: float  # paper grain strength


PAINT_STYLES: dict[str, PaintStyle] = {
    "oil": PaintStyle("edges", 0.0, 0.025, 0.10, "kmeans", 8, 0.6, 0.0),
    "impressionist": PaintStyle("angle", 60.0, 0.02, 0.16, "kmeans", 12, 0.7, 0.0),
    "watercolour": PaintStyle("swirl", 0.0, 0.02, 0.04, "earth", 6, 0.6, 0.05),
    "pop": PaintStyle("edges", 0.0, 0.01, 0.03, "pop", 4, 0.3, 0.0),
    "sketch": PaintStyle("angle", -35.0, 0.03, 1.0, "gray", 5, 0.2, 0.03),
}
"""Named painterly styles."""

_POP = np.array(
    [[0.10, 0.08, 0.25], [0.85, 0.15, 0.35], [0.98, 0.80, 0.15], [0.55, 0.90, 0.95]], np.float32
)
_EARTH = np.array(
    [[0.25, 0.20, 0.18], [0.55, 0.40, 0.30], [0.80, 0.65, 0.50], [0.45, 0.55, 0.60],
     [0.90, 0.85, 0.75], [0.65, 0.30, 0.25]], np.float32
)  # fmt: skip


def stroke_field(image: np.ndarray, style: PaintStyle) -> tuple[np.ndarray, np.ndarray]:
    """Unit stroke direction ``(dx, dy)`` per pixel (``[H, W]`` each)."""
    size = image.shape[0]
    if style.direction == "angle":
        a = np.radians(style.angle)
        return np.full((size, size), np.cos(a), np.float32), np.full((size, size), np.sin(a))
    if style.direction == "swirl":
        c = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
        x, y = np.meshgrid(c, c)
        r = np.sqrt(x * x + y * y) + 1e-3
        return -y / r, x / r
    lum = image.mean(axis=2)
    gx, gy = ndimage.sobel(lum, axis=1), ndimage.sobel(lum, axis=0)
    s = max(size / 64.0, 1.0)
    jxx = ndimage.gaussian_filter(gx * gx, s)
    jxy = ndimage.gaussian_filter(gx * gy, s)
    jyy = ndimage.gaussian_filter(gy * gy, s)
    theta = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2  # minor eigenvector: the edge
    return np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)


def line_integral(field: np.ndarray, dx: np.ndarray, dy: np.ndarray, steps: int) -> np.ndarray:
    """Eq. (1): average ``field`` (``[H, W]`` or ``[H, W, C]``) along the stroke field."""
    size = field.shape[0]
    rows, cols = np.indices((size, size), dtype=np.float32)
    total = np.zeros_like(field, dtype=np.float32)
    for k in range(-steps, steps + 1):
        r = np.clip(np.rint(rows + k * dy), 0, size - 1).astype(np.int64)
        c = np.clip(np.rint(cols + k * dx), 0, size - 1).astype(np.int64)
        total += field[r, c]
    return total / (2 * steps + 1)


def _kmeans_palette(image: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    pixels = image.reshape(-1, 3)
    sample = pixels[rng.choice(len(pixels), size=min(2048, len(pixels)), replace=False)]
    centres = sample[rng.choice(len(sample), size=k, replace=False)]
    for _ in range(8):  # Lloyd iterations, all clusters at once
        nearest = ((sample[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        counts = np.bincount(nearest, minlength=k)
        sums = np.stack([np.bincount(nearest, sample[:, c], minlength=k) for c in range(3)], 1)
        filled = counts > 0  # an empty cluster keeps its centre
        centres[filled] = (sums[filled] / counts[filled, None]).astype(np.float32)
    return centres


def quantise(image: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Map each pixel of ``[H, W, 3]`` to its nearest palette colour."""
    nearest = ((image[..., None, :] - palette) ** 2).sum(-1).argmin(-1)
    return palette[nearest]


def paint_image(image: np.ndarray, style: PaintStyle, rng: np.random.Generator) -> np.ndarray:
    """Repaint an ``[H, W, 3]`` image in ``style`` (deterministic given ``rng``)."""
    size = image.shape[0]
    dx, dy = stroke_field(image, style)
    steps = max(1, int(round(style.stroke * size)))
    smeared = line_integral(image, dx, dy, steps)
    base = image + style.smear * (smeared - image)
    if style.palette == "kmeans":
        palette = _kmeans_palette(base, style.colours, rng)
    elif style.palette == "pop":
        palette = _POP
    elif style.palette == "earth":
        palette = _EARTH
    elif style.palette == "gray":
        palette = None
    else:
        raise ValueError(f"unknown palette {style.palette!r}")
    noise = rng.standard_normal((size, size), dtype=np.float32)
    brush = line_integral(noise, dx, dy, steps) * np.sqrt(2 * steps + 1)  # unit variance
    if palette is None:  # pencil: hatching where the image is dark, plus edge lines
        lum = base.mean(2)
        levels = np.round(lum * (style.colours - 1)) / (style.colours - 1)
        hatch = np.clip(style.texture * 0.35 * brush + 1.6 * (1.0 - levels) - 0.5, 0.0, 1.0)
        edges = np.hypot(ndimage.sobel(lum, axis=0), ndimage.sobel(lum, axis=1))
        grey = (1.0 - 0.8 * hatch) * (1.0 - np.clip(edges * 1.5, 0.0, 0.8))
        painted = np.repeat(grey[..., None], 3, axis=2) * np.float32([1.0, 0.98, 0.93])
    elif style.palette == "pop":  # posterise by luminance onto the inks
        lum = base.mean(2)
        scaled = (lum - lum.min()) / (np.ptp(lum) + 1e-6) * len(palette)
        painted = palette[np.clip(scaled, 0, len(palette) - 1).astype(np.int64)]
    else:
        painted = 0.45 * base + 0.55 * quantise(base, palette)
        painted = painted * (1.0 + style.texture * brush[..., None])
    if style.paper:
        painted = painted * (1.0 + style.paper * rng.standard_normal((size, size, 1), np.float32))
    return np.clip(painted, 0.0, 1.0).astype(np.float32)


def painted_portrait(seed: int | np.random.Generator, size: int = 128, style: str = "oil") -> dict:
    """A face (``render`` sample) repainted in ``style``; ``photo`` keeps the plain render.

    The sample also records ``style`` (its name). The mask, attrs, landmarks, pose, coords and
    params are the underlying face's.
    """
    if style not in PAINT_STYLES:
        raise ValueError(f"unknown paint style {style!r}; valid: {', '.join(PAINT_STYLES)}")
    rng = as_generator(seed)
    sample = render(sample_params(rng), size)
    photo = sample["image"]
    image = paint_image(photo.permute(1, 2, 0).numpy(), PAINT_STYLES[style], rng)
    sample["image"] = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    sample["photo"] = photo
    sample["style"] = style
    return sample
