"""CelebAMask-HQ: CelebA-HQ faces with hand-drawn 19-class part masks (harmonized paper).

Layout (``data_manifests/celebamask_hq.yaml``)::

    ROOT/CelebA-HQ-img/{k}.jpg                                 1024 x 1024 (.png accepted)
    ROOT/CelebAMask-HQ-mask-anno/{k // 2000}/{k:05d}_{part}.png  512 x 512, one per part
    ROOT/CelebAMask-HQ-attribute-anno.txt                      count, 40 names, "{k}.jpg 1 -1 .."

Merging parts into one label map: the 18 parts are painted in label order (skin=1, nose=2,
..., cloth=18), each over the previous ones, so where parts overlap the later part wins -
the rule of the dataset's own ``g_mask.py``. A part file exists only where the part is
visible; a face with no part file at all is an error (its masks are missing). Part PNGs
may be 8-bit L, RGB or RGBA with values 0/255.

Masks are 512 px and images 1024 px in the release: the mask is resized to the image size
by nearest neighbour (or both go to ``size``).

Split of the harmonized regional style transfer paper: images 0..27,999 train, the rest
test (``split="train" | "test"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from maskstyle.data.labels import CELEBAMASK_HQ_PARTS
from maskstyle.data.loaders._common import (
    MissingDatasetFile,
    Sample,
    Transform,
    as_size,
    finish_sample,
    missing,
    read_attribute_table,
    read_binary_mask,
    read_image,
    verify_hint,
)

SPLITS = ("all", "train", "test")
HARMONIZED_TRAIN_COUNT = 28000
"""Harmonized regional style transfer: the first 28,000 images train, the rest test."""
IMAGE_DIR = "CelebA-HQ-img"
MASK_DIR = "CelebAMask-HQ-mask-anno"
ATTRIBUTE_FILE = "CelebAMask-HQ-attribute-anno.txt"
MASKS_PER_FOLDER = 2000


def part_path(root: str | Path, k: int, part: str) -> Path:
    """Path of image ``k``'s ``part`` PNG: ``{k // 2000}/{k:05d}_{part}.png``."""
    return Path(root) / MASK_DIR / str(k // MASKS_PER_FOLDER) / f"{k:05d}_{part}.png"


class CelebAMaskHQ(Dataset):
    """Images, merged 19-class masks and 40 attributes of CelebAMask-HQ.

    ``indices`` picks image numbers ``k`` explicitly (default: every image in
    ``CelebA-HQ-img``, sorted by number), then ``split`` keeps the paper's train
    (``k < train_count``) or test part. ``attributes=False`` skips the attribute file.
    """

    name = "celebamask_hq"

    def __init__(
        self,
        root: str | Path,
        indices: Sequence[int] | None = None,
        split: str = "all",
        size: int | Sequence[int] | None = None,
        transform: Transform | None = None,
        attributes: bool = True,
        train_count: int = HARMONIZED_TRAIN_COUNT,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"CelebAMaskHQ split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise missing(self.root, self.name, self.root, "root folder")
        self.size, self.transform = as_size(size), transform
        self.image_dir = self.root / IMAGE_DIR
        if not self.image_dir.is_dir():
            raise missing(self.image_dir, self.name, self.root, "image folder")
        if not (self.root / MASK_DIR).is_dir():
            raise missing(self.root / MASK_DIR, self.name, self.root, "mask folder")
        found = self._scan_images()
        if indices is None:
            indices = sorted(found)
        else:
            absent = [int(k) for k in indices if int(k) not in found]
            if absent:
                raise MissingDatasetFile(
                    f"{self.name}: no image {self.image_dir}/{absent[0]}.jpg (or .png) for "
                    f"{len(absent)} requested index(es), first {absent[0]}; "
                    + verify_hint(self.name, self.root)
                )
        if split == "train":
            indices = [k for k in indices if k < train_count]
        elif split == "test":
            indices = [k for k in indices if k >= train_count]
        self.indices = [int(k) for k in indices]
        self._image_paths = found
        self.attr_names: list[str] = []
        self._attrs: dict[str, list[bool]] = {}
        if attributes:
            self.attr_names, self._attrs = read_attribute_table(
                self.root / ATTRIBUTE_FILE, self.name, self.root
            )

    def _scan_images(self) -> dict[int, Path]:
        found: dict[int, Path] = {}
        for path in self.image_dir.iterdir():
            if path.suffix.lower() in (".jpg", ".png") and path.stem.isdigit():
                found[int(path.stem)] = path
        return found

    def __len__(self) -> int:
        return len(self.indices)

    def load_mask(self, k: int) -> torch.Tensor:
        """Image ``k``'s part PNGs merged into one int64 ``[512, 512]`` label map."""
        mask: np.ndarray | None = None
        for label, part in enumerate(CELEBAMASK_HQ_PARTS, start=1):
            path = part_path(self.root, k, part)
            if not path.is_file():
                continue
            region = read_binary_mask(path, self.name, self.root)
            if mask is None:
                mask = np.zeros(region.shape, dtype=np.int64)
            elif region.shape != mask.shape:
                raise ValueError(
                    f"{self.name}: {path} is {region.shape[1]}x{region.shape[0]} but earlier "
                    f"parts of image {k} are {mask.shape[1]}x{mask.shape[0]}; all part PNGs "
                    "of one face must have the same size"
                )
            mask[region] = label
        if mask is None:
            raise MissingDatasetFile(
                f"{self.name}: image {k} has no mask part files (expected e.g. "
                f"{part_path(self.root, k, 'skin')}); " + verify_hint(self.name, self.root)
            )
        return torch.from_numpy(mask)

    def __getitem__(self, index: int) -> Sample:
        k = self.indices[index]
        path = self._image_paths[k]
        sample: Sample = {
            "image": read_image(path, self.name, self.root),
            "mask": self.load_mask(k),
            "index": k,
            "path": str(path),
            "dataset": self.name,
        }
        if self.attr_names:
            row = self._attrs.get(path.name) or self._attrs.get(f"{k}.jpg")
            if row is None:
                raise KeyError(
                    f"{self.name}: {path.name} has no row in {self.root / ATTRIBUTE_FILE}; "
                    "pass attributes=False or " + verify_hint(self.name, self.root)
                )
            sample["attrs"] = dict(zip(self.attr_names, row))
        return finish_sample(sample, self.size, self.transform)
