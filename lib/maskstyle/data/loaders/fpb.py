"""FPB-style face pairs for LRNet: two faces with similar pose and contour, and their masks.

LRNet's Facial Pairs to Blend (FPB) dataset - 12,000 pairs, 10,000 made with StyleGAN2 and
2,000 real, TPS-warped pairs - was never released. This loader defines a simple layout
with the same meaning, so a stand-in set (procedural faces, matched CelebAMask-HQ pairs)
can be written and read the same way::

    ROOT/pairs.csv           header a,b[,target][,kind]; one pair per row
    ROOT/images/{a}, {b}     face images (paths relative to images/)
    ROOT/masks/{stem}.png    19-class label map of each face (single-channel PNG)
    ROOT/images/{target}     optional ground-truth blend of a onto b

``kind`` (``generated`` or ``real``) drives LRNet's split: "70% pairs in the dataset are
used for training, and the rests are for validation. We use stratified sampling to select
from both generated and real images." Here the first 70% of each kind, in file order, train
and the rest validate (deterministic; shuffle the CSV rows with a seed to randomise).
"""

from __future__ import annotations

import csv
import math
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
    verify_hint,
)

SPLITS = ("train", "val", "all")
LRNET_TRAIN_FRACTION = 0.7


def stratified_split(kinds: Sequence[str], train_fraction: float) -> tuple[list[int], list[int]]:
    """Row indices ``(train, val)``: the first ``round(fraction * n_kind)`` rows of each kind
    train (halves round up), the rest validate; rows keep their order."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    train: list[int] = []
    by_kind: dict[str, list[int]] = {}
    for i, kind in enumerate(kinds):
        by_kind.setdefault(kind, []).append(i)
    for rows in by_kind.values():
        train.extend(rows[: math.floor(train_fraction * len(rows) + 0.5)])
    train_set = set(train)
    return sorted(train), [i for i in range(len(kinds)) if i not in train_set]


class FPBPairs(Dataset):
    """Pairs ``(a, b)`` with masks: keys ``image_a``, ``mask_a``, ``image_b``, ``mask_b``,
    optional ``target``, plus ``kind``, ``index``, ``path_a``, ``path_b``, ``dataset``."""

    name = "fpb"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        size: int | Sequence[int] | None = None,
        transform: Transform | None = None,
        train_fraction: float = LRNET_TRAIN_FRACTION,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"FPBPairs split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root)
        self.size, self.transform = as_size(size), transform
        csv_path = self.root / "pairs.csv"
        if not csv_path.is_file():
            raise missing(csv_path, self.name, self.root, "pair list")
        with csv_path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            if "a" not in columns or "b" not in columns:
                raise DatasetFileError(
                    f"{self.name}: {csv_path} must have a header with columns a,b[,target]"
                    f"[,kind], got {columns}; see maskstyle.data.loaders.fpb for the layout"
                )
            rows = list(reader)
        kinds = [row.get("kind") or "generated" for row in rows]
        train, val = stratified_split(kinds, train_fraction)
        keep = {"train": train, "val": val, "all": list(range(len(rows)))}[split]
        self.rows = [rows[i] for i in keep]
        self.row_numbers = keep
        self.kinds = [kinds[i] for i in keep]

    def __len__(self) -> int:
        return len(self.rows)

    def _face(self, rel: str) -> tuple[torch.Tensor, torch.Tensor, Path]:
        path = self.root / "images" / rel
        image = read_image(path, self.name, self.root)
        mask_path = self.root / "masks" / f"{Path(rel).stem}.png"
        labels = read_label_map(mask_path, self.name, self.root)
        if labels.size and labels.max() >= NUM_CLASSES:
            raise DatasetFileError(
                f"{self.name}: {mask_path} holds label {int(labels.max())}; masks must hold "
                f"labels 0..{NUM_CLASSES - 1}; " + verify_hint(self.name, self.root)
            )
        mask = torch.from_numpy(labels)
        return image, mask, path

    def __getitem__(self, index: int) -> Sample:
        row = self.rows[index]
        image_a, mask_a, path_a = self._face(row["a"])
        image_b, mask_b, path_b = self._face(row["b"])
        sample: Sample = {
            "image_a": image_a,
            "mask_a": mask_a,
            "image_b": image_b,
            "mask_b": mask_b,
            "kind": self.kinds[index],
            "index": self.row_numbers[index],
            "path_a": str(path_a),
            "path_b": str(path_b),
            "dataset": self.name,
        }
        if row.get("target"):
            sample["target"] = read_image(self.root / "images" / row["target"], self.name,
                                          self.root)
        return finish_sample(sample, self.size, self.transform, mask_keys=("mask_a", "mask_b"),
                             image_keys=("image_a", "image_b"))
