"""Build a notebook that follows the conventions (first markdown cell, ``parameters`` cell,
stripped metadata, stable cell ids) from Python: for new series and for tests."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from maskstyle.workbook.parameters import PARAMETERS_TAG, RUNNER_PARAMETERS
from maskstyle.workbook.strip import strip_notebook

Cell = str | tuple[str, str]  # code source, or ("markdown" | "code", source)


def new_notebook(
    title: str,
    *,
    paper: str,
    section: str,
    shows: str,
    parameters: Mapping[str, Any],
    cells: Sequence[Cell],
    data_weights: str = "face world (synthetic); no learned weights",
    comments: Mapping[str, str] | None = None,
) -> Any:
    """A notebook skeleton: ``# title`` + Paper/Section/what it shows/Data-weights line,
    the parameters cell (``name = repr(value)  # comment`` lines, ``comments`` by name; must
    include profile, output_dir, seed), then ``cells`` (a plain string is a code cell). Add
    the sections' equations and "What you should see" lines as markdown cells."""
    absent = [p for p in RUNNER_PARAMETERS if p not in parameters]
    if absent:
        raise ValueError(f"parameters must include {absent}")
    nb = nbformat.v4.new_notebook()
    intro = (f"# {title}\n\n**Paper:** {paper}\n\n**Section:** {section}\n\n{shows}\n\n"
             f"**Data/weights:** {data_weights}")
    nb.cells.append(nbformat.v4.new_markdown_cell(intro))
    comments = dict(comments or {})
    params = nbformat.v4.new_code_cell("\n".join(
        f"{k} = {v!r}  # {comments.get(k, 'see the notebook text')}"
        for k, v in parameters.items()))
    params.metadata["tags"] = [PARAMETERS_TAG]
    nb.cells.append(params)
    for cell in cells:
        kind, source = ("code", cell) if isinstance(cell, str) else cell
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        elif kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(source))
        else:
            raise ValueError(f"cell kind must be 'markdown' or 'code', got {kind!r}")
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return strip_notebook(nb)


def write_notebook(nb: Any, path: str | os.PathLike) -> Path:
    """Write ``nb`` stripped to ``path`` (folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(strip_notebook(nb)) + "\n", encoding="utf-8")
    return path
