"""The notebook conventions of ``notebooks/README.md``, as a checker the tests run over
every committed notebook (and that authors can run: ``notebook_problems(path)``, and
``repository_problems(paths)`` for what spans notebooks).

What a program can check of "a notebook that teaches": the first cell's short header with
one ``**Data/weights:**`` line; at least one numbered display equation (``$$ ... \tag{5}
$$``) unless the header says ``**Equations:** none - <why>``; at least one ``**What you
should see:**``; a parameters cell whose every name is used and commented; no cell that
hard-codes a value a parameter names; no ``--no-progress``; no absolute paths; no helper
``def`` pasted into two notebooks (it belongs in the library).
"""

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
_EQUATION = re.compile(r"\$\$.*?\\tag\{[^}]+\}.*?\$\$", re.DOTALL)
_NO_EQUATIONS = re.compile(r"\*\*Equations:\*\*\s*none\b\s*[-—:,(]\s*\S", re.IGNORECASE)
_SHOULD_SEE = "**What you should see:**"
_DATA_LINE = "**Data/weights:**"
_ABSOLUTE = re.compile(r"^(/(work|tmp|home|root|Users|mnt|data|scratch)/|[A-Za-z]:\\)")
MAX_HEADER_WORDS = 120  # two or three sentences and the Paper/Section/Data lines


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
        if first.count(_DATA_LINE) != 1:
            problems.append(
                f"the first cell needs one short '{_DATA_LINE}' line (data, weights, which "
                "profile made the committed figures)"
            )
        if len(first.split()) > MAX_HEADER_WORDS:
            problems.append(
                f"the first cell has {len(first.split())} words (at most {MAX_HEADER_WORDS}): "
                "two or three sentences; details belong in the sections and the provenance"
            )
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    first_text = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    if not _EQUATION.search(markdown) and not _NO_EQUATIONS.search(first_text):
        problems.append(
            "no numbered equation: show the paper's equation as '$$ ... \\tag{N} $$' with its "
            "number, or say '**Equations:** none - <why>' in the first cell"
        )
    if _SHOULD_SEE not in markdown:
        problems.append(f"no '{_SHOULD_SEE}' line after a figure or table")
    try:
        cell = parameters_cell(nb)
        params = parse_parameters(cell.source)
        if not code_cells or code_cells[0] is not cell:
            problems.append(f"the first code cell must be the one tagged {PARAMETERS_TAG!r}")
        absent = [p for p in RUNNER_PARAMETERS if p not in params]
        if absent:
            problems.append(f"the parameters cell must declare {absent}")
        others = [c for c in code_cells if c is not cell]
        problems += _parameter_problems(cell.source, params, others)
    except ValueError as err:
        problems.append(str(err))
    code = "\n".join(c.source for c in code_cells)
    if "--no-progress" in code:
        problems.append("passes --no-progress: let training show its progress in the cell")
    for literal in _string_constants(code_cells):
        if _ABSOLUTE.match(literal):
            problems.append(
                f"absolute path {literal!r}: build paths from output_dir or repo_root()"
            )
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


def _parameter_problems(source: str, params: dict, other_cells: list) -> list[str]:
    """Each parameter commented and used; no other cell repeats a string parameter's value."""
    problems = []
    lines = source.splitlines()
    tree = ast.parse(source)
    for node in tree.body:
        name = node.targets[0].id if isinstance(node, ast.Assign) else node.target.id
        line = lines[node.end_lineno - 1]
        if "#" not in line[node.end_col_offset:]:
            problems.append(f"parameter {name!r} has no trailing '# comment' saying what it is")
    rest = "\n".join(c.source for c in other_cells)
    for name in params:
        if not re.search(rf"\b{re.escape(name)}\b", rest):
            problems.append(f"parameter {name!r} is declared but never used: remove it")
    values = {v: n for n, v in params.items() if isinstance(v, str) and len(v) >= 3
              and n not in RUNNER_PARAMETERS}
    for literal in _string_constants(other_cells):
        if literal in values:
            problems.append(
                f"a cell hard-codes {literal!r}, the value of parameter {values[literal]!r}: "
                "use the parameter"
            )
    return problems


def _string_constants(cells: list) -> list[str]:
    found = []
    for cell in cells:
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        found += [n.value for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return found


def _without_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _top_level_defs(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    return names


def repository_problems(paths: list[str | os.PathLike]) -> list[str]:
    """Conventions that span notebooks: a function or class defined in two notebooks is a
    helper that belongs in the library (d2l's ``#@save``), defined once and imported."""
    where: dict[str, list[str]] = {}
    for path in paths:
        for name in _top_level_defs(Path(path)):
            where.setdefault(name, []).append(Path(path).as_posix())
    return [
        f"{name!r} is defined in {len(files)} notebooks ({', '.join(sorted(files))}): move it "
        "into lib/maskstyle and import it"
        for name, files in sorted(where.items()) if len(files) > 1
    ]
