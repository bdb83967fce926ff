"""Content/style image pairs for decoder training and transfer.

The paper trains on 80k COCO photos (content) and 80k PainterByNumbers paintings (style),
resized to 256 x 256, drawn in random pairs. The smoke profile draws from the face world
instead: faces as content, painted portraits as style (:mod:`maskstyle.data.synth`).

Transfer inputs (notebooks 01, 03-06): :func:`content_samples`, :func:`style_samples` and
:func:`transfer_example` draw content faces from the face world or, given ``data_root``,
from CelebAMask-HQ (hand-labelled 19-class masks), and style portraits from the face world
or, given ``style_root``, from a labelled portrait folder (:mod:`maskstyle.data.portraits`:
portraits plus ``labels/{name}.png``; a portrait without one gets a ``parse_face`` mask and
the description says so). Every description names the data, so no face-world number can
pass for a real one.

:class:`PairStream` is the endless, resumable batch source :class:`maskstyle.train.Trainer`
expects: batch ``p`` depends only on ``(seed, p)``, and its position is checkpointed
(``state_dict``), so a resumed run draws exactly the batches the interrupted one would have.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class ImageFolder(Dataset):
    """Every image under ``root`` (recursively), resized and centre-cropped to ``size``.

    Items are ``{"image": [3, size, size] float in [0, 1], "path": str}``.
    """

    def __init__(self, root: str | os.PathLike, size: int = 256) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"image folder {self.root} does not exist: pass the folder holding the "
                "training images (COCO / PainterByNumbers in the paper profile)"
            )
        self.paths = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {self.root}")
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict:
        with Image.open(self.paths[index]) as img:
            img = img.convert("RGB")
            scale = self.size / min(img.size)
            w, h = (
                max(self.size, round(img.width * scale)),
                max(self.size, round(img.height * scale)),
            )
            img = img.resize((w, h), Image.BICUBIC)
            left, top = (w - self.size) // 2, (h - self.size) // 2
            img = img.crop((left, top, left + self.size, top + self.size))
            array = np.asarray(img, dtype=np.float32) / 255.0
        return {
            "image": torch.from_numpy(array).permute(2, 0, 1).contiguous(),
            "path": str(self.paths[index]),
        }


class PairStream:
    """Endless batches ``{"content", "style"[, "content_mask", "style_mask"]}``.

    Batch ``p`` takes ``batch_size`` random content and style items chosen by a generator
    seeded with ``(seed, p)``. Masks are included when both datasets' items have ``"mask"``.
    """

    def __init__(self, content: Dataset, style: Dataset, batch_size: int = 2, seed: int = 0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if len(content) == 0 or len(style) == 0:
            raise ValueError("content and style datasets must not be empty")
        self.content, self.style = content, style
        self.batch_size, self.seed = batch_size, seed
        self.position = 0

    def state_dict(self) -> dict[str, int]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.position = int(state["position"])

    def __iter__(self) -> PairStream:
        return self

    def batch(self, position: int) -> dict[str, torch.Tensor]:
        """The batch at ``position`` (does not move the stream)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, position]))
        ci = rng.integers(len(self.content), size=self.batch_size)
        si = rng.integers(len(self.style), size=self.batch_size)
        contents = [self.content[int(i)] for i in ci]
        styles = [self.style[int(i)] for i in si]
        out = {
            "content": torch.stack([c["image"].float() for c in contents]),
            "style": torch.stack([s["image"].float() for s in styles]),
        }
        if all("mask" in item for item in contents + styles):
            out["content_mask"] = torch.stack([c["mask"].long() for c in contents])
            out["style_mask"] = torch.stack([s["mask"].long() for s in styles])
        return out

    def __next__(self) -> dict[str, torch.Tensor]:
        out = self.batch(self.position)
        self.position += 1
        return out


