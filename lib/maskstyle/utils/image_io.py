"""Reading and writing images and label maps with PIL (never torchvision.io).

Images load as float32 ``[3, H, W]`` in [0, 1] and save as 8-bit files (PNG lossless,
JPEG at quality 95). Label maps are int64 ``[H, W]`` stored as single-channel 8-bit PNGs
whose pixel values are the labels (0..255); lossy formats would corrupt labels and are
refused. Missing files and wrong layouts raise errors that say what to do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from maskstyle.data.labels import NUM_CLASSES
from maskstyle.utils.convert import to_numpy_image, to_tensor_image


def _existing(path: str | Path, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    return path


def _size_hw(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f"size must be an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def load_image(path: str | Path, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """Read an image file as RGB float32 ``[3, H, W]`` in [0, 1].

    ``size``: an int (square) or ``(height, width)``; resized with PIL's bicubic filter on
    the 8-bit image. Grayscale and palette images are converted to RGB; alpha is dropped.
    """
    with Image.open(_existing(path, "image")) as img:
        img = img.convert("RGB")
        if size is not None:
            h, w = _size_hw(size)
            img = img.resize((w, h), Image.Resampling.BICUBIC)
        return to_tensor_image(np.asarray(img))


def save_image(image: torch.Tensor | np.ndarray, path: str | Path) -> Path:
    """Write a ``[3, H, W]`` float tensor in [0, 1] (clamped) or ``[H, W, 3]`` array to ``path``.

    The format follows the extension (.png, .jpg, ...); folders are created.
    """
    path = Path(path).expanduser()
    array = to_numpy_image(image, dtype="uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg") else {}
    Image.fromarray(array).save(path, **options)
    return path


def load_mask(path: str | Path, num_classes: int | None = NUM_CLASSES) -> torch.Tensor:
    """Read a label-map PNG (pixel value = label) as int64 ``[H, W]``.

    Values must be below ``num_classes`` (default: the 19 CelebAMask-HQ classes; ``None``
    skips the check).
    """
    path = _existing(path, "mask")
    with Image.open(path) as img:
        if img.mode not in ("L", "P", "I", "I;16"):
            raise ValueError(
                f"{path} is a {img.mode} image, not a single-channel label map; a colourised "
                "mask cannot be read back as labels (save label maps with save_mask), and a "
                "grayscale image stored as RGB can be converted with .convert('L')"
            )
        labels = np.asarray(img).astype(np.int64)
    if num_classes is not None and labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"{path} holds label values up to {labels.max()}, but only 0..{num_classes - 1} "
            "are valid (CelebAMask-HQ part files are 0/255 binary masks: combine them into "
            "one label map first; pass num_classes=None to skip this check)"
        )
    return torch.from_numpy(labels)


def save_mask(mask: torch.Tensor | np.ndarray, path: str | Path) -> Path:
    """Write an integer label map ``[H, W]`` (values 0..255) as an 8-bit PNG."""
    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise ValueError(f"label maps must be saved losslessly as .png, got {path.name}")
    array = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f"a label map must be [H, W], got shape {array.shape}")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"a label map must hold integer labels, got {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError(
            f"label values must lie in 0..255 for an 8-bit PNG, got [{array.min()}, {array.max()}]"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), mode="L").save(path)
    return path
