"""Clear outputs, execution counts and metadata before a notebook is committed.

    python -m maskstyle.workbook.strip notebooks/**/*.ipynb          # rewrite in place
    python -m maskstyle.workbook.strip --check notebooks/**/*.ipynb  # exit 1 if any is dirty

Kept: cells, their ids and ``tags``; notebook metadata is reduced to the ``python3``
kernelspec and ``language_info.name``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path
from typing import Any

import nbformat

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def strip_notebook(nb: Any) -> Any:
    """A copy of ``nb`` without outputs, execution counts and extra metadata."""
    nb = copy.deepcopy(nb)
    nb.metadata = nbformat.from_dict(
        {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = nbformat.from_dict({"tags": list(tags)} if tags else {})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def stripped_text(path: str | os.PathLike) -> tuple[str, str]:
    """``(current file text, text after stripping)`` of the notebook at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist")
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    return text, nbformat.writes(strip_notebook(nb)) + "\n"


def is_stripped(path: str | os.PathLike) -> bool:
    current, stripped = stripped_text(path)
    return current == stripped


def strip_file(path: str | os.PathLike) -> bool:
    """Strip the notebook at ``path`` in place; True if the file changed."""
    current, stripped = stripped_text(path)
    if current == stripped:
        return False
    Path(path).write_text(stripped, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maskstyle.workbook.strip", description=__doc__)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if dirty")
    args = parser.parse_args(argv)
    dirty = []
    for path in args.notebooks:
        if args.check:
            if not is_stripped(path):
                dirty.append(path)
        elif strip_file(path):
            print(f"stripped {path}")
    for path in dirty:
        print(f"not stripped: {path} (run python -m maskstyle.workbook.strip {path})")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