def face_world_pairs(
    n_content: int = 64, n_style: int = 64, size: int = 128, batch_size: int = 2, seed: int = 0
) -> tuple[PairStream, str]:
    """Faces (content) and painted portraits (style) from the face world; with provenance."""
    from maskstyle.data.synth import SynthFaces

    content = SynthFaces(n_content, size=size, seed=seed, kind="single")
    style = SynthFaces(n_style, size=size, seed=seed + 1, kind="painted")
    description = (
        f"face world (synthetic): {n_content} faces seed {seed} as content, {n_style} painted "
        f"portraits seed {seed + 1} as style, {size} px"
    )
    return PairStream(content, style, batch_size, seed), description


def folder_pairs(
    content_dir: str | os.PathLike,
    style_dir: str | os.PathLike,
    size: int = 256,
    batch_size: int = 2,
    seed: int = 0,
) -> tuple[PairStream, str]:
    """Random pairs from two image folders (the paper: COCO and PainterByNumbers)."""
    content, style = ImageFolder(content_dir, size), ImageFolder(style_dir, size)
    description = (
        f"{len(content)} content images from {content.root}, {len(style)} style images from "
        f"{style.root}, {size} px"
    )
    return PairStream(content, style, batch_size, seed), description


def face_world_example(
    content_seed: int = 0, style_seed: int = 1, size: int = 128, paint_style: str = "oil"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, str]:
    """One face (content) and one painted portrait (style) with label maps, batched (B = 1).

    Returns ``(content, style, content_mask, style_mask, description)``.
    """
    from maskstyle.data.synth import painted_portrait, render_face

    face = render_face(content_seed, size)
    portrait = painted_portrait(style_seed, size, paint_style)
    description = (
        f"face world (synthetic): face seed {content_seed} as content, {paint_style} "
        f"portrait seed {style_seed} as style, {size} px"
    )
    return (face["image"][None].float(), portrait["image"][None].float(),
            face["mask"][None].long(), portrait["mask"][None].long(), description)  # fmt: skip


# --- transfer inputs: the face world, or CelebAMask-HQ faces and a labelled portrait folder --


def content_samples(
    n: int, size: int, seed: int = 0, data_root: str | os.PathLike | None = None
) -> tuple[list[dict], str]:
    """``n`` content faces with label maps, ``({"image", "mask", "title"} list, description)``.

    ``data_root=None``: face-world faces ``render_face(seed + i)``. Otherwise CelebAMask-HQ
    under ``data_root`` (:class:`maskstyle.data.loaders.CelebAMaskHQ`, images in numeric
    order, resized to ``size``): sample ``i`` is image number ``(seed + i) mod len``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if data_root is None:
        from maskstyle.data.synth import render_face

        faces = [render_face(seed + i, size) for i in range(n)]
        samples = [
            {"image": f["image"].float(), "mask": f["mask"].long(), "title": f"face {seed + i}"}
            for i, f in enumerate(faces)
        ]
        return samples, (
            f"face world (synthetic): faces seeds {seed}..{seed + n - 1} as content, {size} px"
        )
    from maskstyle.data.loaders import CelebAMaskHQ

    dataset = CelebAMaskHQ(data_root, size=size, attributes=False)
    if len(dataset) == 0:
        raise FileNotFoundError(f"CelebAMask-HQ under {data_root} holds no images")
    picks = [(seed + i) % len(dataset) for i in range(n)]
    samples = []
    for i in picks:
        item = dataset[i]
        samples.append({"image": item["image"], "mask": item["mask"].long(),
                        "title": f"CelebA-HQ {item['index']}"})  # fmt: skip
    numbers = [dataset.indices[i] for i in picks]
    if (dataset.root / "face_world.json").is_file():  # written by write_celebamask_hq
        kind = "face world (synthetic) in CelebAMask-HQ's layout"
    else:
        kind = "CelebAMask-HQ"
    return samples, f"{kind} ({dataset.root}): images {numbers} as content, {size} px"


def style_samples(
    n: int,
    size: int,
    seed: int = 0,
    style_root: str | os.PathLike | None = None,
    paint_styles: Sequence[str] = ("oil",),
) -> tuple[list[dict], str]:
    """``n`` style portraits with label maps, ``({"image", "mask", "title"} list, description)``.

    ``style_root=None``: face-world painted portraits ``painted_portrait(seed + i)`` in
    ``paint_styles`` (cycled). Otherwise the labelled portrait folder ``style_root``
    (:class:`maskstyle.data.portraits.PortraitFolder`, centre-cropped and resized to
    ``size``): sample ``i`` is portrait ``(seed + i) mod len`` in file-name order.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if style_root is None:
        from maskstyle.data.synth import painted_portrait

        styles = [paint_styles[i % len(paint_styles)] for i in range(n)]
        portraits = [painted_portrait(seed + i, size, s) for i, s in enumerate(styles)]
        samples = [
            {"image": p["image"].float(), "mask": p["mask"].long(), "title": p["style"]}
            for p in portraits
        ]
        return samples, (
            f"face world (synthetic): painted portraits seeds {seed}..{seed + n - 1} "
            f"({', '.join(dict.fromkeys(styles))}) as style, {size} px"
        )
    from maskstyle.data.portraits import PortraitFolder

    folder = PortraitFolder(style_root, size=size)
    picks = [(seed + i) % len(folder) for i in range(n)]
    samples = []
    for i in picks:
        item = folder[i]
        source = "parse_face mask" if item["mask_source"] == "parse_face" else "labelled"
        samples.append({"image": item["image"], "mask": item["mask"],
                        "title": f"{Path(item['path']).name} ({source})"})  # fmt: skip
    names = [folder.files[i].name for i in picks]
    return samples, f"{folder.description}: {names} as style, {size} px"


