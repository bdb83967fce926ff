"""Face-world data for the regional style series: harmony-classifier composites and
cross-lighting regional transfers with a known harmonious answer.

- :func:`lighting_composites`: a face under light ``A`` (real, harmonious) and the same
  face with one region group pasted from its render under light ``B`` (an inharmonious
  composite, the face world's HAdobe5k: same content, inconsistent illumination).
- :func:`cross_lighting_transfer`: a target face ``P`` lit from one side, a reference face
  ``Q`` lit from the other, and the ground truth: ``P`` re-rendered with ``Q``'s region
  appearance (skin: skin colour, tone and grain; hair: colour and tint) under ``P``'s light.

Region groups as in the paper's experiments: ``skin`` = skin + nose, ``hair`` = hair.
"""

from __future__ import annotations

import numpy as np
import torch

from maskstyle.data.labels import LABEL_INDEX
from maskstyle.data.synth import render, sample_params

REGION_GROUPS: dict[str, tuple[str, ...]] = {"skin": ("skin", "nose"), "hair": ("hair",)}


def group_mask(labels: torch.Tensor, group: str) -> torch.Tensor:
    """Bool mask of a region group (``"skin"`` or ``"hair"``) in a label map."""
    if group not in REGION_GROUPS:
        raise ValueError(f"group must be one of {sorted(REGION_GROUPS)}, got {group!r}")
    ids = torch.tensor([LABEL_INDEX[n] for n in REGION_GROUPS[group]], device=labels.device)
    return torch.isin(labels, ids)


def group_regions(group: str, num_classes: int = len(LABEL_INDEX)) -> torch.Tensor:
    """Bool ``[num_classes]``: the labels of ``group`` (the ``regions`` of a transfer)."""
    out = torch.zeros(num_classes, dtype=torch.bool)
    out[[LABEL_INDEX[n] for n in REGION_GROUPS[group]]] = True
    return out


def _lit(params, azimuth: float):
    return params.replace(
        environment={"light_azimuth": float(azimuth), "light_intensity": 0.95, "ambient": 0.22}
    )


def lighting_composites(
    n: int, size: int = 64, seed: int = 0, groups: tuple[str, ...] = ("skin", "hair")
) -> dict[str, torch.Tensor]:
    """``n`` (real, composite, mask) triples: ``real`` lit from azimuth ``a``, ``composite`` =
    ``real`` with one region group pasted from the same face lit from ``-a`` (``|a|`` in
    [45, 75] degrees). Faces where the group is empty are re-drawn."""
    rng = np.random.default_rng(seed)
    real, comp, masks = [], [], []
    while len(real) < n:
        params = sample_params(int(rng.integers(2**31)))
        az = float(rng.uniform(45, 75) * rng.choice([-1, 1]))
        a, b = render(_lit(params, az), size), render(_lit(params, -az), size)
        m = group_mask(a["mask"][None], str(rng.choice(groups)))[0]
        if m.sum() < 0.01 * size * size:
            continue
        real.append(a["image"])
        comp.append(torch.where(m[None], b["image"], a["image"]))
        masks.append(m)
    return {"real": torch.stack(real), "composite": torch.stack(comp), "mask": torch.stack(masks)}


def _with_appearance(target, reference, group: str):
    if group == "skin":
        env = reference.environment
        keep = {"skin_rgb": env.skin_rgb, "skin_tone": env.skin_tone, "grain": env.grain}
        return target.replace(environment=keep)
    if group == "hair":
        return target.replace(hair={"colour": reference.hair.colour, "tint": reference.hair.tint})
    raise ValueError(f"group must be one of {sorted(REGION_GROUPS)}, got {group!r}")


def cross_lighting_transfer(
    n: int, group: str = "skin", size: int = 64, seed: int = 0, azimuth: float = 60.0
) -> dict[str, torch.Tensor]:
    """``n`` cross-lighting transfer cases with ground truth: ``target`` lit from
    ``-azimuth``, ``reference`` (another face) from ``+azimuth``, ``truth`` = the target with
    the reference's ``group`` appearance under the target's light; label maps for each."""
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {
        k: [] for k in ("target", "reference", "truth", "target_labels", "reference_labels")
    }
    while len(out["target"]) < n:
        p = sample_params(int(rng.integers(2**31)))
        q = sample_params(int(rng.integers(2**31)))
        t, r = render(_lit(p, -azimuth), size), render(_lit(q, azimuth), size)
        if (
            group_mask(t["mask"][None], group).sum() == 0
            or group_mask(r["mask"][None], group).sum() == 0
        ):
            continue
        truth = render(_lit(_with_appearance(p, q, group), -azimuth), size)
        out["target"].append(t["image"])
        out["reference"].append(r["image"])
        out["truth"].append(truth["image"])
        out["target_labels"].append(t["mask"])
        out["reference_labels"].append(r["mask"])
    return {k: torch.stack(v) for k, v in out.items()}


PAPER_DATASETS = ("celebamask_hq", "ffhq", "lapa")


class PaperFaces(torch.utils.data.Dataset):
    """The paper's real data as ``{"image", "labels"}`` items at ``size`` px (Sec. 4.1):
    CelebAMask-HQ (train: first 28,000, test: last 2,000), FFHQ with parsed masks in
    ``label_dir`` (evaluation: first 2,000), LaPa (train 19,770 / test 1,930 after dropping
    low-resolution images; ``min_size``)."""

    def __init__(
        self,
        name: str,
        root: str,
        split: str = "train",
        size: int = 256,
        label_dir: str | None = None,
        min_size: int | None = None,
    ) -> None:
        from maskstyle.data import loaders

        if name == "celebamask_hq":
            self.data = loaders.CelebAMaskHQ(root, split=split, size=size, attributes=False)
        elif name == "ffhq":
            if label_dir is None:
                raise ValueError(
                    "FFHQ has no masks: pass label_dir with one {k:05d}.png label map per "
                    "image (the paper parses them with a DeepLab-v3 trained on CelebAMask-HQ)"
                )
            self.data = loaders.FFHQ(root, label_dir=label_dir, split=split, size=size)
        elif name == "lapa":
            self.data = loaders.LaPa(root, split=split, size=size, min_size=min_size)
        else:
            raise ValueError(f"name must be one of {PAPER_DATASETS}, got {name!r}")
        self.name, self.split = name, split
        self.provenance = {"dataset": name, "split": split, "size": size, "n": len(self.data)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        sample = self.data[index]
        return {"image": sample["image"], "labels": sample["mask"].long()}


__all__ = [
    "PAPER_DATASETS",
    "REGION_GROUPS",
    "PaperFaces",
    "cross_lighting_transfer",
    "group_mask",
    "group_regions",
    "lighting_composites",
]
