"""Lazy re-exports for subpackage ``__init__`` files (keeps imports light: no mediapipe,
no torchvision models until used)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """Return ``(__getattr__, __dir__)`` that import ``name`` from ``exports[name]`` on use.

    A name that equals its module's name (``render`` from ``.render``) is imported eagerly:
    once the submodule is imported, Python sets it as an attribute of the package, which
    would shadow a lazy function of the same name.
    """
    namespace = sys.modules[package].__dict__
    for name, module in exports.items():
        if module.lstrip(".").rsplit(".", 1)[-1] == name:
            namespace[name] = getattr(importlib.import_module(module, package), name)

    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(exports[name], package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(exports) | {k for k in namespace if not k.startswith("_")})

    return __getattr__, __dir__
