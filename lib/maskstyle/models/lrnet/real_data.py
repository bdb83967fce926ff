"""Real blend pairs for LRNet's paper profile: FPB-layout pairs and CelebAMask-HQ pairs.

LRNet trains and validates on FPB (Section 3: StyleGAN2 pairs plus 2,000 real pairs with
"similar orientations and face-shapes"; 70 % / 30 %, stratified over generated and real,
Section 5.1) and also shows CelebAMask-HQ faces. FPB was never released; both datasets are
read here from a user's local copy and turned into the sample schema of
:class:`~maskstyle.models.lrnet.data.FaceWorldBlendPairs`, so training and evaluation run
unchanged:

- ``x_a``, ``x_b`` float32 ``[3, H, W]``; ``target`` only where the data has a ground truth
  (FPB rows with a ``target`` column - all rows of the split, or none is used);
- ``labels_a``/``labels_b`` (19 classes) and ``regions_a``/``regions_b`` (LRNet's 10);
- ``coords_a``/``coords_b``: unit-sphere face coordinates ``[3, H, W]`` from MediaPipe's
  face mesh (:func:`maskstyle.data.face_coords.face_coords`, run on the full-resolution
  photo) in place of PRNet's vertices (Section 4.3), or zeros with ``coords="none"``;
- ``index``, ``seed``.

**FPB** (:class:`FPBBlendPairs`): the layout of :class:`maskstyle.data.loaders.FPBPairs`
(``pairs.csv`` with ``a, b[, target][, kind]``), its stratified 70/30 split.

**CelebAMask-HQ** (:class:`CelebAMaskHQBlendPairs`): the dataset has single faces, not
pairs. Pairs are made deterministically from ``seed``: a pool of ``2 * count`` images is
drawn (seeded permutation), each described by its mask geometry - the centroids of skin,
nose, both eyes and the mouth and the skin's extent, in image fractions, a proxy for pose
and face shape - and greedily paired, in pool order, with the nearest unused face that has
every face region the first one has. There is no ground truth: PSNR/SSIM against it are
unavailable (FID still works, against the real B faces). Pairs are split 70/30 by order.

A pair whose A has no face region, or whose B has no skin, raises an error naming the pair.
A face region of A that B lacks (hair over a brow, a part lost when the mask is resized) is
accepted by default (``missing_region="keep"``: LRNet keeps A's features there, as
:func:`~maskstyle.nn.local_in.local_in` documents); ``missing_region="raise"`` makes it an
error naming the region.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from maskstyle.models.lrnet.data import TRAIN_FRACTION, split_indices
from maskstyle.models.lrnet.regions import LRNET_FACE_REGIONS, LRNET_REGIONS, to_lrnet_regions

COORDS_MODES = ("mesh", "none")
MISSING_MODES = ("keep", "raise")
DATASETS = ("auto", "face_world", "fpb", "celebamask_hq")
POOL_FACTOR = 2
"""CelebAMask-HQ pairing draws ``POOL_FACTOR * count`` faces to choose partners from."""
SKIN = LRNET_REGIONS.index("skin")
DESCRIPTOR_SIZE = 64
"""Masks are described at this size (px) for the pairing."""


def _check_choice(value: str, allowed: Sequence[str], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def check_pair_regions(
    regions_a: torch.Tensor, regions_b: torch.Tensor, what: str, missing_region: str = "keep"
) -> None:
    """A must have a face region to blend and B a face (skin) to blend onto; with
    ``missing_region="raise"`` B must also have every face region A has."""
    present_a = set(torch.unique(regions_a).tolist()) & set(LRNET_FACE_REGIONS)
    present_b = set(torch.unique(regions_b).tolist())
    if not present_a:
        raise ValueError(
            f"{what}: A's mask has no face region ({', '.join(LRNET_REGIONS[1:8])}) - nothing "
            "to blend; check its mask file (a blank or mislabelled PNG?)"
        )
    if SKIN not in present_b:
        raise ValueError(
            f"{what}: B's mask has no skin region - no face to blend onto; check its mask "
            "file (a blank or mislabelled PNG?) or drop the pair"
        )
    absent = sorted(present_a - present_b)
    if absent and missing_region == "raise":
        names = ", ".join(LRNET_REGIONS[r] for r in absent)
        raise ValueError(
            f"{what}: B's mask lacks region(s) {names} that A has; fix the mask, drop the "
            "pair, or pass missing_region='keep' (LRNet then keeps A's features there)"
        )


def _resize(image: torch.Tensor, labels: torch.Tensor, size: tuple[int, int]):
    from maskstyle.data.loaders._common import resize_image
    from maskstyle.nn.masks import resize_labels

    return resize_image(image, size), resize_labels(labels, size)


def _coords(image: torch.Tensor, labels: torch.Tensor, size: tuple[int, int], mode: str, what):
    if mode == "none":
        return torch.zeros(3, *size)
    from maskstyle.data.face_coords import face_coords
    from maskstyle.data.parse_face import NoFaceFoundError

    try:
        return face_coords(image, size=size, labels=labels)
    except NoFaceFoundError as err:
        raise NoFaceFoundError(
            f"{what}: {err}; pass coords='none' (and train/evaluate with use_coords=False) "
            "to use this data without 3D coordinates"
        ) from err


def make_sample(
    image_a: torch.Tensor,
    labels_a: torch.Tensor,
    image_b: torch.Tensor,
    labels_b: torch.Tensor,
    size: int,
    index: int,
    seed: int,
    target: torch.Tensor | None = None,
    coords: str = "mesh",
    missing_region: str = "keep",
    what: str = "pair",
) -> dict:
    """One LRNet sample (the :class:`FaceWorldBlendPairs` schema) from two full-size faces.

    Coordinates come from the full-resolution photos (MediaPipe needs enough pixels); images
    and label maps are then resized to ``size`` (bilinear / nearest).
    """
    shape = (size, size)
    x_a, small_a = _resize(image_a, labels_a, shape)
    x_b, small_b = _resize(image_b, labels_b, shape)
    coords_a = _coords(image_a, small_a, shape, coords, what + " A")
    coords_b = _coords(image_b, small_b, shape, coords, what + " B")
    labels_a, labels_b = small_a, small_b
    regions_a, regions_b = to_lrnet_regions(labels_a), to_lrnet_regions(labels_b)
    check_pair_regions(regions_a, regions_b, what, missing_region)
    sample = {"x_a": x_a, "x_b": x_b}
    if target is not None:
        from maskstyle.data.loaders._common import resize_image

        sample["target"] = resize_image(target, shape)
    sample.update(
        labels_a=labels_a, labels_b=labels_b, regions_a=regions_a, regions_b=regions_b,
        coords_a=coords_a.float(), coords_b=coords_b.float(), index=int(index), seed=int(seed),
    )  # fmt: skip
    return sample


class _RealPairs(Dataset, ABC):
    """What both real pair sets share: the checked options, caching, bounds and ``_load``."""

    def __init__(
        self, size: int, seed: int, split: str, coords: str, missing_region: str, cache: bool
    ) -> None:
        _check_choice(coords, COORDS_MODES, "coords")
        _check_choice(missing_region, MISSING_MODES, "missing_region")
        self.size, self.seed, self.split = size, seed, split
        self.coords, self.missing_region = coords, missing_region
        self._cache: dict[int, dict] | None = {} if cache else None

    @property
    def coords_source(self) -> str:
        """Where the 3D coordinates come from, for provenance strings."""
        return "MediaPipe face mesh" if self.coords == "mesh" else "none"

    @abstractmethod
    def _load(self, i: int) -> dict:
        """Pair ``i`` as an LRNet sample (:func:`make_sample`)."""

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < len(self):
            raise IndexError(f"pair {i} out of range for {len(self)} pairs")
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        sample = self._load(i)
        if self._cache is not None:
            self._cache[i] = sample
        return sample


class FPBBlendPairs(_RealPairs):
    """FPB-layout pairs under ``root`` (:class:`~maskstyle.data.loaders.FPBPairs`) as LRNet
    samples at ``size`` px; ``split`` train/val/all is FPB's stratified 70/30 split."""

    def __init__(
        self,
        root: str | Path,
        split: str = "all",
        size: int = 256,
        seed: int = 0,
        coords: str = "mesh",
        missing_region: str = "keep",
        cache: bool = True,
        train_fraction: float = TRAIN_FRACTION,
    ) -> None:
        from maskstyle.data.loaders import FPBPairs

        super().__init__(size, seed, split, coords, missing_region, cache)
        self.pairs = FPBPairs(root, split=split, size=None, train_fraction=train_fraction)
        if len(self.pairs) == 0:
            raise ValueError(f"split {split!r} of {Path(root) / 'pairs.csv'} has no pairs")
        with_target = sum(bool(row.get("target")) for row in self.pairs.rows)
        self.has_target = with_target == len(self.pairs)
        self.no_target_reason = (
            None if self.has_target
            else f"{len(self.pairs) - with_target} of {len(self.pairs)} FPB pairs of this split "
            "have no ground-truth target"
        )  # fmt: skip
        self.provenance = (
            f"FPB pairs from {root} ({split} split, {len(self.pairs)} pairs, {size} px, "
            f"ground truth: {'yes' if self.has_target else 'no'}; 3D coords: "
            f"{self.coords_source})"
        )

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, i: int) -> dict:
        pair = self.pairs[i]
        what = f"FPB pair {pair['index']} ({pair['path_a']}, {pair['path_b']})"
        return make_sample(
            pair["image_a"], pair["mask_a"], pair["image_b"], pair["mask_b"], self.size,
            pair["index"], self.seed, pair.get("target") if self.has_target else None,
            self.coords, self.missing_region, what,
        )  # fmt: skip


