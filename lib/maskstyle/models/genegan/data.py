"""GeneGAN's training data: two unpaired sets split by one attribute (Sec. 2), and the
counterfactual test pairs that give every removal and transplant a ground truth.

- :func:`face_world_sets` - the positive set (faces *with* the attribute) and the negative
  set (faces *without* it) from the face world, drawn from disjoint seeds so no face
  appears in both (the sets are unpaired, as the paper requires). Each face is one side of
  :func:`maskstyle.data.synth.counterfactual_pair`, so the attribute is forced on or off and
  everything else is sampled. ``attribute="lighting"`` is the face world's stand-in for
  Multi-PIE's lighting (Fig. 5): positive = a strong key light from the image left
  (azimuth -70 degrees), negative = the same strength from the camera (azimuth 0).
- :func:`celeba_sets` - CelebA split by an attribute column
  (:meth:`maskstyle.data.loaders.CelebA.attribute_split`), 178 px centre crop resized to
  ``size`` (the paper aligns faces by landmarks; CelebA's aligned images are already so).
- :func:`counterfactual_set` - held-out pairs ``without``/``with``/``region`` for evaluation.
- :class:`PairedLoader` - one batch of positives and one of negatives per step, both
  resumable (``state_dict``), for :class:`maskstyle.train.Trainer`.

Seeds: face ``i`` of a role uses ``seed * 10_000_019 + offset(role) + i`` with offsets
train-positive 0, train-negative 1_000_000, classifier 2_000_000, validation 3_000_000,
test 4_000_000: the roles never share a face for ``n < 1_000_000``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

ROLE_OFFSETS = {
    "positive": 0,
    "negative": 1_000_000,
    "classifier": 2_000_000,
    "validation": 3_000_000,
    "test": 4_000_000,
}
LIGHTING = "lighting"
_LIGHT = {"light_intensity": 0.95, "ambient": 0.22}


def face_seed(seed: int, role: str, i: int) -> int:
    """The face-world seed of face ``i`` in ``role`` (see the module docstring)."""
    return seed * 10_000_019 + ROLE_OFFSETS[role] + i


def _lit(seed: int, size: int, azimuth: float) -> torch.Tensor:
    from maskstyle.data.synth import render, sample_params

    params = sample_params(seed)
    params = params.replace(environment={**_LIGHT, "light_azimuth": azimuth},
                            objects={"eyeglasses": False, "hat": False})  # fmt: skip
    return render(params, size)["image"]


def render_face(seed: int, size: int, attribute: str, present: bool) -> dict:
    """One face with (``present``) or without the attribute: ``{"image", "region"}``."""
    if attribute == LIGHTING:
        image = _lit(seed, size, -70.0 if present else 0.0)
        return {"image": image, "region": torch.ones(size, size, dtype=torch.bool)}
    from maskstyle.data.synth import counterfactual_pair

    pair = counterfactual_pair(seed, size, attribute)
    return {"image": pair["with" if present else "without"]["image"], "region": pair["region"]}


def _render_many(seeds: list[int], size: int, attribute: str, present: bool) -> torch.Tensor:
    if not seeds:
        return torch.zeros(0, 3, size, size)
    return torch.stack([render_face(s, size, attribute, present)["image"] for s in seeds])


@dataclasses.dataclass
class AttributeSets:
    """The positive (with) and negative (without) training sets and where they come from."""

    positive: Dataset
    negative: Dataset
    attribute: str
    provenance: str

    def __post_init__(self) -> None:
        empty = [name for name, s in (("positive", self.positive), ("negative", self.negative))
                 if len(s) == 0]  # fmt: skip
        if empty:
            raise ValueError(
                f"the {' and '.join(empty)} set for attribute {self.attribute!r} is empty: "
                "GeneGAN needs images with AND without the attribute; pick an attribute "
                "column that has both values in this data (or more images)"
            )


class TensorImages(Dataset):
    """Images ``[N, 3, H, W]`` as a dataset of tensors."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]


