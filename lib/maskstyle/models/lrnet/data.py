"""The embedded FPB: face-world blend pairs with ground truth, as LRNet training samples.

FPB (Section 3) pairs two faces with the same pose and outline but different appearance.
The face world makes such pairs directly (:func:`maskstyle.data.synth.pairs.blend_pair`:
B shares A's geometry) and adds what FPB cannot have: ``target``, the true "A blended onto
B" (A's facial features under B's skin tone and light). Each sample here holds

- ``x_a``, ``x_b``, ``target``: float32 ``[3, H, W]`` in [0, 1];
- ``regions_a``, ``regions_b``: LRNet's 10 region ids ``[H, W]`` (int64; the 19-class
  ``labels_a``/``labels_b`` are kept too);
- ``coords_a``, ``coords_b``: unit-sphere face coordinates ``[3, H, W]`` (zero off the face),
  standing in for PRNet's vertices in Section 4.3;
- ``index``, ``seed``: where the pair comes from.

The paper's split is 70 % train / 30 % validation; :func:`split_indices` makes it by index.
Real pairs (FPB layout, CelebAMask-HQ) with the same schema come from
:mod:`maskstyle.models.lrnet.real_data` (``lrnet_pairs`` picks the source).
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from maskstyle.models.lrnet.regions import to_lrnet_regions

TRAIN_FRACTION = 0.7


def split_indices(count: int, split: str, train_fraction: float = TRAIN_FRACTION) -> range:
    """Indices of ``split`` ("train", "val" or "all") among ``count`` pairs (first 70 % train)."""
    cut = round(count * train_fraction)
    splits = {"train": range(0, cut), "val": range(cut, count), "all": range(count)}
    if split not in splits:
        raise ValueError(f"split must be one of {sorted(splits)}, got {split!r}")
    return splits[split]


class FaceWorldBlendPairs(Dataset):
    """``split`` of ``count`` face-world blend pairs at ``size`` px (seeded, deterministic).

    ``cache=True`` keeps rendered pairs in memory (rendering a 64 px pair takes ~0.1 s).
    """

    def __init__(
        self,
        count: int,
        size: int = 64,
        seed: int = 0,
        split: str = "all",
        cache: bool = True,
        train_fraction: float = TRAIN_FRACTION,
    ) -> None:
        from maskstyle.data.synth.dataset import SynthFaces

        self.pairs = SynthFaces(count, size=size, seed=seed, kind="blend")
        self.indices = split_indices(count, split, train_fraction)
        if len(self.indices) == 0:
            raise ValueError(f"split {split!r} of {count} pairs is empty; use more pairs")
        self.size, self.seed, self.split = size, seed, split
        self._cache: dict[int, dict] | None = {} if cache else None
        self.provenance = (
            f"face world blend pairs (maskstyle.data.synth), seed {seed}, {size} px, "
            f"{split} split: indices {self.indices.start}..{self.indices.stop - 1} of {count}"
        )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        index = self.indices[i]
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        pair = self.pairs[index]
        sample = {
            "x_a": pair["a"]["image"],
            "x_b": pair["b"]["image"],
            "target": pair["target"]["image"],
            "labels_a": pair["a"]["mask"],
            "labels_b": pair["b"]["mask"],
            "regions_a": to_lrnet_regions(pair["a"]["mask"]),
            "regions_b": to_lrnet_regions(pair["b"]["mask"]),
            "coords_a": pair["a"]["coords"],
            "coords_b": pair["b"]["coords"],
            "index": index,
            "seed": self.seed,
        }
        if self._cache is not None:
            self._cache[index] = sample
        return sample


def collate_pairs(samples: list[dict]) -> dict:
    """Stack samples into a batch (tensors stacked, ints into a tensor); only the keys every
    sample has (face-world and FPB-algorithm pairs can share a batch)."""
    keys = [k for k in samples[0] if all(k in s for s in samples)]
    return {
        key: torch.stack([s[key] for s in samples])
        if isinstance(samples[0][key], torch.Tensor)
        else torch.tensor([s[key] for s in samples])
        for key in keys
    }


class GeneratedPairs(Dataset):
    """Pairs made by the FPB algorithm (:mod:`~maskstyle.models.lrnet.fpb`), as LRNet samples.

    ``path`` is a file written by :func:`save_generated_pairs`: ``x_a``, ``x_b`` ``[N, 3,
    s, s]`` and their LRNet region maps ``[N, s, s]`` (painted by the stand-in generator's
    region head). Images are resized to ``size`` (bilinear; regions nearest). The generator
    makes no 3D coordinates: ``coords_a``/``coords_b`` are zeros, so the reshuffle matches
    these pairs by features alone. There is no ground truth (the paper's generated pairs
    have none either); LRNet's losses do not need one.
    """

    def __init__(self, path, size: int = 64) -> None:
        import torch.nn.functional as F

        payload = torch.load(path, map_location="cpu", weights_only=True)
        missing = {"x_a", "x_b", "regions_a", "regions_b"} - set(payload)
        if missing:
            raise ValueError(
                f"{path} lacks {sorted(missing)}: write it with "
                "maskstyle.models.lrnet.data.save_generated_pairs"
            )
        n = len(payload["x_a"])
        if n == 0:
            raise ValueError(f"{path} holds no pairs")

        def resize(images):
            return F.interpolate(images.float(), size=(size, size), mode="bilinear",
                                 align_corners=False).clamp(0, 1)  # fmt: skip

        def resize_regions(regions):
            return F.interpolate(regions[:, None].float(), size=(size, size), mode="nearest")[
                :, 0
            ].long()

        self.x_a, self.x_b = resize(payload["x_a"]), resize(payload["x_b"])
        self.regions_a = resize_regions(payload["regions_a"])
        self.regions_b = resize_regions(payload["regions_b"])
        self.size = size
        self.provenance = payload.get("provenance", f"FPB-algorithm pairs from {path}")
        self.provenance += f" ({n} pairs, resized to {size} px)"

    def __len__(self) -> int:
        return len(self.x_a)

    def __getitem__(self, i: int) -> dict:
        zeros = torch.zeros(3, self.size, self.size)
        return {
            "x_a": self.x_a[i], "x_b": self.x_b[i],
            "regions_a": self.regions_a[i], "regions_b": self.regions_b[i],
            "coords_a": zeros, "coords_b": zeros, "index": i,
        }  # fmt: skip


def save_generated_pairs(
    path, x_a: torch.Tensor, x_b: torch.Tensor, regions_a: torch.Tensor,
    regions_b: torch.Tensor, provenance: str,
) -> None:  # fmt: skip
    """Write FPB-algorithm pairs for :class:`GeneratedPairs` (and ``--fpb-pairs``)."""
    if not (len(x_a) == len(x_b) == len(regions_a) == len(regions_b)):
        raise ValueError("x_a, x_b, regions_a and regions_b must hold the same number of pairs")
    torch.save(
        {"x_a": x_a.detach().cpu(), "x_b": x_b.detach().cpu(),
         "regions_a": regions_a.detach().cpu().long(), "regions_b": regions_b.detach().cpu().long(),
         "provenance": provenance},
        path,
    )  # fmt: skip


def most_different_pair(candidates: int, size: int, seed: int, region: int) -> tuple[int, dict]:
    """Among the first ``candidates`` face-world pairs (``seed``, ``size`` px), the index and
    sample whose ``region`` (an LRNet region id) differs most between A and B: the largest
    distance between the per-channel means and stds of A's and B's pixels in the region
    (pairs where either image lacks the region are skipped)."""
    if candidates < 1:
        raise ValueError(f"candidates must be >= 1, got {candidates}")
    pairs = FaceWorldBlendPairs(candidates, size=size, seed=seed, cache=False)
    best, best_score = None, -1.0
    for i in range(candidates):
        s = pairs[i]
        in_a, in_b = s["regions_a"] == region, s["regions_b"] == region
        if not bool(in_a.any()) or not bool(in_b.any()):
            continue
        pa, pb = s["x_a"][:, in_a], s["x_b"][:, in_b]
        score = float((pa.mean(1) - pb.mean(1)).norm() + (pa.std(1) - pb.std(1)).norm())
        if score > best_score:
            best, best_score = (i, s), score
    if best is None:
        raise ValueError(f"none of the {candidates} pairs shows region {region} in both images")
    return best
