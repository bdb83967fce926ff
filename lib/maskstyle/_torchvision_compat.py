"""Make ``import torchvision`` work on a CPU-only torch whose torchvision ops cannot load.

torch 2.13.0 pairs only with torchvision 0.28.0, whose wheel is a CUDA build: on a CPU
torch its compiled extension (``torchvision/_C.so``) fails to load, and ``import
torchvision`` then dies in ``torchvision/_meta_registrations.py`` because the operator
schemas ``torchvision::nms`` and ``torchvision::qnms`` it registers fake kernels for do
not exist.

:func:`ensure_torchvision` tries the real extension first. Only if it cannot load does it
*define* those two schemas (no kernels), so torchvision imports and its models,
``transforms.v2`` and ``utils`` work. ``torchvision.ops.nms`` and ``torchvision.io`` stay
unusable in that case (calling nms raises torch's "no kernel" error); maskstyle reads and
writes images with PIL and never needs them.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys

_STATE: dict[str, object] = {"checked": False, "extension": None, "shimmed": False}

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_LIBRARY = None  # keep the torch.library.Library alive: its definitions die with it


def _extension_path() -> str | None:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = list(spec.submodule_search_locations)[0]
    for name in sorted(os.listdir(folder)):
        if name.startswith("_C") and name.endswith((".so", ".pyd")):
            return os.path.join(folder, name)
    return None


def _has_schema(name: str) -> bool:
    import torch

    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
        return True
    except RuntimeError:
        return False


def ensure_torchvision() -> bool:
    """Make ``import torchvision`` possible; return True if the real extension loaded.

    Idempotent. Does nothing if torchvision is absent or already imported.
    """
    global _LIBRARY
    if _STATE["checked"]:
        return bool(_STATE["extension"])
    _STATE["checked"] = True
    if "torchvision" in sys.modules and "torchvision.models" in sys.modules:
        _STATE["extension"] = _has_schema("nms")
        return bool(_STATE["extension"])
    import torch

    path = _extension_path()
    loaded = False
    if path is not None:
        try:
            torch.ops.load_library(path)
            loaded = _has_schema("nms")
        except (OSError, RuntimeError):
            loaded = False
    _STATE["extension"] = loaded
    if not loaded and path is not None:
        missing = [n for n in _SCHEMAS if not _has_schema(n)]
        if missing:
            _LIBRARY = torch.library.Library("torchvision", "FRAGMENT")  # noqa: PLW0603
            for name in missing:
                _LIBRARY.define(_SCHEMAS[name])
            _STATE["shimmed"] = True
            logging.getLogger("maskstyle").info(
                "torchvision's compiled ops could not load on this torch build; maskstyle "
                "defined the torchvision::nms/qnms schemas so models, transforms.v2 and utils "
                "work (torchvision.ops.nms and torchvision.io stay unavailable)."
            )
    return loaded


def torchvision_status() -> dict[str, object]:
    """What :func:`ensure_torchvision` found: real extension loaded, or schemas shimmed."""
    ensure_torchvision()
    return {"extension": bool(_STATE["extension"]), "shimmed": bool(_STATE["shimmed"])}