class _ImagesOf(Dataset):
    """The ``"image"`` field of a sample dataset (CelebA subsets)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.dataset[index]["image"]


def _cache_path(cache_dir: str | os.PathLike | None, key: str) -> Path | None:
    if cache_dir is None:
        return None
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return Path(cache_dir) / f"genegan_faces_{digest}.pt"


def face_world_sets(
    attribute: str = "Eyeglasses",
    n: int = 1000,
    size: int = 64,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
) -> AttributeSets:
    """``n`` positive and ``n`` negative face-world images (disjoint faces), cached as a
    ``.pt`` file in ``cache_dir`` when given."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive number of faces per set, got {n!r}")
    if attribute != LIGHTING:
        from maskstyle.data.synth.pairs import canonical_attribute

        attribute = canonical_attribute(attribute)
    key = f"{attribute}|{n}|{size}|{seed}|v1"
    path = _cache_path(cache_dir, key)
    if path is not None and path.exists():
        stored = torch.load(path, weights_only=True)
        positive, negative = stored["positive"], stored["negative"]
    else:
        positive = _render_many([face_seed(seed, "positive", i) for i in range(n)], size,
                                attribute, True)  # fmt: skip
        negative = _render_many([face_seed(seed, "negative", i) for i in range(n)], size,
                                attribute, False)  # fmt: skip
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            torch.save({"positive": positive, "negative": negative, "key": key}, tmp)
            tmp.replace(path)
    what = "side light (azimuth -70) vs frontal light" if attribute == LIGHTING else attribute
    return AttributeSets(
        TensorImages(positive), TensorImages(negative), attribute,
        f"face_world {what}: {n} with + {n} without (disjoint faces, seed {seed}, {size} px)",
    )  # fmt: skip


def celeba_sets(
    root: str | os.PathLike, attribute: str = "Eyeglasses", size: int = 64,
    split: str = "train", crop: int = 178,
) -> AttributeSets:
    """CelebA ``split`` divided by the ``attribute`` column (GeneGAN's training sets)."""
    from maskstyle.data.loaders.celeba import CelebA

    data = CelebA(root, split=split, crop=crop, size=size)
    positive, negative = data.attribute_split(attribute)
    return AttributeSets(
        _ImagesOf(positive), _ImagesOf(negative), attribute,
        f"CelebA {split} ({root}) split by {attribute}: {len(positive)} with, "
        f"{len(negative)} without; centre crop {crop}, {size} px",
    )  # fmt: skip


def counterfactual_set(
    attribute: str = "Eyeglasses", n: int = 64, size: int = 64, seed: int = 0,
    role: str = "test",
) -> dict[str, torch.Tensor]:
    """``n`` held-out counterfactual pairs: ``{"without", "with": [n, 3, H, W], "region":
    [n, H, W] bool}`` (the images differ only inside ``region``)."""
    from maskstyle.data.synth import counterfactual_pair

    if attribute == LIGHTING:
        raise ValueError("lighting has no counterfactual region; use lighting_series instead")
    if role not in ("validation", "test", "classifier"):
        raise ValueError(f"role must be 'validation', 'test' or 'classifier', got {role!r}")
    pairs = [counterfactual_pair(face_seed(seed, role, i), size, attribute) for i in range(n)]
    return {
        "without": torch.stack([p["without"]["image"] for p in pairs]),
        "with": torch.stack([p["with"]["image"] for p in pairs]),
        "region": torch.stack([p["region"] for p in pairs]),
    }


def natural_faces(attribute: str, n: int, size: int, seed: int,
                  role: str = "test") -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """``n`` face-world faces with the attribute as sampled (not forced): images and labels."""
    from maskstyle.data.synth import attributes_from_params, render, sample_params
    from maskstyle.data.synth.pairs import canonical_attribute

    name = canonical_attribute(attribute)
    images, labels = [], []
    for i in range(n):
        params = sample_params(face_seed(seed, role, 500_000 + i))
        images.append(render(params, size)["image"])
        value = attributes_from_params(params).get(name)
        if value is None:  # Beard: CelebA's No_Beard flipped
            value = not attributes_from_params(params)["No_Beard"]
        labels.append(bool(value))
    return torch.stack(images), torch.tensor(labels)


