"""The ``parameters`` cell of a notebook: plain literal assignments papermill can override.

papermill injects a cell after the one tagged ``parameters`` and only *warns* about names
the notebook does not declare. The runner reads the declared names and defaults here (with
``ast``, so a cell that is anything but ``name = literal`` lines is rejected) and refuses
unknown names before any kernel starts.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import nbformat
import yaml

PARAMETERS_TAG = "parameters"
RUNNER_PARAMETERS = ("profile", "output_dir", "seed")


def parameters_cell(nb: Any) -> Any:
    """The single code cell tagged ``parameters`` (error if none or several)."""
    cells = [c for c in nb.cells if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(
            f"expected exactly one cell tagged {PARAMETERS_TAG!r}, found {len(cells)}; tag the "
            f"cell of defaults (Jupyter: View > Cell Toolbar > Tags)"
        )
    if cells[0].cell_type != "code":
        raise ValueError(f"the cell tagged {PARAMETERS_TAG!r} must be a code cell")
    return cells[0]


def parse_parameters(source: str) -> dict[str, Any]:
    """Names and default values of a parameters cell. Only ``name = literal`` (or
    ``name: type = literal``) statements and comments are allowed."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ValueError(f"parameters cell is not valid Python: {err}") from err
    params: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            raise ValueError(
                f"parameters cell line {node.lineno}: only 'name = literal' assignments are "
                f"allowed, got {ast.unparse(node)!r}"
            )
        if not isinstance(target, ast.Name):
            raise ValueError(f"parameters cell line {node.lineno}: assign to a plain name")
        try:
            params[target.id] = ast.literal_eval(value)
        except ValueError as err:
            raise ValueError(
                f"parameters cell line {node.lineno}: {target.id} must be a plain literal "
                f"(number, string, bool, None, list, dict), got {ast.unparse(value)!r}"
            ) from err
    return params


def notebook_parameters(path: str | os.PathLike) -> dict[str, Any]:
    """Declared parameters (name -> default) of the notebook at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist")
    nb = nbformat.read(path, as_version=4)
    try:
        return parse_parameters(parameters_cell(nb).source)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def coerce_value(name: str, raw: Any, default: Any, origin: str = "--set") -> Any:
    """Convert a ``--set`` value (a string) to the type of the parameter's default, or
    check a value that is already typed (from ``paper.yaml``; ``origin`` names the source).

    A string default keeps the text as is; otherwise the text is read as YAML (``3``,
    ``1e-4``, ``true``, ``[1, 2]``, ``null``) and must match the default's type (an int is
    accepted for a float); a ``None`` default accepts anything.
    """
    if not isinstance(raw, str):
        value = raw
    elif isinstance(default, str):
        return raw
    else:
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError as err:
            raise ValueError(f"{origin} {name}={raw!r}: cannot read the value ({err})") from err
        if isinstance(value, str) and isinstance(default, float):  # YAML reads 1e-4 as text
            try:
                value = float(value)
            except ValueError:
                pass
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ValueError(
            f"{origin} {name}={raw!r}: expected a {type(default).__name__} like the default "
            f"{default!r}, got {type(value).__name__}"
        )
    return value
