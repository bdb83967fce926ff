"""The notebook conventions of ``notebooks/README.md``, as a checker the tests run over
every committed notebook (and that authors can run: ``notebook_problems(path)``)."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat

from maskstyle.workbook.parameters import (
    PARAMETERS_TAG,
    RUNNER_PARAMETERS,
    parameters_cell,
    parse_parameters,
)

_IMPORTS_MASKSTYLE = re.compile(r"^\s*(import maskstyle|from maskstyle[\s.])", re.MULTILINE)
_FORBIDDEN = {
    "sys.path": re.compile(r"\bsys\.path\b"),
    "os.chdir": re.compile(r"\bos\.chdir\b|^\s*%cd\b", re.MULTILINE),
}


def notebook_problems(path: str | os.PathLike) -> list[str]:
    """Every convention the notebook at ``path`` breaks (empty list: it conforms)."""
    nb = nbformat.read(Path(path), as_version=4)
    problems: list[str] = []
    extra_meta = sorted(set(nb.metadata) - {"kernelspec", "language_info"})
    if extra_meta:
        problems.append(f"notebook metadata other than kernelspec/language_info: {extra_meta}")
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append("kernelspec must be 'python3'")
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"cell {i} has outputs or an execution count (strip it)")
        extra = sorted(set(cell.get("metadata", {})) - {"tags"})
        if extra:
            problems.append(f"cell {i} has metadata {extra} (strip it)")
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        problems.append("the first cell must be markdown naming the paper, section and content")
    else:
        first = nb.cells[0].source
        if not re.search(r"^# \S", first, re.MULTILINE):
            problems.append("the first cell needs a '# Title' heading")
        for label in ("Paper:", "Section:"):
            if label not in first.replace("**", ""):
                problems.append(f"the first cell needs a '{label}' line")
    try:
        cell = parameters_cell(nb)
        params = parse_parameters(cell.source)
        if not code_cells or code_cells[0] is not cell:
            problems.append(f"the first code cell must be the one tagged {PARAMETERS_TAG!r}")
        absent = [p for p in RUNNER_PARAMETERS if p not in params]
        if absent:
            problems.append(f"the parameters cell must declare {absent}")
    except ValueError as err:
        problems.append(str(err))
    code = "\n".join(c.source for c in code_cells)
    for name, pattern in _FORBIDDEN.items():
        if pattern.search(code):
            problems.append(f"uses {name}: import the installed package, the runner sets the cwd")
    if not _IMPORTS_MASKSTYLE.search(code):
        problems.append("never imports maskstyle (logic lives in the library)")
    if not nb.cells or nb.cells[-1].cell_type != "code" or not _asserts(nb.cells[-1].source):
        problems.append("the last cell must check its artifacts (expect_artifacts(...) or assert)")
    return problems


def _asserts(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "expect_artifacts":
                return True
    return False
