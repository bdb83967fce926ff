"""Light and texture: Lambertian shading, seeded noise fields, camera blur and noise.

Surfaces are lit by one directional light plus ambient light (Lambert's cosine law):

    I = albedo * (ambient + intensity * colour * max(0, n . l)),                     (1)

with ``n`` the camera-frame surface normal and ``l`` the unit vector toward the light,
``l = (cos e sin a, -sin e, cos e cos a)`` for azimuth ``a`` (positive: from the image
right) and elevation ``e`` (positive: from above; image ``y`` points down). Textures are
seeded noise so they are identical whenever their seed is: the skin grain of a face does
not change when its eyeglasses do.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from maskstyle.data.synth.params import Environment


def light_direction(azimuth: float, elevation: float) -> np.ndarray:
    """Unit vector toward the light (camera frame, ``y`` down, ``z`` toward the camera)."""
    a, e = np.radians(azimuth), np.radians(elevation)
    return np.array([np.cos(e) * np.sin(a), -np.sin(e), np.cos(e) * np.cos(a)], np.float32)


def lambert(normal: np.ndarray, env: Environment) -> np.ndarray:
    """Eq. (1) without the albedo: RGB irradiance ``[H, W, 3]`` for normals ``[3, H, W]``."""
    light = light_direction(env.light_azimuth, env.light_elevation)
    cos = np.maximum(np.tensordot(light, normal, axes=1), 0.0)
    colour = np.asarray(env.light_colour, np.float32) * np.float32(env.light_intensity)
    return np.float32(env.ambient) + cos[..., None] * colour


def white_noise(seed: int, size: int) -> np.ndarray:
    """Standard-normal noise ``[size, size]`` float32 from ``seed``."""
    return np.random.default_rng(seed).standard_normal((size, size), dtype=np.float32)


def smooth_noise(seed: int, size: int, cells: int) -> np.ndarray:
    """Band-limited noise in ``[0, 1]``: a ``cells`` x ``cells`` random lattice, bilinear.

    The lattice is defined in normalised coordinates, so the pattern is the same at every
    image size.
    """
    lattice = np.random.default_rng(seed).random((cells + 1, cells + 1), dtype=np.float32)
    t = (np.arange(size, dtype=np.float32) + 0.5) / size * cells
    i = np.minimum(t.astype(np.int64), cells - 1)
    f = t - i
    f = f * f * (3 - 2 * f)  # smoothstep: no creases at lattice lines
    rows = lattice[i] * (1 - f)[:, None] + lattice[i + 1] * f[:, None]
    return rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]


def blur_radius(env: Environment, size: int) -> int:
    """Pixels a camera blur can move a value (``gaussian_filter``'s truncation radius)."""
    sigma = env.blur * size
    return int(4.0 * sigma + 0.5) if sigma > 0 else 0


def camera(image: np.ndarray, env: Environment) -> np.ndarray:
    """Apply the environment's Gaussian blur and additive noise; clip to ``[0, 1]``."""
    size = image.shape[0]
    sigma = env.blur * size
    if sigma > 0:
        image = ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0), truncate=4.0)
    if env.noise > 0:
        rng = np.random.default_rng(env.noise_seed)
        image = image + np.float32(env.noise) * rng.standard_normal(image.shape, np.float32)
    return np.clip(image, 0.0, 1.0)
