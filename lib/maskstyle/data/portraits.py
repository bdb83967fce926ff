"""A folder of style portraits (painted faces) with 19-class label maps.

Fast semantic style transfer (Lu et al. 2017, Sec. 5.1 and the user study) takes head
portrait paintings as style images, labelled by hand with the same semantic regions as the
content photos, so that every content region takes its style from the same region of the
painting. No such labelled set is published; :class:`PortraitFolder` reads one laid out as

::

    STYLE_ROOT/
        {name}.jpg | .png | ...      the portraits (any size; RGB, alpha is dropped)
        labels/{name}.png            label map of {name}: 8-bit single-channel PNG, same
                                     width and height as the portrait, one label per pixel
                                     in maskstyle's 19-class CelebAMask-HQ scheme
                                     (0 background, 1 skin, ..., 13 hair, ..., 18 cloth)

Only the folder's top level holds portraits (``labels/`` is never read as portraits). Write
label maps with :func:`maskstyle.utils.save_mask`. A portrait whose ``labels/{name}.png`` is
absent gets a label map made by :func:`maskstyle.data.parse_face` (MediaPipe face mesh and
selfie segmentation, geometric approximations, not hand labels); the folder warns once,
lists those portraits in :attr:`PortraitFolder.parsed`, marks each such sample with
``mask_source = "parse_face"`` and its :attr:`PortraitFolder.description` says how many
there are. When parse_face finds no face in such a portrait, loading it raises an error
that names the label file to add. ``parse_missing=False`` refuses unlabelled portraits at
construction instead.

Samples follow the loaders' schema: ``image`` float32 ``[3, H, W]`` in [0, 1], ``mask``
int64 ``[H, W]``, ``index``, ``path``, ``dataset`` plus ``mask_source`` (the label file or
``"parse_face"``). ``size`` centre-crops to a square and resizes (image bilinear with
antialiasing, mask nearest), as portraits are rarely square (the paper's are 600 x 800).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset

from maskstyle.data.labels import NUM_CLASSES
from maskstyle.data.loaders._common import (
    IMAGE_EXTENSIONS,
    DatasetFileError,
    MissingDatasetFile,
    Sample,
    read_image,
    read_label_map,
    resize_image,
)
from maskstyle.nn.masks import resize_labels

LABELS_DIR = "labels"
"""Subfolder of a portrait folder holding ``{name}.png`` label maps."""
LAYOUT = (
    "STYLE_ROOT/{name}.jpg|.png (portraits) and STYLE_ROOT/labels/{name}.png (8-bit "
    "single-channel label maps, same size, labels 0..18 of the CelebAMask-HQ scheme)"
)


def centre_square(image: torch.Tensor, mask: torch.Tensor, size: int) -> tuple[torch.Tensor, ...]:
    """Crop ``image [3, H, W]`` and ``mask [H, W]`` to their central square and resize both
    to ``size`` (image bilinear antialiased, mask nearest)."""
    h, w = image.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    image = image[:, top : top + side, left : left + side]
    mask = mask[top : top + side, left : left + side]
    return resize_image(image, (size, size)), resize_labels(mask, (size, size))


class PortraitFolder(Dataset):
    """Style portraits and their label maps from a folder (layout in the module docstring)."""

    name = "portrait_folder"

    def __init__(
        self,
        root: str | Path,
        size: int | None = None,
        parse_missing: bool = True,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
    ) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise MissingDatasetFile(
                f"{self.name}: portrait folder {self.root} does not exist; expected {LAYOUT}"
            )
        wanted = {e.lower() for e in extensions}
        self.files = sorted(
            p for p in self.root.iterdir() if p.is_file() and p.suffix.lower() in wanted
        )
        if not self.files:
            raise MissingDatasetFile(
                f"{self.name}: no portraits ({', '.join(sorted(wanted))}) in {self.root}; "
                f"expected {LAYOUT}"
            )
        if size is not None and (not isinstance(size, int) or size < 1):
            raise ValueError(f"size must be a positive int (square side) or None, got {size!r}")
        self.size = size
        self.label_paths = [self.root / LABELS_DIR / f"{p.stem}.png" for p in self.files]
        self.parsed = [p.name for p, lab in zip(self.files, self.label_paths) if not lab.is_file()]
        if self.parsed and not parse_missing:
            raise MissingDatasetFile(
                f"{self.name}: {len(self.parsed)} portrait(s) in {self.root} have no label map, "
                f"first {self.parsed[0]} (expected {self.root / LABELS_DIR}/"
                f"{Path(self.parsed[0]).stem}.png); add them or pass parse_missing=True to make "
                "them with maskstyle.data.parse_face"
            )
        if self.parsed:
            warnings.warn(
                f"{len(self.parsed)} of {len(self.files)} portraits in {self.root} have no "
                f"label map in {LABELS_DIR}/ ({', '.join(self.parsed[:5])}"
                f"{' ...' if len(self.parsed) > 5 else ''}): their masks are made by "
                "maskstyle.data.parse_face (geometric approximations, not hand labels)",
                UserWarning,
                stacklevel=2,
            )
        self._parsed_masks: dict[int, torch.Tensor] = {}

    @property
    def description(self) -> str:
        """Where the portraits and their label maps come from (for provenance records)."""
        labelled = len(self.files) - len(self.parsed)
        text = f"{len(self.files)} portraits from {self.root} (label maps: {labelled} from "
        text += f"{LABELS_DIR}/"
        if self.parsed:
            text += f", {len(self.parsed)} made by maskstyle.data.parse_face"
        return text + ")"

    def __len__(self) -> int:
        return len(self.files)

    def load_mask(self, index: int, image: torch.Tensor | None = None) -> tuple[torch.Tensor, str]:
        """Label map of portrait ``index`` at the portrait's size, and where it came from."""
        path, label_path = self.files[index], self.label_paths[index]
        if label_path.is_file():
            mask = torch.from_numpy(read_label_map(label_path, self.name, self.root))
            if mask.numel() and int(mask.max()) >= NUM_CLASSES:
                raise DatasetFileError(
                    f"{self.name}: {label_path} holds label {int(mask.max())}, but labels are "
                    f"0..{NUM_CLASSES - 1} (maskstyle.data.labels.LABELS); save label maps with "
                    "maskstyle.utils.save_mask"
                )
            return mask, str(label_path)
        if index not in self._parsed_masks:
            from maskstyle.data.parse_face import NoFaceFoundError, parse_face

            if image is None:
                image = read_image(path, self.name, self.root)
            try:
                self._parsed_masks[index] = parse_face(image)
            except NoFaceFoundError as error:
                raise ValueError(
                    f"{self.name}: {path} has no label map ({label_path} does not exist) and "
                    f"parse_face found no face in it ({error}); label it by hand and save the "
                    f"map as {label_path} (maskstyle.utils.save_mask), or remove it"
                ) from error
        return self._parsed_masks[index], "parse_face"

    def __getitem__(self, index: int) -> Sample:
        path = self.files[index]
        image = read_image(path, self.name, self.root)
        mask, source = self.load_mask(index, image)
        if tuple(mask.shape) != tuple(image.shape[-2:]):
            raise DatasetFileError(
                f"{self.name}: label map {source} is {mask.shape[1]}x{mask.shape[0]} but "
                f"{path.name} is {image.shape[2]}x{image.shape[1]}; a label map must have its "
                "portrait's size"
            )
        if self.size is not None:
            image, mask = centre_square(image, mask, self.size)
        return {
            "image": image,
            "mask": mask.long(),
            "index": index,
            "path": str(path),
            "dataset": self.name,
            "mask_source": source,
        }


__all__ = ["LABELS_DIR", "LAYOUT", "PortraitFolder", "centre_square"]
