"""What every part painter needs: the posed head, the parameters, light and skin.

Inner-face parts are drawn in the *face plane* ``(fx, fy) = (a X, b Y)`` - the unit-sphere
face coordinate scaled back by the head's semi-axes, which equals the image position of
that surface point for a frontal, unrolled face. Shapes defined there follow the pose (yaw
foreshortens and shifts them, pitch moves them vertically, roll rotates them) for free.

For speed each part is evaluated only on a pixel window around it: :meth:`Scene.patch`
slices every per-pixel array to a window, and the ``*_window`` helpers find the window of a
face-plane box, a roll-aligned box or an image box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maskstyle.data.synth.geometry import HeadView, Window, coverage, view_head, window_around
from maskstyle.data.synth.params import FaceParams
from maskstyle.data.synth.shading import lambert, white_noise

_SLICED = ("u", "v", "xr", "yr", "X", "Y", "Z", "hit")


class Patch:
    """Per-pixel arrays of a :class:`Scene` restricted to one window."""

    def __init__(self, scene: Scene, win: Window) -> None:
        self.win, self.pixel, self.params = win, scene.pixel, scene.params
        self.axes = scene.view.axes
        view = scene.view
        for name in _SLICED:
            setattr(self, name, getattr(view, name)[win])
        self.fx, self.fy = scene.fx[win], scene.fy[win]
        self.front, self.head_alpha = scene.front[win], scene.head_alpha[win]
        self.irradiance, self.skin = scene.irradiance[win], scene.skin[win]
        self.normal = view.normal[(slice(None), *win)]

    def on_face(self, d: np.ndarray) -> np.ndarray:
        """Coverage of a face-plane shape with signed distance ``d``, only where features live."""
        return coverage(d, self.pixel) * self.front


@dataclass
class Scene:
    params: FaceParams
    view: HeadView
    fx: np.ndarray  # face-plane coordinates (image units), zero off the head
    fy: np.ndarray
    front: np.ndarray  # 1 on the head where it faces forward enough to carry features
    head_alpha: np.ndarray  # anti-aliased head coverage
    irradiance: np.ndarray  # [H, W, 3] Lambertian light on the head (Eq. 1 of shading)
    skin: np.ndarray  # [H, W, 3] lit, grained skin colour on the head

    @property
    def size(self) -> int:
        return self.view.size

    @property
    def pixel(self) -> float:
        return self.view.pixel

    def patch(self, win: Window) -> Patch:
        return Patch(self, win)

    def face_window(self, x0: float, x1: float, y0: float, y1: float) -> Window | None:
        """Window of the face-plane box ``[x0, x1] x [y0, y1]`` (image units)."""
        a, b, _ = self.view.axes
        X = np.tile(np.linspace(x0 / a, x1 / a, 7), 7)
        Y = np.repeat(np.linspace(y0 / b, y1 / b, 7), 7)
        Z = np.sqrt(np.clip(1.0 - X * X - Y * Y, 0.0, None))
        uv = self.view.project(np.stack([X, Y, Z], axis=1))
        return window_around(uv, self.size)

    def roll_window(self, x0: float, x1: float, y0: float, y1: float) -> Window | None:
        """Window of the roll-aligned (head-centred) box ``[x0, x1] x [y0, y1]``."""
        xs, ys = np.array([x0, x1, x0, x1]), np.array([y0, y0, y1, y1])
        return window_around(self.view.unroll(xs, ys), self.size)

    def image_window(self, u0: float, u1: float, v0: float, v1: float) -> Window | None:
        """Window of the image box ``[u0, u1] x [v0, v1]`` (normalised units)."""
        return window_around(np.array([[u0, v0], [u1, v1]]), self.size)


def build_scene(params: FaceParams, size: int) -> Scene:
    view = view_head(params.geometry, size)
    a, b, _ = view.axes
    env = params.environment
    irradiance = np.zeros((size, size, 3), np.float32)
    if view.window is not None:
        irradiance[view.window] = lambert(view.normal[(slice(None), *view.window)], env)
    grain = 1.0 + np.float32(env.grain) * white_noise(env.grain_seed, size)
    skin = np.asarray(env.skin_rgb, np.float32) * irradiance * grain[..., None]
    return Scene(
        params=params,
        view=view,
        fx=view.X * np.float32(a),
        fy=view.Y * np.float32(b),
        front=(view.Z > 0.1).astype(np.float32),
        head_alpha=coverage(view.head_d, view.pixel),
        irradiance=irradiance,
        skin=skin,
    )
