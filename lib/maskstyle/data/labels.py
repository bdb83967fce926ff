"""The label scheme every mask in maskstyle uses: CelebAMask-HQ's 19 classes.

Masks are int64 label maps ``[H, W]`` (one sample) or ``[B, H, W]`` (a batch) whose
values index :data:`LABELS`. Background is 0; the 18 annotated parts follow in the
order of CelebAMask-HQ's part files (label = part index + 1).
"""

from __future__ import annotations

LABELS: tuple[str, ...] = (
    "background",
    "skin",
    "nose",
    "eye_g",
    "l_eye",
    "r_eye",
    "l_brow",
    "r_brow",
    "l_ear",
    "r_ear",
    "mouth",
    "u_lip",
    "l_lip",
    "hair",
    "hat",
    "ear_r",
    "neck_l",
    "neck",
    "cloth",
)
"""Class names, indexed by label value (0 = background ... 18 = cloth)."""

NUM_CLASSES: int = len(LABELS)

LABEL_INDEX: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
"""Name -> label value."""

CELEBAMASK_HQ_PARTS: tuple[str, ...] = LABELS[1:]
"""The 18 part-file suffixes of CelebAMask-HQ, in label order (``{k:05d}_{part}.png``)."""

# A fixed colour per class (RGB, 0..255), in the spirit of CelebAMask-HQ's own palette:
# distinct hues for neighbouring parts so a label map reads at a glance.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),  # background
    (204, 0, 0),  # skin
    (76, 153, 0),  # nose
    (204, 204, 0),  # eye_g
    (51, 51, 255),  # l_eye
    (204, 0, 204),  # r_eye
    (0, 255, 255),  # l_brow
    (255, 204, 204),  # r_brow
    (102, 51, 0),  # l_ear
    (255, 0, 0),  # r_ear
    (102, 204, 0),  # mouth
    (255, 255, 0),  # u_lip
    (0, 0, 153),  # l_lip
    (0, 0, 204),  # hair
    (255, 51, 153),  # hat
    (0, 204, 204),  # ear_r
    (0, 51, 0),  # neck_l
    (255, 153, 51),  # neck
    (0, 204, 0),  # cloth
)

FACE_REGIONS: tuple[str, ...] = (
    "skin",
    "nose",
    "l_eye",
    "r_eye",
    "l_brow",
    "r_brow",
    "mouth",
    "u_lip",
    "l_lip",
    "eye_g",
)
"""The inner-face parts (what a face-swap/blend transfers)."""


def label_id(name: str) -> int:
    """Label value of a class name, with an error that lists the valid names."""
    try:
        return LABEL_INDEX[name]
    except KeyError:
        raise KeyError(f"unknown label {name!r}; valid labels: {', '.join(LABELS)}") from None
