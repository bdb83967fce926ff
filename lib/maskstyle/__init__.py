"""maskstyle: a reproducible replication workbook for mask-based style transfer and blending.

Subpackages (imported on first use, so ``import maskstyle`` stays light):

- :mod:`maskstyle.data` - the 19-class label scheme, the procedural face world, real-data
  manifests and loaders, ``parse_face`` for photos.
- :mod:`maskstyle.nn` - shared layers (VGG19 slices, mask helpers, statistics, ...).
- :mod:`maskstyle.metrics` - PSNR/SSIM/FID/LPIPS, region-restricted variants, timing.
- :mod:`maskstyle.train` - checkpoints, loss history, NaN guard, torchrun/DDP.
- :mod:`maskstyle.utils` - seeding, image I/O, palettes, figure grids.
"""

from __future__ import annotations

import importlib

from maskstyle._torchvision_compat import ensure_torchvision, torchvision_status

__version__ = "0.1.0"

# torchvision 0.28.0's CUDA wheel cannot load its ops on a CPU torch; make it importable
# once, here, before anything imports it.
ensure_torchvision()

_SUBPACKAGES = (
    "data",
    "nn",
    "metrics",
    "train",
    "utils",
    "workbook",
    "widgets",
    "baselines",
    "models",
)


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"maskstyle.{name}")
    raise AttributeError(f"module 'maskstyle' has no attribute {name!r}")


__all__ = ["__version__", "ensure_torchvision", "torchvision_status", *_SUBPACKAGES]
