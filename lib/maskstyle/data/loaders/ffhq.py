"""FFHQ: 70,000 aligned 1024 px faces; masks come from a face parser (harmonized paper).

Layout (``data_manifests/ffhq.yaml``)::

    ROOT/images1024x1024/00000/00000.png ... 69000/69999.png    (folders of 1,000)
    LABEL_DIR/{k:05d}.png                                       19-class label maps

FFHQ has no masks. The harmonized regional style transfer paper parses it with a DeepLab-v3
trained on CelebAMask-HQ (weights not published); any parser that writes single-channel
PNGs holding CelebAMask-HQ labels 0..18 (e.g. :func:`maskstyle.data.parse_face`) fills
``label_dir``. That paper evaluates on the first 2,000 images: ``split="eval"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset

from maskstyle.data.labels import NUM_CLASSES
from maskstyle.data.loaders._common import (
    DatasetFileError,
    Sample,
    Transform,
    as_size,
    finish_sample,
    missing,
    read_image,
    read_label_map,
)

SPLITS = ("all", "eval", "rest")
HARMONIZED_EVAL_COUNT = 2000
"""Harmonized regional style transfer evaluates on FFHQ images 0..1,999."""


class FFHQ(Dataset):
    """FFHQ images (``image_dir`` under ``root``, searched one folder deep), optional masks.

    ``split="eval"`` keeps images ``k < 2000``, ``"rest"`` the others; ``label_dir`` adds a
    ``mask`` from ``{k:05d}.png``.
    """

    name = "ffhq"

    def __init__(
        self,
        root: str | Path,
        label_dir: str | Path | None = None,
        split: str = "all",
        indices: Sequence[int] | None = None,
        image_dir: str = "images1024x1024",
        size: int | Sequence[int] | None = None,
        transform: Transform | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"FFHQ split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root)
        self.image_dir = self.root / image_dir
        if not self.image_dir.is_dir():
            raise missing(self.image_dir, self.name, self.root, "image folder")
        self.label_dir = Path(label_dir) if label_dir is not None else None
        if self.label_dir is not None and not self.label_dir.is_dir():
            raise FileNotFoundError(
                f"{self.name}: label folder {self.label_dir} does not exist; write one "
                "{k:05d}.png label map per image there (e.g. with maskstyle.data.parse_face)"
            )
        self.size, self.transform = as_size(size), transform
        found = {
            int(p.stem): p
            for p in self.image_dir.glob("*/*.png")
            if p.stem.isdigit()
        }
        if not found:
            raise missing(self.image_dir / "00000" / "00000.png", self.name, self.root)
        keys = sorted(found) if indices is None else [int(k) for k in indices]
        absent = [k for k in keys if k not in found]
        if absent:
            raise missing(self.image_dir / f"{absent[0] // 1000 * 1000:05d}" /
                          f"{absent[0]:05d}.png", self.name, self.root)
        if split == "eval":
            keys = [k for k in keys if k < HARMONIZED_EVAL_COUNT]
        elif split == "rest":
            keys = [k for k in keys if k >= HARMONIZED_EVAL_COUNT]
        self.indices, self._paths = keys, found

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Sample:
        k = self.indices[index]
        path = self._paths[k]
        sample: Sample = {
            "image": read_image(path, self.name, self.root),
            "index": k,
            "path": str(path),
            "dataset": self.name,
        }
        if self.label_dir is not None:
            label_path = self.label_dir / f"{k:05d}.png"
            labels = read_label_map(label_path, self.name, self.root)
            if labels.size and labels.max() >= NUM_CLASSES:
                raise DatasetFileError(
                    f"{self.name}: {label_path} holds label {int(labels.max())}; label maps "
                    f"must hold CelebAMask-HQ labels 0..{NUM_CLASSES - 1}"
                )
            sample["mask"] = torch.from_numpy(labels)
            sample["mask_path"] = str(label_path)
        return finish_sample(sample, self.size, self.transform)
