"""Artifacts a notebook leaves in its ``output_dir``: tables (CSV + Markdown), figures (PNG)
and the final check that everything promised is there."""

from __future__ import annotations

import glob
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from maskstyle.workbook.paths import relative_paths, resolve_output_dir

MAX_FIGURE_BYTES = 1_000_000  # committed figures stay small
MISSING_MARK = "—"


def dataframe_to_markdown(df: Any, floatfmt: str = ".4g", index: bool = False) -> str:
    """A GitHub pipe table of ``df`` (no ``tabulate`` needed). Floats use ``floatfmt``,
    missing values (None/NaN) show as an em dash, booleans as ``yes``/``no`` (one spelling
    in every table), ``|`` inside cells is escaped."""
    import pandas as pd

    frame = df.reset_index() if index else df
    header = [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return MISSING_MARK
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return "yes" if value else "no"
        if isinstance(value, float):
            return format(value, floatfmt)
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def save_table(
    df: Any,
    output_dir: str | os.PathLike,
    name: str,
    floatfmt: str = ".4g",
    *,
    provenance: str | Mapping[str, Any] | None = None,
    caption: str | None = None,
) -> tuple[Path, Path]:
    """Write ``df`` as ``<output_dir>/<name>.csv`` and ``<name>.md``; return both paths.

    The Markdown table gets one caption line above it: ``caption`` (what the table shows)
    and the provenance of its numbers (``provenance``: the entry :func:`record` returned,
    or a sentence; a table from :func:`compare` carries its own). Provenance goes there once,
    never into every row. Text cells holding absolute paths into the repository are written
    relative to it; booleans read ``yes``/``no``.
    """
    import pandas as pd

    from maskstyle.workbook.paper_tables import describe_provenance

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"save_table needs a pandas DataFrame, got {type(df).__name__}")
    _check_file_stem(name)
    folder = resolve_output_dir(output_dir)
    csv_path, md_path = folder / f"{name}.csv", folder / f"{name}.md"
    frame = df.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(
                lambda v: relative_paths(v) if isinstance(v, str) else v
            )
    frame.to_csv(csv_path, index=False)
    where = describe_provenance(provenance) if provenance is not None else df.attrs.get("caption")
    parts = [p for p in (caption, f"Made by: {where}." if where else None) if p]
    head = f"*{' '.join(parts)}*\n\n" if parts else ""
    md_path.write_text(head + dataframe_to_markdown(frame, floatfmt=floatfmt), encoding="utf-8")
    return csv_path, md_path


def save_figure(
    fig: Any,
    output_dir: str | os.PathLike,
    name: str,
    dpi: int = 100,
    max_bytes: int = MAX_FIGURE_BYTES,
) -> Path:
    """Save a matplotlib figure as ``<output_dir>/<name>.png`` under ``max_bytes`` (1 MB):
    the dpi is lowered step by step if needed; an error if it still does not fit."""
    _check_file_stem(name)
    if not hasattr(fig, "savefig"):
        raise TypeError(f"save_figure needs a matplotlib Figure, got {type(fig).__name__}")
    path = resolve_output_dir(output_dir) / f"{name}.png"
    for attempt_dpi in (dpi, int(dpi * 0.75), dpi // 2, dpi // 3):
        fig.savefig(path, dpi=max(attempt_dpi, 20), bbox_inches="tight")
        if path.stat().st_size <= max_bytes:
            return path
    size = path.stat().st_size
    path.unlink()
    raise ValueError(
        f"figure {name!r} is {size} bytes even at dpi {max(dpi // 3, 20)} (limit {max_bytes}); "
        f"make it smaller (fewer panels, smaller figsize) or split it"
    )


def expect_artifacts(output_dir: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Check that every file in ``names`` exists and is non-empty in ``output_dir``.

    Names may be glob patterns (``"*.png"`` needs at least one match). Raises
    ``FileNotFoundError`` listing what is missing and what the folder holds. Returns the
    paths found. Notebooks call it in their last cell.
    """
    folder = resolve_output_dir(output_dir, create=False)
    names = list(names)
    if not names:
        raise ValueError("expect_artifacts needs at least one file name")
    found: list[Path] = []
    missing: list[str] = []
    for name in names:
        if any(ch in name for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(str(folder / name)))
            matches = [p for p in matches if p.is_file() and p.stat().st_size > 0]
            found.extend(matches) if matches else missing.append(name)
        else:
            path = folder / name
            if path.is_file() and path.stat().st_size > 0:
                found.append(path)
            else:
                missing.append(name)
    if missing:
        present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise FileNotFoundError(
            f"missing or empty artifacts in {folder}: {missing}; the folder holds {present}. "
            f"Did an earlier cell fail to save them?"
        )
    return found


def _check_file_stem(name: str) -> None:
    ok = isinstance(name, str) and name and all(c.isalnum() or c in "_-." for c in name)
    if not ok or name.startswith("."):
        raise ValueError(
            f"name must be a plain file stem of letters, digits, '_', '-', '.' "
            f"(e.g. 'table2_timings'), got {name!r}"
        )
