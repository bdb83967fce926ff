"""Shared pieces of the dataset loaders: reading files with clear errors, resizing, samples.

Every loader returns the face world's sample schema, a dict with

- ``image``: float32 ``[3, H, W]`` in ``[0, 1]``;
- ``mask``: int64 ``[H, W]`` in the 19-class CelebAMask-HQ scheme (datasets with masks);
- ``attrs``: ``{attribute name: bool}`` (datasets with attributes);
- ``index``, ``path``, ``dataset``: provenance (which file of which dataset made it).

``size`` resizes (image: bilinear with antialiasing; mask: nearest, labels are never
averaged); ``transform`` is then applied to the whole sample dict, so joint image/mask
augmentations see both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from maskstyle.nn.masks import resize_labels

Sample = dict[str, Any]
Transform = Callable[[Sample], Sample]

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class DatasetFileError(OSError):
    """A dataset file is missing or cannot be decoded (the message names file and fix)."""


class MissingDatasetFile(DatasetFileError, FileNotFoundError):
    """A file the dataset's layout requires does not exist."""


def verify_hint(dataset: str, root: Path | str) -> str:
    return f"check the copy with `maskstyle data verify {dataset} --root {root}`"


def missing(path: Path, dataset: str, root: Path | str, what: str = "file") -> MissingDatasetFile:
    """The error to raise for a missing ``path`` of ``dataset``."""
    return MissingDatasetFile(
        f"{dataset}: {what} {path} does not exist; {verify_hint(dataset, root)}"
    )


def _open(path: Path, dataset: str, root: Path | str):
    from PIL import Image

    if not path.is_file():
        raise missing(path, dataset, root)
    try:
        im = Image.open(path)
        im.load()
    except Exception as err:  # PIL raises several types for broken files
        raise DatasetFileError(
            f"{dataset}: cannot decode {path} ({type(err).__name__}: {err}); the file is "
            f"truncated or corrupt - re-extract it, then {verify_hint(dataset, root)}"
        ) from err
    return im


def read_image(path: Path, dataset: str, root: Path | str) -> torch.Tensor:
    """An RGB image file as float32 ``[3, H, W]`` in ``[0, 1]``."""
    im = _open(path, dataset, root)
    array = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)


def read_binary_mask(path: Path, dataset: str, root: Path | str) -> np.ndarray:
    """A 0/255 part PNG (mode L, LA, RGB, RGBA, P or 1) as a bool ``[H, W]`` array.

    A pixel is in the part when any colour channel is above half (alpha is ignored).
    """
    im = _open(path, dataset, root)
    if im.mode in ("RGB", "RGBA"):
        array = np.asarray(im.convert("RGB"))
        return array.max(axis=2) > 127
    return np.asarray(im.convert("L")) > 127


def read_label_map(path: Path, dataset: str, root: Path | str) -> np.ndarray:
    """A single-channel label PNG (one integer label per pixel) as an int64 ``[H, W]`` array."""
    im = _open(path, dataset, root)
    if im.mode not in ("L", "P", "I", "I;16"):
        raise DatasetFileError(
            f"{dataset}: {path} is a {im.mode} image; a label map must be single-channel "
            "(mode L or P) holding one integer label per pixel, not a colour visualisation"
        )
    return np.asarray(im).astype(np.int64)


def resize_image(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear, antialiased resize of ``[3, H, W]`` to ``size`` (h, w), clamped to [0, 1]."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    out = F.interpolate(image[None], size=size, mode="bilinear", antialias=True,
                        align_corners=False)[0]
    return out.clamp_(0.0, 1.0)


def as_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """``None``, one int (square) or ``(h, w)`` -> ``(h, w)`` or ``None``."""
    if size is None:
        return None
    if isinstance(size, int):
        return (size, size)
    h, w = size
    return (int(h), int(w))


def finish_sample(
    sample: Sample,
    size: tuple[int, int] | None,
    transform: Transform | None,
    mask_keys: Sequence[str] = ("mask",),
    image_keys: Sequence[str] = ("image",),
) -> Sample:
    """Bring masks to their image's size, apply ``size`` and then ``transform``."""
    for image_key, mask_key in zip(image_keys, mask_keys):
        if mask_key in sample:
            target = size or tuple(sample[image_key].shape[-2:])
            sample[mask_key] = resize_labels(sample[mask_key], target)
    if size is not None:
        for key in image_keys:
            if key in sample:
                sample[key] = resize_image(sample[key], size)
        if "target" in sample:
            sample["target"] = resize_image(sample["target"], size)
    if transform is not None:
        sample = transform(sample)
    return sample


def read_attribute_table(
    path: Path, dataset: str, root: Path | str
) -> tuple[list[str], dict[str, list[bool]]]:
    """Parse a CelebA-style attribute file: count line, names line, ``file v1 .. vN`` lines.

    Values are ``1`` / ``-1`` (CelebA) or ``1`` / ``0``; returns ``(names, {file: [bool]})``.
    """
    if not path.is_file():
        raise missing(path, dataset, root, "attribute file")
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise DatasetFileError(f"{dataset}: {path} is too short to be an attribute table")
    names = lines[1].split()
    table: dict[str, list[bool]] = {}
    for lineno, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1:
            raise DatasetFileError(
                f"{dataset}: {path} line {lineno} has {len(parts) - 1} values for "
                f"{len(names)} attribute names; the file is damaged - {verify_hint(dataset, root)}"
            )
        table[parts[0]] = [v == "1" for v in parts[1:]]
    return names, table
