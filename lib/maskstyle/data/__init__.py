"""Data: the label scheme, the procedural face world, real datasets and face parsing."""

from maskstyle._lazy import lazy_exports
from maskstyle.data.labels import (
    CELEBAMASK_HQ_PARTS,
    FACE_REGIONS,
    LABEL_INDEX,
    LABELS,
    NUM_CLASSES,
    PALETTE,
    label_id,
)

_EXPORTS: dict[str, str] = {}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "CELEBAMASK_HQ_PARTS",
    "FACE_REGIONS",
    "LABEL_INDEX",
    "LABELS",
    "NUM_CLASSES",
    "PALETTE",
    "label_id",
    *sorted(_EXPORTS),
]
