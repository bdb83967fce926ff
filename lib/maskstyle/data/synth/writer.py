"""Write face-world samples to disk in CelebAMask-HQ's layout, so the real loader reads them.

::

    root/CelebA-HQ-img/{k}.jpg                                    (JPEG quality 95, or .png)
    root/CelebAMask-HQ-mask-anno/{k // 2000}/{k:05d}_{part}.png    (one per part present)
    root/CelebAMask-HQ-attribute-anno.txt
    root/face_world.json                                           (provenance)

Part PNGs are 8-bit single-channel, 255 inside and 0 outside, the image's size; ``part`` is
``LABELS[label]`` for labels 1..18. Merging them in label order with later labels
overwriting earlier ones (the CelebAMask-HQ convention) gives back the mask exactly, since
every pixel carries one label. The attribute file has the image count, the 40 names, then
``{k}.jpg`` and 40 values ``1``/``-1`` per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from maskstyle.data.labels import LABELS
from maskstyle.data.synth.attributes import CELEBA_ATTRIBUTES

IMAGE_DIR = "CelebA-HQ-img"
MASK_DIR = "CelebAMask-HQ-mask-anno"
ATTRIBUTE_FILE = "CelebAMask-HQ-attribute-anno.txt"
PROVENANCE_FILE = "face_world.json"
IMAGE_FORMATS = ("jpg", "png")


def mask_path(root: Path, k: int, part: str) -> Path:
    return Path(root) / MASK_DIR / str(k // 2000) / f"{k:05d}_{part}.png"


def image_path(root: Path, k: int, image_format: str = "jpg") -> Path:
    return Path(root) / IMAGE_DIR / f"{k}.{image_format}"


def _check_sample(sample: Any, k: int) -> None:
    if not isinstance(sample, dict) or not {"image", "mask", "attrs"} <= set(sample):
        got = sorted(sample) if isinstance(sample, dict) else type(sample).__name__
        raise ValueError(
            f"sample {k} is not a single face (needs 'image', 'mask', 'attrs'; got {got}); "
            "write SynthFaces(kind='single') or unpack pairs into faces first"
        )


def write_celebamask_hq(
    samples: Iterable[dict],
    root: str | Path,
    image_format: str = "jpg",
    provenance: dict | None = None,
    progress: bool = False,
) -> Path:
    """Write ``samples`` (a ``SynthFaces`` of kind single, or face dicts) under ``root``.

    ``provenance`` is merged into ``face_world.json`` (a ``SynthFaces`` contributes its
    seed, size, kind and n by itself). Returns ``root``.
    """
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")
    import maskstyle

    root = Path(root)
    (root / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"generator": "maskstyle.data.synth", "version": maskstyle.__version__}
    record.update(getattr(samples, "provenance", {}))
    record.update(provenance or {})
    lines = []
    total = len(samples) if hasattr(samples, "__len__") else None
    for k, sample in enumerate(tqdm(samples, total=total, disable=not progress, desc="render")):
        _check_sample(sample, k)
        image = sample["image"].permute(1, 2, 0).numpy()
        pixels = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
        target = image_path(root, k, image_format)
        if image_format == "jpg":
            Image.fromarray(pixels).save(target, quality=95)
        else:
            Image.fromarray(pixels).save(target)
        mask = sample["mask"].numpy()
        for label in np.unique(mask):
            if label == 0:
                continue
            path = mask_path(root, k, LABELS[label])
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(((mask == label) * 255).astype(np.uint8)).save(path)  # 8-bit L
        values = " ".join("1" if sample["attrs"][a] else "-1" for a in CELEBA_ATTRIBUTES)
        lines.append(f"{k}.jpg {values}")
    header = [str(len(lines)), " ".join(CELEBA_ATTRIBUTES)]
    (root / ATTRIBUTE_FILE).write_text("\n".join(header + lines) + "\n")
    record["count"] = len(lines)
    record["image_format"] = image_format
    (root / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return root


def read_mask(root: str | Path, k: int, size: int) -> np.ndarray:
    """Merge the part PNGs of image ``k`` in label order (later labels overwrite earlier)."""
    mask = np.zeros((size, size), np.int64)
    for label, part in enumerate(LABELS[1:], start=1):
        path = mask_path(Path(root), k, part)
        if path.exists():
            mask[np.asarray(Image.open(path)) > 127] = label
    return mask


def read_attributes(root: str | Path) -> tuple[list[str], dict[str, dict[str, bool]]]:
    """Parse the attribute file: (names, {image name: {attribute: bool}})."""
    path = Path(root) / ATTRIBUTE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no attribute file at {path}; write the set first")
    lines = path.read_text().splitlines()
    count, names = int(lines[0]), lines[1].split()
    rows = {}
    for line in lines[2:]:
        fields = line.split()
        if len(fields) != len(names) + 1:
            raise ValueError(f"{path}: line {line[:40]!r} has {len(fields) - 1} values, not 40")
        rows[fields[0]] = {n: v == "1" for n, v in zip(names, fields[1:])}
    if count != len(rows):
        raise ValueError(f"{path}: header says {count} images but lists {len(rows)}")
    return names, rows
