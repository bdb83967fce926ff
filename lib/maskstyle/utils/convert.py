"""Conversions between maskstyle's image tensors and NumPy/PIL images.

maskstyle's image layout is a float32 tensor ``[3, H, W]`` in ``[0, 1]``; NumPy, PIL and
matplotlib use ``[H, W, 3]``, usually uint8. 8-bit quantisation rounds to the nearest
level, ``round(255 x)``, so ``to_tensor_image(to_numpy_image(x))`` is within 1/510 of ``x``
and exact for images that already sit on 8-bit levels.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def to_numpy_image(image: torch.Tensor | np.ndarray, dtype: str = "uint8") -> np.ndarray:
    """``[3, H, W]``/``[1, 3, H, W]``/``[H, W]`` float tensor in [0, 1] -> ``[H, W, 3]``/``[H, W]``.

    ``dtype="uint8"`` quantises (values are clamped to [0, 1] first); ``"float32"`` keeps
    the values. NumPy input ``[H, W, 3]``/``[H, W]`` is passed through (converted to dtype).
    """
    if dtype not in ("uint8", "float32"):
        raise ValueError(f"dtype must be 'uint8' or 'float32', got {dtype!r}")
    if isinstance(image, torch.Tensor):
        x = image.detach().cpu()
        if x.dim() == 4 and x.shape[0] == 1:
            x = x[0]
        if x.dim() == 3:
            if x.shape[0] not in (1, 3):
                hint = " (already channels-last? pass a NumPy array)" if x.shape[-1] == 3 else ""
                raise ValueError(f"expected an image [3, H, W], got {tuple(x.shape)}{hint}")
            x = x.permute(1, 2, 0)
            if x.shape[-1] == 1:
                x = x[..., 0]
        elif x.dim() != 2:
            raise ValueError(f"expected an image [3, H, W] or [H, W], got {tuple(x.shape)}")
        if not x.dtype.is_floating_point:
            if x.dtype != torch.uint8:
                raise TypeError(f"expected a float image in [0, 1] (or uint8), got {x.dtype}")
            x = x.float() / 255
        array = x.float().numpy()
    elif isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (1, 3)):
            raise ValueError(f"expected an array [H, W, 3] or [H, W], got {image.shape}")
        array = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        if array.dtype == np.uint8:
            return array.copy() if dtype == "uint8" else array.astype(np.float32) / 255
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(f"expected a float array in [0, 1] or uint8, got {array.dtype}")
        array = array.astype(np.float32)
    else:
        raise TypeError(f"expected a torch.Tensor or np.ndarray, got {type(image).__name__}")
    if dtype == "float32":
        return array
    return np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)


def to_tensor_image(image: np.ndarray | Image.Image) -> torch.Tensor:
    """``[H, W, 3]`` uint8 (or float in [0, 1]) array or PIL image -> float32 ``[3, H, W]``.

    Grayscale ``[H, W]`` gives ``[1, H, W]``. RGBA is rejected (decide what alpha means
    first: composite it or drop it with ``image[..., :3]``).
    """
    if isinstance(image, Image.Image):
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image = np.asarray(image)
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected an np.ndarray or PIL image, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[-1] == 4:
        raise ValueError("RGBA image: drop or composite the alpha channel first (image[..., :3])")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"expected an array [H, W, 3] or [H, W], got {image.shape}")
    if image.dtype == np.uint8:
        array = image.astype(np.float32) / 255
    elif np.issubdtype(image.dtype, np.floating):
        array = image.astype(np.float32)
        if array.size and (array.min() < 0 or array.max() > 1):
            raise ValueError(
                f"float image values span [{array.min():.4g}, {array.max():.4g}]; expected "
                "[0, 1] (pass uint8 for 0..255 data)"
            )
    else:
        raise TypeError(f"expected uint8 or float data, got {image.dtype}")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
