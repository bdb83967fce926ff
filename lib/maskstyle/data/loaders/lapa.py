"""LaPa: 22,176 faces with 11-class label maps and 106 landmarks (harmonized paper).

Layout (``data_manifests/lapa.yaml``)::

    ROOT/{train,val,test}/images/{name}.jpg
    ROOT/{train,val,test}/labels/{name}.png       one LaPa label (0..10) per pixel
    ROOT/{train,val,test}/landmarks/{name}.txt    "106" then 106 lines "x y"

LaPa's 11 classes map to the 19-class CelebAMask-HQ scheme (:data:`LAPA_TO_CELEBAMASK`):

====  ==============  =====================
LaPa  name            maskstyle label
====  ==============  =====================
0     background      0 background
1     skin            1 skin
2     left eyebrow    6 l_brow
3     right eyebrow   7 r_brow
4     left eye        4 l_eye
5     right eye       5 r_eye
6     nose            2 nose
7     upper lip       11 u_lip
8     inner mouth     10 mouth
9     lower lip       12 l_lip
10    hair            13 hair
====  ==============  =====================

LaPa has no ears, neck, cloth, hat or glasses classes: those pixels are background or skin
in its maps and stay so here.

The harmonized paper "discards low-resolution images" and reports 19,770 train and 1,930
test faces; the threshold is not published and 19,770 exceeds LaPa's 18,176 training
images, so train and val were presumably merged: ``split="trainval"`` with ``min_size``
approximates it (counts will differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from maskstyle.data.loaders._common import (
    DatasetFileError,
    Sample,
    Transform,
    as_size,
    finish_sample,
    missing,
    read_image,
    read_label_map,
    verify_hint,
)

LAPA_CLASSES: tuple[str, ...] = (
    "background", "skin", "left eyebrow", "right eyebrow", "left eye", "right eye",
    "nose", "upper lip", "inner mouth", "lower lip", "hair",
)
LAPA_TO_CELEBAMASK: tuple[int, ...] = (0, 1, 6, 7, 4, 5, 2, 11, 10, 12, 13)
"""``LAPA_TO_CELEBAMASK[lapa_label]`` is the 19-class label (see the table above)."""

SPLITS = ("train", "val", "test", "trainval")
_LUT = torch.tensor(LAPA_TO_CELEBAMASK, dtype=torch.int64)


def lapa_to_celebamask(labels: torch.Tensor) -> torch.Tensor:
    """Map a LaPa label map (values 0..10) to the 19-class scheme."""
    if labels.numel() and (labels.min() < 0 or labels.max() >= len(LAPA_TO_CELEBAMASK)):
        raise ValueError(
            f"LaPa labels must lie in 0..{len(LAPA_TO_CELEBAMASK) - 1}, got "
            f"[{int(labels.min())}, {int(labels.max())}]"
        )
    return _LUT[labels.long()]


class LaPa(Dataset):
    """LaPa images with masks in the 19-class scheme (and optionally 106 landmarks).

    ``min_size`` drops images whose shorter side is below it (reads image headers only).
    """

    name = "lapa"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        size: int | Sequence[int] | None = None,
        transform: Transform | None = None,
        landmarks: bool = False,
        min_size: int | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"LaPa split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root)
        self.split, self.landmarks = split, landmarks
        self.size, self.transform = as_size(size), transform
        parts = ("train", "val") if split == "trainval" else (split,)
        self.items: list[tuple[str, Path]] = []
        for part in parts:
            folder = self.root / part / "images"
            if not folder.is_dir():
                raise missing(folder, self.name, self.root, "image folder")
            for path in sorted(folder.glob("*.jpg")):
                self.items.append((part, path))
        if not self.items:
            raise missing(self.root / parts[0] / "images" / "*.jpg", self.name, self.root)
        if min_size is not None:
            self.items = [item for item in self.items if _short_side(item[1]) >= min_size]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        part, path = self.items[index]
        label_path = self.root / part / "labels" / f"{path.stem}.png"
        labels = torch.from_numpy(read_label_map(label_path, self.name, self.root))
        try:
            mask = lapa_to_celebamask(labels)
        except ValueError as err:
            raise DatasetFileError(f"{self.name}: {label_path}: {err}") from err
        sample: Sample = {
            "image": read_image(path, self.name, self.root),
            "mask": mask,
            "index": index,
            "path": str(path),
            "dataset": self.name,
        }
        if self.landmarks:
            sample["landmarks"] = self._read_landmarks(part, path.stem, sample["image"])
        return finish_sample(sample, self.size, self.transform)

    def _read_landmarks(self, part: str, stem: str, image: torch.Tensor) -> torch.Tensor:
        """106 ``(x, y)`` landmarks, rescaled with the image when ``size`` is set."""
        path = self.root / part / "landmarks" / f"{stem}.txt"
        if not path.is_file():
            raise missing(path, self.name, self.root, "landmark file")
        rows = [line.split() for line in path.read_text().splitlines()[1:] if line.strip()]
        try:
            points = torch.tensor(np.array(rows, dtype=np.float32))
        except ValueError as err:
            raise DatasetFileError(
                f"{self.name}: {path} is not a landmark file ('count' then 'x y' lines); "
                + verify_hint(self.name, self.root)
            ) from err
        if self.size is not None:
            h, w = image.shape[-2:]
            points = points * torch.tensor([self.size[1] / w, self.size[0] / h])
        return points


def _short_side(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        return min(im.size)
