"""Provenance: which code, data, weights, seed and machine produced a number.

Every value a notebook reports goes through :func:`record`, which writes it to
``<output_dir>/metrics.json`` next to everything needed to tell a paper-setting result on real
data and trained weights from a smoke run on the synthetic face world with random weights::

    {"schema": "maskstyle.metrics/1",
     "entries": {"<name>": {"metrics": {...},
                            "provenance": {"profile", "seed", "data", "weights", "commit",
                                           "dirty", "date", "wall_time_s", "device",
                                           "platform", "python", "packages"}}}}

Several notebooks of one series share an ``output_dir``; each writes its own ``name``d entry
and :func:`record` merges it into the file (re-recording a name replaces that entry only).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from maskstyle.workbook.paths import PROFILES, relative_paths, repo_root, resolve_output_dir

SCHEMA = "maskstyle.metrics/1"
CODE_PATHS = ("lib", "notebooks", "data_manifests", "pyproject.toml")
METRICS_FILE = "metrics.json"
TRACKED_PACKAGES = (
    "maskstyle",
    "torch",
    "torchvision",
    "torchmetrics",
    "numpy",
    "scipy",
    "scikit-image",
    "pandas",
    "pillow",
    "mediapipe",
    "opencv-contrib-python",
    "papermill",
)


def git_commit(root: str | os.PathLike | None = None) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the checkout at ``root`` (default: the repository root);
    ``dirty`` means uncommitted changes, new files included, under :data:`CODE_PATHS` (the
    code and specs that make results; results themselves do not count). ``(None, None)``
    outside a git checkout or without git."""
    try:
        cwd = Path(root) if root else repo_root()
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", *CODE_PATHS],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError, FileNotFoundError):
        return None, None
    return commit, bool(status.strip())


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for one that is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def device_description() -> str:
    """The accelerator torch would use (CUDA device names) or the CPU model and core count."""
    import torch

    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return "cuda: " + ", ".join(names)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu: {cpu} ({os.cpu_count()} cores, torch threads {torch.get_num_threads()})"


def process_uptime_s() -> float:
    """Seconds since this Python process (the notebook's kernel) started; without psutil,
    since ``maskstyle.workbook`` was first imported."""
    try:
        import psutil

        return max(0.0, time.time() - psutil.Process().create_time())
    except Exception:  # psutil missing or no process information on this platform
        import maskstyle.workbook as workbook

        return time.monotonic() - workbook.STARTED_AT


def collect_provenance(
    *,
    profile: str,
    seed: int,
    data: str | Mapping[str, Any],
    weights: str | Mapping[str, Any],
    wall_time_s: float,
) -> dict[str, Any]:
    """The provenance block of one :func:`record` entry (validated)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int (the seed the notebook ran with), got {seed!r}")
    for label, value in (("data", data), ("weights", weights)):
        if not value:
            raise ValueError(
                f"{label} is empty: say what produced the numbers, e.g. data='face_world "
                f"(seed 0, 64 faces)' or weights='random init' / 'none (no learned model)'"
            )
        if not isinstance(value, str | Mapping):
            raise TypeError(f"{label} must be a str or a mapping, got {type(value).__name__}")
    commit, dirty = git_commit()
    return {
        "profile": profile,
        "seed": seed,
        "data": _jsonable(data),
        "weights": _jsonable(weights),
        "commit": commit,
        "dirty": dirty,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(float(wall_time_s), 3),
        "device": device_description(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": package_versions(),
    }


def record(
    output_dir: str | os.PathLike,
    name: str,
    *,
    metrics: Mapping[str, Any],
    data: str | Mapping[str, Any],
    weights: str | Mapping[str, Any],
    seed: int,
    profile: str,
    wall_time_s: float | None = None,
) -> dict[str, Any]:
    """Write the entry ``name`` (``metrics`` + provenance) into ``<output_dir>/metrics.json``.

    ``data`` and ``weights`` say what produced the numbers (``"face_world (seed 0, 64
    faces)"``, ``{"dataset": "celebamask_hq", "root": ..., "verified": True}``, ``"random
    init"``, ``"none (no learned model)"``); they are required so that no synthetic-data or
    random-weight number can pass for a paper number. ``wall_time_s`` defaults to
    :func:`process_uptime_s` (under ``maskstyle run``: the notebook's run time so far).
    Non-finite values are stored as ``null`` and listed under ``"non_finite"``.
    Returns the entry written.
    """
    _check_name(name)
    if not isinstance(metrics, Mapping) or not metrics:
        raise ValueError("metrics must be a non-empty mapping of metric name -> value")
    if wall_time_s is None:
        wall_time_s = process_uptime_s()
    non_finite: list[str] = []
    values = _jsonable({str(k): _metric_value(k, v, non_finite) for k, v in metrics.items()})
    entry: dict[str, Any] = {
        "metrics": values,
        "provenance": collect_provenance(
            profile=profile, seed=seed, data=data, weights=weights, wall_time_s=wall_time_s
        ),
    }
    if non_finite:
        entry["non_finite"] = non_finite
    folder = resolve_output_dir(output_dir)
    document = load_metrics(folder) if (folder / METRICS_FILE).exists() else _empty()
    document["entries"][name] = entry
    tmp = folder / (METRICS_FILE + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(folder / METRICS_FILE)
    return entry


def load_metrics(output_dir: str | os.PathLike) -> dict[str, Any]:
    """Read ``<output_dir>/metrics.json`` (a clear error if it is missing or not ours)."""
    path = Path(output_dir) / METRICS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist; the notebook must call maskstyle.workbook.record(...) first"
        )
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("schema") != SCHEMA or not isinstance(document.get("entries"), dict):
        raise ValueError(f"{path} is not a maskstyle metrics file (schema {SCHEMA})")
    return document


def _empty() -> dict[str, Any]:
    return {"schema": SCHEMA, "entries": {}}


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ \t\n"):
        raise ValueError(
            f"name must be a short identifier without spaces or slashes "
            f"(e.g. 'reconstruction'), got {name!r}"
        )


def _metric_value(key: Any, value: Any, non_finite: list[str]) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        try:
            value = value.item()
        except (ValueError, RuntimeError) as err:
            raise TypeError(
                f"metric {key!r} is an array, not a scalar; record one number per name"
            ) from err
    if isinstance(value, Mapping):
        return {str(k): _metric_value(f"{key}.{k}", v, non_finite) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_metric_value(f"{key}[{i}]", v, non_finite) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        non_finite.append(str(key))
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"metric {key!r} has type {type(value).__name__}; use numbers, strings, lists or dicts"
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON, with absolute paths into the repository made relative to it."""
    return json.loads(relative_paths(json.dumps(value, default=str)))