def mask_descriptor(labels: torch.Tensor) -> np.ndarray:
    """Pose and shape descriptor of a 19-class mask: centroids ``(x, y)`` of skin, nose,
    left eye, right eye, mouth (with lips) (pixel centres) and the skin's width and height,
    in image fractions; ``NaN`` for absent parts. ``[12]`` float64."""
    from maskstyle.data.labels import LABEL_INDEX as L

    labels = labels.cpu().numpy()
    h, w = labels.shape
    parts = [("skin",), ("nose",), ("l_eye",), ("r_eye",), ("mouth", "u_lip", "l_lip")]
    out = []
    for names in parts:
        rows, cols = np.nonzero(np.isin(labels, [L[n] for n in names]))
        out += [(cols.mean() + 0.5) / w, (rows.mean() + 0.5) / h] if len(rows) else [np.nan] * 2
    rows, cols = np.nonzero(labels == L["skin"])
    out += [(np.ptp(cols) + 1) / w, (np.ptp(rows) + 1) / h] if len(rows) else [np.nan] * 2
    return np.array(out, dtype=np.float64)


def pair_by_geometry(descriptors: np.ndarray, count: int) -> list[tuple[int, int]]:
    """Greedy pairing in pool order: each unused face takes the nearest unused partner
    (Euclidean on the descriptors) that has every part the first has. Returns up to
    ``count`` pairs of pool positions."""
    descriptors = np.asarray(descriptors, dtype=np.float64)
    n = len(descriptors)
    present = ~np.isnan(descriptors)
    filled = np.nan_to_num(descriptors, nan=0.0)
    used = np.zeros(n, dtype=bool)
    pairs: list[tuple[int, int]] = []
    for i in range(n):
        if used[i] or len(pairs) == count:
            continue
        ok = ~used & (present | ~present[i]).all(axis=1)
        ok[i] = False
        if not ok.any():
            continue
        dist = np.where(ok, np.linalg.norm(filled - filled[i], axis=1), np.inf)
        j = int(np.argmin(dist))
        used[[i, j]] = True
        pairs.append((i, j))
    return pairs


