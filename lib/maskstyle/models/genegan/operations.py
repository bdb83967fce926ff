"""Object operations on a trained GeneGAN (Sec. 3.2-3.4, Figs. 1, 4, 8).

- remove: ``x_Ae = Dec(A, 0)`` (Fig. 1a);
- transplant: B's background with A's object, ``x_Bu = Dec(B, u)`` (Fig. 1b);
- swap: both crossbreeds at once, ``(Dec(A, v), Dec(B, u))`` for parents ``Au``, ``Bv``;
- bilinear interpolation of four object codes (Eq. 6)::

      u(x, y) = [u11 (x2 - x)(y2 - y) + u21 (x - x1)(y2 - y)
                 + u12 (x2 - x)(y - y1) + u22 (x - x1)(y - y1)] / ((x2 - x1)(y2 - y1))

  decoded with one unchanged background (Fig. 8).

All functions run the model in eval mode without gradients and restore its mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode + no grad inside the block; the previous mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def remove(model, x: torch.Tensor) -> torch.Tensor:
    """``Dec(A, 0)``: the object removed from every image of ``x``."""
    with evaluating(model):
        if not hasattr(model, "encode"):
            return model.remove(x)
        a, u = model.encode(x)
        return model.decode(a, torch.zeros_like(u))


def transplant(model, background: torch.Tensor, exemplar: torch.Tensor) -> torch.Tensor:
    """``Dec(B, u)``: ``background``'s background with ``exemplar``'s object (batches of
    equal size, or one exemplar for every background)."""
    with evaluating(model):
        if not hasattr(model, "encode"):
            return model.transplant(background, exemplar)
        b, _ = model.encode(background)
        _, u = model.encode(exemplar)
        if u.shape[0] == 1 and b.shape[0] > 1:
            u = u.expand(b.shape[0], -1, -1, -1)
        return model.decode(b, u)


def swap(model, x_au: torch.Tensor, x_bv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Dec(A, v), Dec(B, u))``: the two images with their objects exchanged."""
    with evaluating(model):
        a, u = model.encode(x_au)
        b, v = model.encode(x_bv)
        out = model.decode(torch.cat([a, b]), torch.cat([v, u]))
        return out[: len(a)], out[len(a) :]


def object_codes(model, x: torch.Tensor) -> torch.Tensor:
    """The object codes ``u`` of ``x`` (eval mode)."""
    with evaluating(model):
        return model.encode(x)[1]


def bilinear_codes(
    u11: torch.Tensor, u12: torch.Tensor, u21: torch.Tensor, u22: torch.Tensor,
    xs: torch.Tensor, ys: torch.Tensor,
    x1: float = 0.0, x2: float = 1.0, y1: float = 0.0, y2: float = 1.0,
) -> torch.Tensor:
    """Eq. 6 for every ``(x, y)`` of the grid ``ys x xs``: ``[len(ys), len(xs), *u.shape]``.

    Corner ``u_ij`` sits at ``(x_i, y_j)``. Vectorised: the four bilinear weights are outer
    products of the 1-D weights.
    """
    if not (u11.shape == u12.shape == u21.shape == u22.shape):
        raise ValueError("the four corner codes must have the same shape")
    if x2 == x1 or y2 == y1:
        raise ValueError("the corners must span a non-empty rectangle (x1 != x2, y1 != y2)")
    xs, ys = torch.as_tensor(xs, dtype=u11.dtype), torch.as_tensor(ys, dtype=u11.dtype)
    wx1, wx2 = (x2 - xs), (xs - x1)  # [X]
    wy1, wy2 = (y2 - ys), (ys - y1)  # [Y]
    w = lambda wy, wx: (wy[:, None] * wx[None, :]).reshape(len(ys), len(xs), *[1] * u11.dim())  # noqa: E731
    total = (u11 * w(wy1, wx1) + u21 * w(wy1, wx2) + u12 * w(wy2, wx1) + u22 * w(wy2, wx2))
    return total / ((x2 - x1) * (y2 - y1))


def interpolation_grid(
    model, background: torch.Tensor, corners: torch.Tensor, steps: int = 5
) -> torch.Tensor:
    """Fig. 8: decode ``background`` (one image) with Eq. 6's codes between the object codes
    of ``corners = [x11, x12, x21, x22]`` on a ``steps x steps`` grid ->
    ``[steps, steps, 3, H, W]``."""
    if corners.shape[0] != 4:
        raise ValueError(
            f"corners must hold 4 images (x11, x12, x21, x22), got {corners.shape[0]}"
        )
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    with evaluating(model):
        b, _ = model.encode(background[:1])
        u = model.encode(corners)[1]
        t = torch.linspace(0, 1, steps)
        codes = bilinear_codes(u[0], u[1], u[2], u[3], t, t)  # [Y, X, C, s, s]
        flat = codes.reshape(steps * steps, *u.shape[1:])
        images = model.decode(b.expand(len(flat), -1, -1, -1), flat)
        return images.reshape(steps, steps, *images.shape[1:])


def scaled_object(model, background: torch.Tensor, exemplar: torch.Tensor,
                  scales: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """``Dec(B, s u)`` for each scale ``s`` (the attribute-strength axis of Sec. 3.4)."""
    with evaluating(model):
        b, _ = model.encode(background[:1])
        _, u = model.encode(exemplar[:1])
        s = torch.as_tensor(scales, dtype=u.dtype).reshape(-1, 1, 1, 1)
        return model.decode(b.expand(len(s), -1, -1, -1), s * u)


__all__ = [
    "bilinear_codes",
    "evaluating",
    "interpolation_grid",
    "object_codes",
    "remove",
    "scaled_object",
    "swap",
    "transplant",
]
