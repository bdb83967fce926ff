"""Series of notebooks and their profiles.

A *series* is a sub-folder of ``notebooks/`` (its ``*.ipynb`` run in file-name order), or a
top-level notebook ``notebooks/NN_<name>.ipynb`` which forms the one-notebook series
``<name>`` (``00_face_world.ipynb`` -> ``face_world``). A series folder may hold
``paper.yaml``, the *paper profile*::

    paper: LRNet (papers/lrnet-localin-reshuffle-net.md)   # what the settings reproduce
    execution_timeout: {smoke: 900, paper: 86400}          # seconds per cell, optional
    seed: 0                                                # optional, default: notebooks'
    parameters:            # given to every notebook of the series that declares the name
      image_size: 256
    notebooks:             # given to one notebook; each name must be declared there
      02_train.ipynb: {iterations: 80000, launcher: torchrun, nproc_per_node: 8}

The *smoke* profile is every notebook's own defaults (no file). The *cpu* profile reads
``cpu.yaml`` beside it, in the same schema: the face world at the resolution where the
paper's effect shows, trained on 2 CPU cores until the loss curves flatten.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from maskstyle.workbook.parameters import RUNNER_PARAMETERS, notebook_parameters
from maskstyle.workbook.paths import CPU, FILE_PROFILES, PAPER, PROFILES, SMOKE

PROFILE_FILE = "paper.yaml"  # kept for callers that name the paper profile's file
DEFAULT_TIMEOUTS = {SMOKE: 900, CPU: 3600, PAPER: 86400}
_PROFILE_KEYS = {"paper", "execution_timeout", "seed", "parameters", "notebooks"}
_TOP_LEVEL = re.compile(r"^\d+_(?P<name>.+)\.ipynb$")


@dataclass
class Series:
    """One series: its name, folder, ordered notebooks and their declared parameters."""

    name: str
    folder: Path
    notebooks: list[Path]
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)  # notebook -> defaults
    profile_file: Path | None = None  # paper.yaml
    profile_files: dict[str, Path] = field(default_factory=dict)  # "cpu"/"paper" -> its yaml
    error: str | None = None  # why the series cannot run (a bad parameters cell)

    def known_parameters(self) -> set[str]:
        return {name for params in self.parameters.values() for name in params}


@dataclass
class Profile:
    """What a profile changes for one series: per-notebook parameters, seed, timeout."""

    name: str
    execution_timeout: float | None
    seed: int | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    per_notebook: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""


def discover_series(notebooks_root: str | os.PathLike) -> dict[str, Series]:
    """All series under ``notebooks_root``, by name (sorted)."""
    root = Path(notebooks_root)
    if not root.is_dir():
        raise FileNotFoundError(f"notebooks folder {root} does not exist; pass --notebooks DIR")
    found: dict[str, Series] = {}
    for path in sorted(root.iterdir()):
        if path.name.startswith((".", "_")):
            continue
        if path.is_dir():
            notebooks = sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
            if notebooks:
                files = {p: path / f"{p}.yaml" for p in FILE_PROFILES}
                files = {p: f for p, f in files.items() if f.is_file()}
                found[path.name] = Series(
                    path.name, path, notebooks, profile_file=files.get(PAPER), profile_files=files
                )
        elif path.suffix == ".ipynb":
            match = _TOP_LEVEL.match(path.name)
            name = match["name"] if match else path.stem
            if name in found:
                raise ValueError(f"series name {name!r} is used twice in {root}")
            found[name] = Series(name, root, [path])
    for series in found.values():
        try:
            series.parameters = {nb.name: notebook_parameters(nb) for nb in series.notebooks}
            for nb_name, params in series.parameters.items():
                absent = [p for p in RUNNER_PARAMETERS if p not in params]
                if absent:
                    raise ValueError(
                        f"{series.folder / nb_name}: its parameters cell must declare {absent} "
                        f"(the runner passes {RUNNER_PARAMETERS} to every notebook)"
                    )
        except ValueError as err:  # one broken series must not block the others
            series.error = str(err)
    return dict(sorted(found.items()))


def load_profile(series: Series, profile: str) -> Profile:
    """The profile ``profile`` of ``series`` (``paper`` reads its ``paper.yaml``)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    if series.error:
        raise ValueError(series.error)
    profile_file = series.profile_files.get(profile)
    doc: dict[str, Any] = {}
    if profile_file is not None:
        doc = yaml.safe_load(profile_file.read_text(encoding="utf-8")) or {}
        if not isinstance(doc, dict):
            raise ValueError(f"{profile_file}: expected a mapping at the top level")
        unknown = set(doc) - _PROFILE_KEYS
        if unknown:
            raise ValueError(
                f"{profile_file}: unknown keys {sorted(unknown)}; allowed are "
                f"{sorted(_PROFILE_KEYS)}"
            )
    timeouts = dict(DEFAULT_TIMEOUTS)
    given = doc.get("execution_timeout", {})
    if not isinstance(given, dict) or set(given) - set(PROFILES):
        raise ValueError(
            f"{profile_file}: execution_timeout must map profiles {PROFILES} to seconds"
        )
    timeouts.update(given)
    if profile == SMOKE:
        return Profile(SMOKE, timeouts[SMOKE], description="the notebooks' own defaults")
    if profile_file is None:
        return Profile(profile, timeouts[profile], description=f"no {profile}.yaml: defaults")
    shared = dict(doc.get("parameters") or {})
    per_notebook = {str(k): dict(v or {}) for k, v in (doc.get("notebooks") or {}).items()}
    for reserved in ("profile", "output_dir", "seed"):
        if reserved in shared or any(reserved in v for v in per_notebook.values()):
            raise ValueError(
                f"{profile_file}: {reserved!r} is set by the runner"
                + ("; use the top-level 'seed:' key" if reserved == "seed" else "")
            )
    known = series.known_parameters()
    unknown_shared = sorted(set(shared) - known)
    if unknown_shared:
        raise ValueError(
            f"{profile_file}: parameters {unknown_shared} are declared by no notebook of "
            f"series {series.name!r}; known: {sorted(known)}"
        )
    for nb_name, params in per_notebook.items():
        if nb_name not in series.parameters:
            raise ValueError(
                f"{profile_file}: no notebook {nb_name!r} in {series.folder}; "
                f"have {sorted(series.parameters)}"
            )
        unknown = sorted(set(params) - set(series.parameters[nb_name]))
        if unknown:
            raise ValueError(
                f"{profile_file}: {nb_name} declares no parameters {unknown}; known: "
                f"{sorted(series.parameters[nb_name])}"
            )
    seed = doc.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"{profile_file}: seed must be an int, got {seed!r}")
    return Profile(
        profile,
        timeouts[profile],
        seed=seed,
        shared=shared,
        per_notebook=per_notebook,
        description=str(doc.get("paper", "")),
    )
