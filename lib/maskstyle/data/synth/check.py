"""Check a face-world set written by :func:`~.writer.write_celebamask_hq`.

Each check returns ``(name, ok, detail)``; :func:`check_rendered_set` runs them all:
provenance present, image/attribute counts agree, image sizes, mask label range, every
face shows skin and nose (and, from 64 px, an eye and a lip), and determinism - the first
few faces re-rendered from the recorded seed equal the files (masks exactly, images
within JPEG error).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from maskstyle.data.labels import LABEL_INDEX, NUM_CLASSES
from maskstyle.data.synth.writer import (
    IMAGE_DIR,
    PROVENANCE_FILE,
    image_path,
    read_attributes,
    read_mask,
)

Check = tuple[str, bool, str]
REQUIRED_PARTS = (("skin",), ("nose",))
SMALL_PARTS = (("l_eye", "r_eye"), ("u_lip", "l_lip"))
"""Required from 64 px on: at 32 px a lip or an eye can be thinner than half a pixel."""
JPEG_TOLERANCE = 8.0 / 255.0  # quality-95 JPEG of a 32 px face: about 4/255 mean error


def check_rendered_set(root: str | Path, recheck: int = 2) -> list[Check]:
    """Run every check on the set under ``root``; ``recheck`` faces are re-rendered."""
    root = Path(root)
    prov_path = root / PROVENANCE_FILE
    if not prov_path.exists():
        return [("provenance", False, f"{prov_path} is missing; is {root} a face-world set?")]
    prov = json.loads(prov_path.read_text())
    results: list[Check] = [("provenance", True, f"{prov.get('generator')} {prov.get('version')}")]
    fmt = prov.get("image_format", "jpg")
    images = sorted((root / IMAGE_DIR).glob(f"*.{fmt}")) if (root / IMAGE_DIR).exists() else []
    n = prov.get("count", prov.get("n"))
    results.append(("image count", len(images) == n, f"{len(images)} images, recorded {n}"))
    try:
        _, rows = read_attributes(root)
        results.append(("attributes", len(rows) == n, f"{len(rows)} rows of 40 attributes"))
    except (FileNotFoundError, ValueError) as err:
        results.append(("attributes", False, str(err)))
    size = prov.get("size")
    bad_size, bad_range, missing = [], [], []
    for k in range(len(images)):
        path = image_path(root, k, fmt)
        if not path.exists():
            missing.append(f"{path.name} missing")
            continue
        with Image.open(path) as im:
            if im.size != (size, size) or im.mode != "RGB":
                bad_size.append(f"{path.name}: {im.size} {im.mode}")
        mask = read_mask(root, k, size)
        if mask.min() < 0 or mask.max() >= NUM_CLASSES:
            bad_range.append(str(k))
        present = set(np.unique(mask).tolist())
        for parts in REQUIRED_PARTS + (SMALL_PARTS if size >= 64 else ()):
            if not present & {LABEL_INDEX[p] for p in parts}:
                missing.append(f"image {k} has no {' or '.join(parts)}")
    results.append(("image sizes", not bad_size, "; ".join(bad_size[:3]) or f"all {size} px RGB"))
    label_detail = f"bad masks: {bad_range[:5]}" if bad_range else f"labels in [0, {NUM_CLASSES})"
    results.append(("label range", not bad_range, label_detail))
    parts_detail = "; ".join(missing[:3]) or "all required parts present"
    results.append(("face parts", not missing, parts_detail))
    results.append(_check_determinism(root, prov, min(recheck, len(images)), fmt))
    return results


def _check_determinism(root: Path, prov: dict, count: int, fmt: str) -> Check:
    from maskstyle.data.synth.dataset import SynthFaces

    needed = {"seed", "size", "kind", "n"}
    if not needed <= set(prov):
        return ("determinism", False, f"provenance lacks {sorted(needed - set(prov))}")
    data = SynthFaces(prov["n"], prov["size"], prov["seed"], prov["kind"])
    worst = 0.0
    for k in range(count):
        sample = data[k]
        if not np.array_equal(read_mask(root, k, prov["size"]), sample["mask"].numpy()):
            return ("determinism", False, f"image {k}: mask differs from a re-render of seed")
        with Image.open(image_path(root, k, fmt)) as im:
            disk = np.asarray(im.convert("RGB"), np.float32) / 255.0
        err = float(np.abs(disk - sample["image"].permute(1, 2, 0).numpy()).mean())
        worst = max(worst, err)
        tolerance = JPEG_TOLERANCE if fmt == "jpg" else 0.5 / 255.0
        if err > tolerance:
            return ("determinism", False, f"image {k}: mean error {err:.4f} > {tolerance:.4f}")
    return ("determinism", True, f"{count} re-rendered, worst mean error {worst:.4f}")
