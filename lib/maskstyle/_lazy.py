"""Lazy re-exports for subpackage ``__init__`` files (keeps imports light: no mediapipe,
no torchvision models until used)."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """Return ``(__getattr__, __dir__)`` that import ``name`` from ``exports[name]`` on use."""

    def __getattr__(name: str):
        if name in exports:
            module = importlib.import_module(exports[name], package)
            return getattr(module, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