class CelebAMaskHQBlendPairs(_RealPairs):
    """``count`` CelebAMask-HQ pairs under ``root``, paired by mask geometry from ``seed``
    (see the module docstring); ``split`` keeps the first 70 % (train) or the rest (val)."""

    def __init__(
        self,
        root: str | Path,
        count: int,
        split: str = "all",
        size: int = 256,
        seed: int = 0,
        coords: str = "mesh",
        missing_region: str = "keep",
        cache: bool = True,
        train_fraction: float = TRAIN_FRACTION,
    ) -> None:
        from maskstyle.data.loaders import CelebAMaskHQ

        super().__init__(size, seed, split, coords, missing_region, cache)
        if count < 1:
            raise ValueError(f"count must be at least 1 pair, got {count}")
        self.faces = CelebAMaskHQ(root, attributes=False)
        available = self.faces.indices
        if len(available) < 2:
            raise ValueError(
                f"CelebAMask-HQ at {root} has {len(available)} image(s); pairing needs at least 2"
            )
        rng = np.random.default_rng(seed)
        pool = [available[i] for i in rng.permutation(len(available))[: POOL_FACTOR * count]]
        position = {k: i for i, k in enumerate(available)}
        small = (DESCRIPTOR_SIZE, DESCRIPTOR_SIZE)
        from maskstyle.nn.masks import resize_labels

        descriptors = np.stack([
            mask_descriptor(resize_labels(self.faces.load_mask(k), small)) for k in pool
        ])  # fmt: skip
        self.all_pairs = [(pool[i], pool[j]) for i, j in pair_by_geometry(descriptors, count)]
        if not self.all_pairs:
            raise ValueError(f"no two faces of CelebAMask-HQ at {root} share their face parts")
        self.indices = split_indices(len(self.all_pairs), split, train_fraction)
        if len(self.indices) == 0:
            raise ValueError(
                f"split {split!r} of {len(self.all_pairs)} pairs is empty; use more pairs"
            )
        self._position = position
        self.has_target = False
        self.no_target_reason = "CelebAMask-HQ pairs have no ground-truth blend of A onto B"
        self.provenance = (
            f"CelebAMask-HQ pairs from {root} (paired by mask geometry, seed {seed}, "
            f"{len(self.all_pairs)} pairs, {split} split: {len(self.indices)}, {size} px, no "
            f"ground truth; 3D coords: {self.coords_source})"
        )

    def __len__(self) -> int:
        return len(self.indices)

    def _load(self, i: int) -> dict:
        pair_index = self.indices[i]
        k_a, k_b = self.all_pairs[pair_index]
        a = self.faces[self._position[k_a]]
        b = self.faces[self._position[k_b]]
        what = f"CelebAMask-HQ pair {pair_index} (images {k_a} and {k_b})"
        return make_sample(
            a["image"], a["mask"], b["image"], b["mask"], self.size, pair_index, self.seed,
            None, self.coords, self.missing_region, what,
        )  # fmt: skip


