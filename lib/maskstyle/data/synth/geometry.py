"""Head geometry: a posed ellipsoid seen by an orthographic camera, and soft 2D shapes.

**Image frame.** Normalised coordinates ``u`` (right) and ``v`` (down) in ``[-1, 1]``;
pixel ``j`` of ``S`` has centre ``u = (2j + 1)/S - 1``, so one pixel spans ``2/S`` at every
size and the same parameters draw the same face at 32 px and at 512 px.

**Head.** An ellipsoid with semi-axes ``(a, b, c)`` in the face's own frame (``x`` toward the
person's left, ``y`` down, ``z`` out of the face), posed by ``R = R_y(yaw) R_x(pitch)`` and
then rolled in the image plane. A pixel ray ``p(t) = (x, y, t)`` meets the posed ellipsoid
``p^T M p = 1`` with ``M = R D R^T``, ``D = diag(a^-2, b^-2, c^-2)``, where

    M33 t^2 + 2 (M13 x + M23 y) t + (M11 x^2 + 2 M12 x y + M22 y^2) - 1 = 0,       (1)

and the visible point is the larger root (the camera looks down ``-z``). Its face-frame
point ``q = R^T p`` scaled to the unit sphere, ``(X, Y, Z) = (q_x/a, q_y/b, q_z/c)``, is the
*face coordinate*: the same nose tip gets the same ``(X, Y, Z)`` whatever the pose (the
role of LRNet's PRNet vertices mapped to a unit sphere). The surface normal is
``n = R (X/a, Y/b, Z/c)`` normalised. A jaw taper narrows the lower head: before Eq. (1)
the roll-aligned ``x`` is divided by ``w(y) = 1 - taper * clip(y / b, 0, 1)^2``.

**Soft shapes.** Every part is an implicit function with an approximate signed distance
``d`` (negative inside); its coverage of a pixel is ``clip(0.5 - d / pixel, 0, 1)``, which
anti-aliases edges without supersampling, and the label map takes coverage > 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from maskstyle.data.synth.params import Geometry

MIN_SIZE, MAX_SIZE = 32, 512


def check_size(size: int) -> int:
    """Validate an image size (square, 32..512 px)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an int number of pixels, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(
            f"size must be between {MIN_SIZE} and {MAX_SIZE} px (square images), got {size}"
        )
    return int(size)


def pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(u, v)``, each ``[size, size]`` float32 in ``(-1, 1)``."""
    c = (2.0 * np.arange(size, dtype=np.float32) + 1.0) / size - 1.0
    return np.broadcast_to(c[None, :], (size, size)), np.broadcast_to(c[:, None], (size, size))


def coverage(d: np.ndarray, pixel: float) -> np.ndarray:
    """Anti-aliased coverage of a shape with signed distance ``d`` (negative inside)."""
    return np.clip(0.5 - d / pixel, 0.0, 1.0)


def pixel_coverage(f: np.ndarray) -> np.ndarray:
    """Coverage of ``f < 0`` for an implicit ``f`` in any units: ``f / |grad f|`` in pixels.

    For shapes on the curved head whose face-plane distance is far from the image distance
    (the sides of a turned head), the gradient is measured on the pixel grid itself
    (central differences), so edges stay one pixel wide.
    """
    if min(f.shape) < 2:
        return (f < 0).astype(np.float32)
    gy, gx = np.gradient(f)
    return np.clip(0.5 - f / (np.sqrt(gx * gx + gy * gy) + 1e-9), 0.0, 1.0)


def ellipse_distance(x: np.ndarray, y: np.ndarray, rx: float, ry: float) -> np.ndarray:
    """Approximate signed distance to the ellipse ``(x/rx)^2 + (y/ry)^2 = 1``.

    ``f / |grad f|`` with ``f = (x/rx)^2 + (y/ry)^2 - 1`` - exact on the boundary, which is
    all coverage needs.
    """
    ex, ey = x / (rx * rx), y / (ry * ry)
    f = x * ex + y * ey - 1.0
    return f / (2.0 * np.sqrt(ex * ex + ey * ey) + 1e-6)


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """``R = R_y(yaw) R_x(pitch)`` (degrees): camera-from-face rotation before roll."""
    cy, sy = np.cos(np.radians(yaw)), np.sin(np.radians(yaw))
    cp, sp = np.cos(np.radians(pitch)), np.sin(np.radians(pitch))
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    return ry @ rx


@dataclass
class HeadView:
    """A posed head seen on a pixel grid (all arrays ``[S, S]`` float32).

    ``xr, yr`` are roll-aligned image coordinates about the head centre; ``hit`` is where a
    ray meets the head ellipsoid, ``X, Y, Z`` the unit-sphere face coordinate there
    (zero elsewhere), ``normal`` the camera-frame unit normal ``[3, S, S]``, ``head_d`` the
    signed distance to the head silhouette and ``pixel`` the size of one pixel.
    """

    size: int
    pixel: float
    u: np.ndarray
    v: np.ndarray
    xr: np.ndarray
    yr: np.ndarray
    hit: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    Z: np.ndarray
    normal: np.ndarray
    head_d: np.ndarray
    axes: tuple[float, float, float]
    rot: np.ndarray
    geometry: Geometry
    window: tuple[slice, slice] | None = None  # pixels that can show the head

    def taper(self, yr: np.ndarray | float) -> np.ndarray | float:
        b = self.axes[1]
        return 1.0 - self.geometry.jaw_taper * np.clip(np.asarray(yr) / b, 0.0, 1.0) ** 2

    def project(self, points: np.ndarray) -> np.ndarray:
        """Unit-sphere face points ``[N, 3]`` -> normalised image ``(u, v)`` ``[N, 2]``."""
        a, b, c = self.axes
        q = np.asarray(points, dtype=np.float64) * np.array([a, b, c])
        p = q @ self.rot.T
        x = p[:, 0] * self.taper(p[:, 1])
        y = p[:, 1]
        return self.unroll(x, y)

    def unroll(self, xr: np.ndarray, yr: np.ndarray) -> np.ndarray:
        """Roll-aligned head coordinates -> normalised image ``(u, v)`` ``[N, 2]``."""
        g = self.geometry
        cr, sr = np.cos(np.radians(g.roll)), np.sin(np.radians(g.roll))
        u = cr * xr - sr * yr + g.center_x
        v = sr * xr + cr * yr + g.center_y
        return np.stack([u, v], axis=-1)

    def silhouette_span(self, yr: float) -> tuple[float, float]:
        """Centre and half-width of the head silhouette along the roll-aligned row ``yr``.

        The outline of the posed ellipsoid is the ellipse ``(x, y) Q (x, y)^T = 1`` with
        ``Q = M_xy - m m^T / M33`` (Eq. 1 with a double root); the jaw taper scales it.
        """
        a, b, c = self.axes
        m = self.rot @ np.diag([a**-2, b**-2, c**-2]) @ self.rot.T
        q11 = m[0, 0] - m[0, 2] ** 2 / m[2, 2]
        q12 = m[0, 1] - m[0, 2] * m[1, 2] / m[2, 2]
        q22 = m[1, 1] - m[1, 2] ** 2 / m[2, 2]
        disc = max((q12 * yr) ** 2 - q11 * (q22 * yr * yr - 1.0), 0.0)
        taper = float(self.taper(yr))
        return float(-q12 * yr / q11 * taper), float(np.sqrt(disc) / q11 * taper)


Window = tuple[slice, slice]


def window_around(uv: np.ndarray, size: int, margin: int = 2) -> Window | None:
    """Pixel window (row, column slices) covering normalised points ``uv`` ``[N, 2]``.

    Grown by ``margin`` pixels for anti-aliased edges; ``None`` when it misses the image.
    """
    px = (np.asarray(uv, np.float64) + 1.0) * (size / 2.0) - 0.5
    lo, hi = px.min(axis=0).tolist(), px.max(axis=0).tolist()
    c0, r0 = max(math.floor(lo[0]) - margin, 0), max(math.floor(lo[1]) - margin, 0)
    c1, r1 = min(math.ceil(hi[0]) + margin + 1, size), min(math.ceil(hi[1]) + margin + 1, size)
    if c0 >= c1 or r0 >= r1:
        return None
    return slice(r0, r1), slice(c0, c1)


def view_head(geometry: Geometry, size: int) -> HeadView:
    """Ray-cast the posed head ellipsoid (Eq. 1) on a ``size`` x ``size`` pixel grid.

    Only a window around the head is ray-cast (the ellipsoid lies inside a sphere of radius
    ``max(a, b, c)``); outside it every head array is zero and ``head_d`` positive.
    """
    g = geometry
    u, v = pixel_grid(size)
    pixel = 2.0 / size
    cr, sr = np.float32(np.cos(np.radians(g.roll))), np.float32(np.sin(np.radians(g.roll)))
    x0, y0 = u - np.float32(g.center_x), v - np.float32(g.center_y)
    xr = cr * x0 + sr * y0
    yr = -sr * x0 + cr * y0
    a, b, c = g.head_width, g.head_height, g.head_depth
    rot = rotation(g.yaw, g.pitch)
    radius = max(a, b, c)
    corners = np.array([[-radius, -radius], [radius, -radius], [-radius, radius], [radius, radius]])
    cu = cr * corners[:, 0] - sr * corners[:, 1] + g.center_x
    cv = sr * corners[:, 0] + cr * corners[:, 1] + g.center_y
    win = window_around(np.stack([cu, cv], axis=1), size)
    X, Y, Z = (np.zeros((size, size), np.float32) for _ in range(3))
    normal = np.zeros((3, size, size), np.float32)
    hit = np.zeros((size, size), bool)
    head_d = np.ones((size, size), np.float32)
    if win is not None:
        m = (rot @ np.diag([a**-2, b**-2, c**-2]) @ rot.T).astype(np.float32)
        wxr, y = xr[win], yr[win]
        w = 1.0 - np.float32(g.jaw_taper) * np.clip(y / np.float32(b), 0.0, 1.0) ** 2
        x = wxr / w
        qa = m[2, 2]
        qb = m[0, 2] * x + m[1, 2] * y
        qc = m[0, 0] * x * x + 2.0 * m[0, 1] * x * y + m[1, 1] * y * y - 1.0
        disc = qb * qb - qa * qc
        h = disc > 0
        t = (-qb + np.sqrt(np.maximum(disc, 0.0))) / qa
        # face frame q = R^T p, then the unit sphere
        r = rot.astype(np.float32)
        zero = np.float32(0.0)
        wX = np.where(h, (r[0, 0] * x + r[1, 0] * y + r[2, 0] * t) / np.float32(a), zero)
        wY = np.where(h, (r[0, 1] * x + r[1, 1] * y + r[2, 1] * t) / np.float32(b), zero)
        wZ = np.where(h, (r[0, 2] * x + r[1, 2] * y + r[2, 2] * t) / np.float32(c), zero)
        nf = np.stack([wX / np.float32(a), wY / np.float32(b), wZ / np.float32(c)])
        n = np.tensordot(r, nf, axes=1)
        n /= np.sqrt((n * n).sum(axis=0, keepdims=True)) + 1e-8
        # silhouette: disc(x, y) = 0 is the ellipse (x, y) Q (x, y)^T = 1 (Eq. 1, no root)
        sil = (qc + 1.0) - qb * qb / qa  # = (x, y) Q (x, y)^T
        q11 = m[0, 0] - m[0, 2] ** 2 / qa
        q12 = m[0, 1] - m[0, 2] * m[1, 2] / qa
        q22 = m[1, 1] - m[1, 2] ** 2 / qa
        gx, gy = 2 * (q11 * x + q12 * y) / w, 2 * (q12 * x + q22 * y)
        X[win], Y[win], Z[win], hit[win] = wX, wY, wZ, h
        normal[(slice(None), *win)] = n
        head_d[win] = (sil - 1.0) / (np.sqrt(gx * gx + gy * gy) + 1e-6)
    return HeadView(
        size=size,
        pixel=pixel,
        u=u,
        v=v,
        xr=xr,
        yr=yr,
        hit=hit,
        X=X,
        Y=Y,
        Z=Z,
        normal=normal,
        head_d=head_d,
        axes=(a, b, c),
        rot=rot,
        geometry=g,
        window=win,
    )