def transfer_example(
    content_seed: int = 0,
    style_seed: int = 1,
    size: int = 128,
    paint_style: str = "oil",
    data_root: str | os.PathLike | None = None,
    style_root: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, str]:
    """One content face and one style portrait with label maps, batched (B = 1).

    With both roots ``None`` this is :func:`face_world_example`; ``data_root`` takes the
    content from CelebAMask-HQ, ``style_root`` the style from a labelled portrait folder
    (each independently; the seed is then an index, modulo the set's size). Returns
    ``(content, style, content_mask, style_mask, description)``.
    """
    if data_root is None and style_root is None:
        return face_world_example(content_seed, style_seed, size, paint_style)
    (face,), c_text = content_samples(1, size, content_seed, data_root)
    (portrait,), s_text = style_samples(1, size, style_seed, style_root, (paint_style,))
    return (face["image"][None], portrait["image"][None], face["mask"][None],
            portrait["mask"][None], f"{c_text}; {s_text}")  # fmt: skip


def eval_pairs(
    n: int,
    size: int,
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    style_root: str | os.PathLike | None = None,
    paint_styles: Sequence[str] = ("oil", "impressionist", "watercolour"),
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, str]:
    """``n`` content/style pairs stacked: ``(content [n, 3, H, W], style, content_mask
    [n, H, W], style_mask, description)``; content ``i`` is :func:`content_samples` item
    ``i`` (seed ``seed``), style ``i`` is :func:`style_samples` item ``i`` (seed
    ``seed + 1``). Give a seed far from the training set's (face world: training draws
    hashed item seeds, these are ``render_face(seed + i)``)."""
    faces, c_text = content_samples(n, size, seed, data_root)
    portraits, s_text = style_samples(n, size, seed + 1, style_root, paint_styles)
    return (
        torch.stack([f["image"].float() for f in faces]),
        torch.stack([p["image"].float() for p in portraits]),
        torch.stack([f["mask"].long() for f in faces]),
        torch.stack([p["mask"].long() for p in portraits]),
        f"{n} pairs: {c_text}; {s_text}",
    )