class PairedLoader:
    """Endless ``(x_Au, x_Be)`` batches: one from each set, each a resumable shuffled loader
    (:class:`maskstyle.train.ResumableLoader`); ``state_dict`` holds both positions."""

    def __init__(self, sets: AttributeSets, batch_size: int, seed: int = 0,
                 num_workers: int = 0) -> None:  # fmt: skip
        from maskstyle.train import ResumableLoader, ResumableSampler

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.loaders = [
            ResumableLoader(DataLoader(s, batch_size=batch_size, num_workers=num_workers,
                                       sampler=ResumableSampler(s, seed=seed + k),
                                       drop_last=len(s) >= batch_size))  # fmt: skip
            for k, s in enumerate((sets.positive, sets.negative))
        ]

    def state_dict(self) -> dict:
        return {"positive": self.loaders[0].state_dict(), "negative": self.loaders[1].state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.loaders[0].load_state_dict(state["positive"])
        self.loaders[1].load_state_dict(state["negative"])

    def __iter__(self) -> PairedLoader:
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = next(self.loaders[0]), next(self.loaders[1])
        n = min(len(a), len(b))  # equal batches (a small set's last batch may be shorter)
        return a[:n], b[:n]




def write_celeba_layout(root: str | os.PathLike, n: int = 16, seed: int = 0,
                        attribute: str = "Eyeglasses") -> Path:  # fmt: skip
    """A small CelebA-layout copy of face-world faces (``img_align_celeba/*.jpg`` at
    178 x 218, ``list_attr_celeba.txt``, ``list_eval_partition.txt``: all ``train``), for
    running the paper profile up to data loading without CelebA. Every other face has
    ``attribute`` forced on, so both sets are non-empty."""
    import numpy as np
    from PIL import Image

    from maskstyle.data.synth import CELEBA_ATTRIBUTES, attributes_from_params, render
    from maskstyle.data.synth import sample_params as sample
    from maskstyle.data.synth.pairs import _OBJECT_FIELD, canonical_attribute

    root = Path(root)
    (root / "img_align_celeba").mkdir(parents=True, exist_ok=True)
    name = canonical_attribute(attribute)
    lines, partition = [str(n), " ".join(CELEBA_ATTRIBUTES)], []
    for i in range(n):
        params = sample(face_seed(seed, "test", 900_000 + i))
        if name in _OBJECT_FIELD:
            params = params.replace(objects={_OBJECT_FIELD[name]: i % 2 == 0})
        square = (render(params, 178)["image"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        canvas = np.pad(square, ((20, 20), (0, 0), (0, 0)), mode="edge")  # 218 x 178
        file = f"{i + 1:06d}.jpg"
        Image.fromarray(canvas).save(root / "img_align_celeba" / file, quality=95)
        values = attributes_from_params(params)
        lines.append(file + " " + " ".join("1" if values[a] else "-1" for a in CELEBA_ATTRIBUTES))
        partition.append(f"{file} 0")
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(partition) + "\n")
    return root



FACE_WORLD_FRAMING = (0.49, 0.49, 0.47)
"""Face-world framing: centre ``(x, y)`` and height of the face contour's bounding box as
fractions of the image (measured on sampled faces' contour landmarks)."""


def face_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """A real photo ``[3, H, W]`` in [0, 1] -> a ``[3, size, size]`` crop framed like the
    face world (Fig. 7's unseen images): MediaPipe's face-mesh landmarks give the face's box,
    which is placed at :data:`FACE_WORLD_FRAMING`; outside the photo is edge-padded."""
    import torch.nn.functional as F

    from maskstyle.data.parse_face import face_landmarks

    points = torch.as_tensor(face_landmarks(image), dtype=torch.float32)  # [478, 2] pixels
    lo, hi = points.min(0).values, points.max(0).values
    cx, cy, frac = FACE_WORLD_FRAMING
    side = float(hi[1] - lo[1]) / frac
    left = float((lo[0] + hi[0]) / 2) - cx * side
    top = float((lo[1] + hi[1]) / 2) - cy * side
    h, w = image.shape[-2:]
    # affine grid over the crop window, in the photo's normalised coordinates
    xs = (left + (torch.arange(size) + 0.5) * side / size) / w * 2 - 1
    ys = (top + (torch.arange(size) + 0.5) * side / size) / h * 2 - 1
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1)[None]  # [1,S,S,2]
    out = F.grid_sample(image[None].float(), grid, mode="bilinear", padding_mode="border",
                        align_corners=False)  # fmt: skip
    return out[0].clamp(0, 1)


__all__ = [
    "AttributeSets",
    "LIGHTING",
    "PairedLoader",
    "TensorImages",
    "celeba_sets",
    "counterfactual_set",
    "FACE_WORLD_FRAMING",
    "face_crop",
    "face_seed",
    "face_world_sets",
    "natural_faces",
    "render_face",
    "write_celeba_layout",
]
