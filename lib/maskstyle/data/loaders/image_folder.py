"""A folder of images, found recursively in sorted order (COCO, Painter by Numbers).

The fast semantic style transfer paper trains its decoders on about 80,000 COCO content
images and 80,000 Painter-by-Numbers style images; neither needs labels, so one loader
serves both. The file list is sorted by relative path, so index ``i`` names the same image
on every machine (deterministic subsets: ``Subset(folder, range(80000))``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch.utils.data import Dataset

from maskstyle.data.loaders._common import (
    IMAGE_EXTENSIONS,
    MissingDatasetFile,
    Sample,
    Transform,
    as_size,
    finish_sample,
    missing,
    read_image,
    verify_hint,
)


class ImageFolder(Dataset):
    """Every file under ``root`` whose suffix is in ``extensions`` (case-insensitive).

    ``dataset`` names the manifest (e.g. ``"coco2017"``) for error messages and provenance.
    """

    def __init__(
        self,
        root: str | Path,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
        size: int | Sequence[int] | None = None,
        transform: Transform | None = None,
        recursive: bool = True,
        dataset: str = "image_folder",
    ) -> None:
        self.root = Path(root)
        self.name = dataset
        if not self.root.is_dir():
            raise missing(self.root, dataset, self.root, "image folder")
        wanted = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions}
        pattern = "**/*" if recursive else "*"
        self.files = sorted(
            (p for p in self.root.glob(pattern) if p.is_file() and p.suffix.lower() in wanted),
            key=lambda p: p.relative_to(self.root).as_posix(),
        )
        if not self.files:
            raise MissingDatasetFile(
                f"{dataset}: no image files with extensions {sorted(wanted)} under {self.root}; "
                + verify_hint(dataset, self.root)
            )
        self.size, self.transform = as_size(size), transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Sample:
        path = self.files[index]
        sample: Sample = {
            "image": read_image(path, self.name, self.root),
            "index": index,
            "path": str(path),
            "dataset": self.name,
        }
        return finish_sample(sample, self.size, self.transform)
