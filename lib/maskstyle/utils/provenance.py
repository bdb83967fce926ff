"""What produced a result: library versions, hardware, threads and the exact code commit.

Timings and metrics are only comparable between runs with the same conditions; every
results table of the workbook records :func:`environment_info` next to its numbers, with
the weights' and data's own provenance strings.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(args: list[str], cwd: Path) -> str | None:
    """Run a read-only git query; None if git or the repository is unavailable."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            # Read-only: do not let `git status` refresh and rewrite the index.
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _device() -> str:
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"


def environment_info(repo: str | Path | None = None) -> dict[str, object]:
    """Versions, device, threads and git state (commit, dirty) of ``repo``.

    ``repo`` defaults to the checkout that holds the imported maskstyle package. Outside a
    git checkout (or without git) the commit is ``"unknown"`` and ``git_dirty`` is None.
    """
    folder = Path(repo) if repo is not None else Path(__file__).resolve().parent
    commit = _git(["rev-parse", "HEAD"], folder) if folder.is_dir() else None
    dirty = None
    if commit is not None:
        status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
        dirty = bool(status) if status is not None else None
    from maskstyle import __version__, torchvision_status

    tv = torchvision_status()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "maskstyle": __version__,
        "torch": torch.__version__,
        "torchvision": _version("torchvision"),
        "torchvision_ops": "extension" if tv["extension"] else "shimmed (no compiled ops)",
        "numpy": np.__version__,
        "device": _device(),
        "threads": torch.get_num_threads(),
        "git_commit": commit or "unknown",
        "git_dirty": dirty,
    }
