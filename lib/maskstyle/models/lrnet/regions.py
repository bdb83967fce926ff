"""LRNet's 10 face regions and their mapping from the 19 CelebAMask-HQ labels.

LRNet segments each face into 10 regions (Section 5.1, Fig. 7; "each connected domain is
an independent region"); the paper does not list them. We fix them as the parts a face
blend has to treat separately - the seven inner-face parts (transferred from A) and three
surrounding ones (kept from B, but still regions with their own statistics):

==  ==========  =====================================================
id  region      CelebAMask-HQ labels (maskstyle.data.LABELS)
==  ==========  =====================================================
0   background  background, cloth, ear_r (earring), hat
1   skin        skin, l_ear, r_ear, eye_g (eyeglasses lie on the skin)
2   nose        nose
3   l_eye       l_eye
4   r_eye       r_eye
5   l_brow      l_brow
6   r_brow      r_brow
7   mouth       mouth, u_lip, l_lip
8   hair        hair
9   neck        neck, neck_l (necklace)
==  ==========  =====================================================

:data:`LRNET_FACE_REGIONS` (ids 1-7) is the default foreground: what is blended from A
onto B. Hat is background (it hides the head's outline, not a face part).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from maskstyle.data.labels import LABEL_INDEX, NUM_CLASSES
from maskstyle.nn.masks import check_label_map

LRNET_REGIONS: tuple[str, ...] = (
    "background",
    "skin",
    "nose",
    "l_eye",
    "r_eye",
    "l_brow",
    "r_brow",
    "mouth",
    "hair",
    "neck",
)
NUM_LRNET_REGIONS: int = len(LRNET_REGIONS)

LRNET_REGION_LABELS: dict[str, tuple[str, ...]] = {
    "background": ("background", "cloth", "ear_r", "hat"),
    "skin": ("skin", "l_ear", "r_ear", "eye_g"),
    "nose": ("nose",),
    "l_eye": ("l_eye",),
    "r_eye": ("r_eye",),
    "l_brow": ("l_brow",),
    "r_brow": ("r_brow",),
    "mouth": ("mouth", "u_lip", "l_lip"),
    "hair": ("hair",),
    "neck": ("neck", "neck_l"),
}
"""LRNet region -> the CelebAMask-HQ labels it merges (every label exactly once)."""


def _label_to_region() -> tuple[int, ...]:
    table = [-1] * NUM_CLASSES
    for region, labels in LRNET_REGION_LABELS.items():
        for label in labels:
            table[LABEL_INDEX[label]] = LRNET_REGIONS.index(region)
    assert -1 not in table, "every CelebAMask-HQ label must map to one LRNet region"
    return tuple(table)


LABEL_TO_LRNET: tuple[int, ...] = _label_to_region()
"""``LABEL_TO_LRNET[label]``: LRNet region id of each of the 19 labels."""

LRNET_FACE_REGIONS: tuple[int, ...] = tuple(range(1, 8))
"""Region ids blended from A by default: skin, nose, eyes, brows, mouth."""


def to_lrnet_regions(labels: torch.Tensor) -> torch.Tensor:
    """Map a 19-class label map ``[B, H, W]`` or ``[H, W]`` to LRNet's 10 region ids."""
    check_label_map(labels, "labels", batch=labels.dim() == 3)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= NUM_CLASSES):
        raise ValueError(
            f"labels must be CelebAMask-HQ classes in [0, {NUM_CLASSES}), got "
            f"[{int(labels.min())}, {int(labels.max())}]; LRNet region maps are already mapped"
        )
    table = torch.tensor(LABEL_TO_LRNET, dtype=torch.long, device=labels.device)
    return table[labels.long()]


def region_ids(names: Sequence[str]) -> tuple[int, ...]:
    """LRNet region ids of region names, with an error listing the valid names."""
    bad = [n for n in names if n not in LRNET_REGIONS]
    if bad:
        raise KeyError(f"unknown LRNet regions {bad}; valid: {', '.join(LRNET_REGIONS)}")
    return tuple(LRNET_REGIONS.index(n) for n in names)
