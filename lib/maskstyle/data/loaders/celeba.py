"""CelebA: aligned face photos with 40 binary attributes (LOMIT, GeneGAN).

Layout (``data_manifests/celeba.yaml``)::

    ROOT/img_align_celeba/000001.jpg ... 202599.jpg   (178 x 218)
    ROOT/list_attr_celeba.txt       count, 40 names, then "000001.jpg  -1  1 ..."
    ROOT/list_eval_partition.txt    "000001.jpg 0"  (0 train, 1 valid, 2 test)

Splits (``protocol``):

- ``"official"`` - ``list_eval_partition.txt``;
- ``"lomit"`` - LOMIT's official ``data_loader.py`` (a StarGAN loader, no shuffle): rows
  of ``list_attr_celeba.txt`` with ``(i + 1) < 2000`` are the test set - the first 1,999
  images, the code's off-by-one against the paper's "2,000" - and the rest train; images
  with none of Black_Hair / Blond_Hair / Brown_Hair set are dropped from both splits.

GeneGAN trains on two sets split by one attribute column (e.g. ``Eyeglasses`` present vs
absent): :meth:`CelebA.attribute_split`. LOMIT centre-crops 178 px then resizes to 128:
``CelebA(root, crop=178, size=128)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset, Subset

from maskstyle.data.loaders._common import (
    Sample,
    Transform,
    as_size,
    finish_sample,
    missing,
    read_attribute_table,
    read_image,
)

SPLITS = ("train", "valid", "test", "all")
PROTOCOLS = ("official", "lomit")
LOMIT_TEST_ROWS = 1999
"""LOMIT's code puts attribute-file rows ``i`` with ``(i + 1) < 2000`` in the test set."""
LOMIT_HAIR_ATTRIBUTES = ("Black_Hair", "Blond_Hair", "Brown_Hair")
"""LOMIT's code keeps only images with at least one of these set."""

_PARTITION = {"train": "0", "valid": "1", "test": "2"}


class CelebA(Dataset):
    """CelebA aligned images with attributes as ``{name: bool}``.

    ``split`` is ``"train" | "valid" | "test" | "all"``; ``protocol`` picks the official
    partition file or LOMIT's first-2000-test split; ``crop`` centre-crops a square of that
    side before ``size`` resizes.
    """

    name = "celeba"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        protocol: str = "official",
        crop: int | None = None,
        size: int | Sequence[int] | None = None,
        transform: Transform | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"CelebA split must be one of {SPLITS}, got {split!r}")
        if protocol not in PROTOCOLS:
            raise ValueError(f"CelebA protocol must be one of {PROTOCOLS}, got {protocol!r}")
        if protocol == "lomit" and split == "valid":
            raise ValueError("the lomit protocol has no validation split: use 'train' or 'test'")
        self.root = Path(root)
        if not self.root.is_dir():
            raise missing(self.root, self.name, self.root, "root folder")
        self.split, self.protocol = split, protocol
        self.crop, self.size, self.transform = crop, as_size(size), transform
        self.image_dir = self.root / "img_align_celeba"
        if not self.image_dir.is_dir():
            raise missing(self.image_dir, self.name, self.root, "image folder")
        self.attr_names, table = read_attribute_table(
            self.root / "list_attr_celeba.txt", self.name, self.root
        )
        files = self._select(list(table), table)  # file order of list_attr_celeba.txt
        self.files = files
        self._attrs = torch.tensor([table[f] for f in files], dtype=torch.bool).reshape(
            len(files), len(self.attr_names)
        )

    def _select(self, files: list[str], table: dict[str, list[bool]]) -> list[str]:
        if self.protocol == "lomit":
            if self.split == "test":
                files = files[:LOMIT_TEST_ROWS]
            elif self.split == "train":
                files = files[LOMIT_TEST_ROWS:]
            columns = [self.attr_names.index(a) for a in LOMIT_HAIR_ATTRIBUTES]
            return [f for f in files if any(table[f][c] for c in columns)]
        if self.split == "all":
            return files
        path = self.root / "list_eval_partition.txt"
        if not path.is_file():
            raise missing(path, self.name, self.root, "partition file")
        partition = dict(line.split() for line in path.read_text().splitlines() if line.strip())
        wanted = _PARTITION[self.split]
        return [f for f in files if partition.get(f) == wanted]

    @property
    def attrs(self) -> torch.Tensor:
        """Bool ``[N, 40]`` attribute matrix of this split (columns: :attr:`attr_names`)."""
        return self._attrs

    def attribute_split(self, attribute: str) -> tuple[Subset, Subset]:
        """GeneGAN's split: ``(images with the attribute, images without it)``."""
        if attribute not in self.attr_names:
            raise KeyError(
                f"unknown CelebA attribute {attribute!r}; known: {', '.join(self.attr_names)}"
            )
        column = self._attrs[:, self.attr_names.index(attribute)]
        positive = torch.nonzero(column).flatten().tolist()
        negative = torch.nonzero(~column).flatten().tolist()
        return Subset(self, positive), Subset(self, negative)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Sample:
        path = self.image_dir / self.files[index]
        image = read_image(path, self.name, self.root)
        if self.crop is not None:
            image = _center_crop(image, self.crop)
        row = self._attrs[index].tolist()
        sample: Sample = {
            "image": image,
            "attrs": dict(zip(self.attr_names, row)),
            "index": index,
            "path": str(path),
            "dataset": self.name,
        }
        return finish_sample(sample, self.size, self.transform)


def _center_crop(image: torch.Tensor, side: int) -> torch.Tensor:
    h, w = image.shape[-2:]
    if side > min(h, w):
        raise ValueError(f"crop {side} is larger than the image ({h} x {w})")
    top, left = (h - side) // 2, (w - side) // 2
    return image[:, top : top + side, left : left + side]
