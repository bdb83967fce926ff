"""One shape contract for tensors passed into the library (StyleGAN2-ADA's ``assert_shape``,
with errors that name the fix).

A spec lists one entry per dimension: an ``int`` fixes that size, a ``str`` names it (``"B"``,
``"H"``) and ``None`` accepts any size. Named sizes are bound on first use and must agree
after that, within one spec and across calls that share a ``dims`` dict::

    dims = expect_shape(image, ["B", 3, "H", "W"], "image", what="images")
    expect_shape(mask, ["B", 1, "H", "W"], "mask", dims=dims)  # same B, H, W as the image

The message says what was expected (``image must be images [B, 3, H, W], got shape (3, 64, 64)``)
and adds a hint for the two commonest mistakes: a single image without its batch axis and a
channels-last layout.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Spec = Sequence[int | str | None]


def format_spec(spec: Spec) -> str:
    """``[B, 3, H, W]`` for ``["B", 3, "H", "W"]`` (``None`` prints as ``*``)."""
    return "[" + ", ".join("*" if s is None else str(s) for s in spec) + "]"


def _layout_hint(shape: tuple[int, ...], spec: Spec) -> str:
    if len(shape) == len(spec) - 1 and spec and spec[0] == "B":
        return " (a single image: add the batch axis with x[None])"
    if (len(shape) == len(spec) == 4 and isinstance(spec[1], int) and shape[1] != spec[1]
            and shape[-1] == spec[1]):  # fmt: skip
        return " (channels-last? use x.permute(0, 3, 1, 2))"
    return ""


def expect_shape(
    x: object, spec: Spec, name: str, *, what: str = "", hint: str = "",
    dims: dict[str, int] | None = None,
) -> dict[str, int]:  # fmt: skip
    """Check that ``x`` is a tensor whose shape matches ``spec``; return the named sizes.

    ``what``: a word or two before the spec in the message (``"images"``, ``"a soft mask"``).
    ``hint``: appended to the message (how to fix it). ``dims``: sizes bound by earlier calls;
    it is updated in place with the new names and returned.
    """
    bound = {} if dims is None else dims
    expected = f"{what} {format_spec(spec)}" if what else format_spec(spec)
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor {format_spec(spec)}, got {type(x).__name__}{hint}"
        )
    shape = tuple(x.shape)
    if len(shape) != len(spec):
        raise ValueError(
            f"{name} must be {expected}, got shape {shape}{_layout_hint(shape, spec)}{hint}"
        )
    new: dict[str, int] = {}
    for axis, (size, want) in enumerate(zip(shape, spec)):
        if want is None:
            continue
        if isinstance(want, int):
            if size != want:
                raise ValueError(
                    f"{name} must be {expected}, got shape {shape}: dim {axis} is {size}, "
                    f"not {want}{_layout_hint(shape, spec)}{hint}"
                )
            continue
        known = new.get(want, bound.get(want))
        if known is not None and size != known:
            raise ValueError(
                f"{name} must be {expected} with {want} = {known} (as bound by the other "
                f"inputs), got shape {shape}{hint}"
            )
        new[want] = size
    bound.update(new)
    return bound
