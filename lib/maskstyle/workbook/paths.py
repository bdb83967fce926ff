"""Where things live: the repository root, the notebooks, the results and the run folders.

Notebooks run from different working directories (Jupyter: the notebook's folder; nbval: the
notebook's folder; ``maskstyle run``: set explicitly), so a notebook never builds paths from
its working directory. It resolves them against the repository root found here.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "MASKSTYLE_ROOT"
SMOKE, CPU, PAPER = "smoke", "cpu", "paper"
PROFILES = (SMOKE, CPU, PAPER)
# the profiles read from a file beside the notebooks: notebooks/<series>/<profile>.yaml
FILE_PROFILES = (CPU, PAPER)


def _is_repo_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return False
    return 'name = "maskstyle"' in text


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The repository root: ``$MASKSTYLE_ROOT``, else the first folder at or above ``start``
    (default: the working directory) whose ``pyproject.toml`` names the project ``maskstyle``,
    else the checkout that an editable install of the package points into."""
    env = os.environ.get(ROOT_ENV)
    if env:
        path = Path(env).expanduser().resolve()
        if not path.is_dir():
            raise FileNotFoundError(f"${ROOT_ENV}={env!r} is not a folder; unset it or fix it")
        return path
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_repo_root(folder):
            return folder
    package_checkout = Path(__file__).resolve().parents[3]  # lib/maskstyle/workbook/paths.py
    if _is_repo_root(package_checkout):
        return package_checkout
    raise FileNotFoundError(
        f"cannot find the maskstyle repository above {here}; run from inside the checkout "
        f"or set ${ROOT_ENV} to it"
    )


def resolve_output_dir(output_dir: str | os.PathLike, create: bool = True) -> Path:
    """Turn a notebook's ``output_dir`` parameter into an absolute folder.

    A relative path (the notebooks' defaults, e.g. ``"runs/face_world/smoke"``) is taken
    relative to the repository root, not to the working directory; ``maskstyle run`` passes
    absolute paths. The folder is created unless ``create=False``.
    """
    if not str(output_dir):
        raise ValueError("output_dir is empty; give a folder such as 'runs/<series>/smoke'")
    path = Path(output_dir).expanduser()
    if not path.is_absolute():
        path = repo_root() / path
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def relative_paths(text: str, root: str | os.PathLike | None = None) -> str:
    """``text`` with every absolute path into the repository written relative to it (and
    the home folder as ``~``), so nothing under ``results/`` names one machine's folders."""
    try:
        base = str(Path(root) if root else repo_root())
    except FileNotFoundError:
        base = None
    if base:
        text = text.replace(base.rstrip("/") + "/", "").replace(base, ".")
    home = str(Path.home())
    if home not in ("/", ""):
        text = text.replace(home.rstrip("/") + "/", "~/")
    return text