def detect_dataset(root: str | Path) -> str:
    """``"fpb"`` if ``root/pairs.csv`` exists, ``"celebamask_hq"`` if ``root/CelebA-HQ-img``."""
    from maskstyle.data.loaders import MissingDatasetFile

    root = Path(root)
    if (root / "pairs.csv").is_file():
        return "fpb"
    if (root / "CelebA-HQ-img").is_dir():
        return "celebamask_hq"
    raise MissingDatasetFile(
        f"{root} holds neither FPB pairs (pairs.csv) nor CelebAMask-HQ (CelebA-HQ-img/); "
        f"check the copy with `maskstyle data verify fpb --root {root}` or "
        f"`maskstyle data verify celebamask_hq --root {root}`"
    )


def lrnet_pairs(
    data_root: str | Path | None,
    count: int,
    size: int,
    seed: int = 0,
    split: str = "all",
    dataset: str = "auto",
    coords: str = "mesh",
    missing_region: str = "keep",
) -> Dataset:
    """LRNet samples: the face world (``data_root=None``), FPB or CelebAMask-HQ pairs.

    ``dataset="auto"`` picks by layout (:func:`detect_dataset`); ``count`` is the number of
    pairs for the face world and CelebAMask-HQ (FPB uses every row of ``pairs.csv``).
    """
    from maskstyle.models.lrnet.data import FaceWorldBlendPairs

    _check_choice(dataset, DATASETS, "dataset")
    if data_root is None:
        if dataset not in ("auto", "face_world"):
            raise ValueError(f"dataset={dataset!r} reads a local copy: give its data_root")
        return FaceWorldBlendPairs(count, size=size, seed=seed, split=split)
    if dataset == "face_world":
        raise ValueError("dataset='face_world' takes no data_root (it is rendered)")
    if dataset == "auto":
        dataset = detect_dataset(data_root)
    if dataset == "fpb":
        return FPBBlendPairs(data_root, split, size, seed, coords, missing_region)
    return CelebAMaskHQBlendPairs(data_root, count, split, size, seed, coords, missing_region)
