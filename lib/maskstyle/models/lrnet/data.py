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
    """Stack samples into a batch (tensors stacked, ints into a tensor)."""
    return {
        key: torch.stack([s[key] for s in samples])
        if isinstance(samples[0][key], torch.Tensor)
        else torch.tensor([s[key] for s in samples])
        for key in samples[0]
    }
