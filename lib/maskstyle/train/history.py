"""Loss history: one CSV row per logged step, safe to resume, easy to plot.

Rows are ``step, wall_time, <term>...`` (``wall_time`` is Unix time in seconds; a term not
logged at a step is an empty cell, read by pandas as NaN). New rows are appended to the
file with one ``write`` call; when a new loss term adds a column, or on truncation, the
whole file is rewritten atomically (temp file, fsync, ``os.replace``).

Resuming from a checkpoint at step ``s``: :meth:`LossHistory.resume` reloads the file and
drops the rows with ``step > s`` (logged after that checkpoint by the interrupted run,
which the resumed run logs again), so the history has no duplicates. A torn last line (a
crash mid-append) is dropped on load.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from maskstyle.train.guard import loss_value

RESERVED = ("step", "wall_time")


class LossHistory:
    """Loss terms per step, in memory and (with ``path``) in a CSV file."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = None if path is None else Path(path)
        self.rows: list[dict[str, float]] = []
        self.terms: list[str] = []
        self._written_rows = 0
        self._written_terms: list[str] | None = None

    # ---- building ------------------------------------------------------------------
    def append(
        self, step: int, losses: Mapping[str, object], wall_time: float | None = None
    ) -> None:
        """Add a row for ``step`` (steps must increase) and append it to the file."""
        if self.rows and step <= self.rows[-1]["step"]:
            raise ValueError(
                f"step {step} is not after the last logged step {self.rows[-1]['step']}; "
                "to redo steps after a resume, call truncate(step) first"
            )
        row: dict[str, float] = {"step": int(step), "wall_time": time.time()}
        if wall_time is not None:
            row["wall_time"] = float(wall_time)
        for name, value in losses.items():
            if name in RESERVED:
                raise ValueError(f"{name!r} is a reserved column; rename that loss term")
            row[name] = loss_value(name, value)
            if name not in self.terms:
                self.terms.append(name)
        self.rows.append(row)
        self.flush()

    def truncate(self, step: int) -> None:
        """Drop the rows after ``step`` and rewrite the file."""
        self.rows = [row for row in self.rows if row["step"] <= step]
        self.terms = [t for t in self.terms if any(t in row for row in self.rows)]
        self._rewrite()

    # ---- files ---------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike) -> LossHistory:
        """Read a history CSV written by this class (a torn last line is dropped)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no loss history at {path}")
        text = path.read_text()
        if text and not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
        history = cls(path)
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            return history
        if list(header[:2]) != list(RESERVED):
            raise ValueError(f"{path} is not a loss history (its header is {header})")
        history.terms = header[2:]
        for cells in reader:
            row: dict[str, float] = {"step": int(cells[0]), "wall_time": float(cells[1])}
            row.update({t: float(c) for t, c in zip(header[2:], cells[2:]) if c != ""})
            history.rows.append(row)
        history._written_rows, history._written_terms = len(history.rows), list(history.terms)
        return history

    @classmethod
    def resume(cls, path: str | os.PathLike, step: int) -> LossHistory:
        """The history at ``path`` truncated to ``step`` (an empty one if no file exists)."""
        path = Path(path)
        history = cls.load(path) if path.is_file() else cls(path)
        history.truncate(step)
        return history

    def flush(self) -> None:
        """Write rows not yet in the file (append, or rewrite if the columns changed)."""
        if self.path is None:
            return
        if self._written_terms != self.terms or not self.path.is_file():
            self._rewrite()
            return
        new_rows = self.rows[self._written_rows :]
        if new_rows:
            with open(self.path, "a", newline="") as f:
                f.write(self._csv_text(new_rows, header=False))
            self._written_rows = len(self.rows)

    def _rewrite(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                   dir=self.path.parent)
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; give the usual permissions of a new file
            with os.fdopen(fd, "w", newline="") as f:
                f.write(self._csv_text(self.rows, header=True))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._written_rows, self._written_terms = len(self.rows), list(self.terms)

    def _csv_text(self, rows: Sequence[dict[str, float]], header: bool) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        columns = [*RESERVED, *self.terms]
        if header:
            writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        return buffer.getvalue()

    # ---- reading -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def to_frame(self) -> pd.DataFrame:
        """The history as a DataFrame with columns ``step, wall_time, <terms>``."""
        return pd.DataFrame(self.rows, columns=[*RESERVED, *self.terms])

    def plot(
        self,
        terms: Sequence[str] | None = None,
        *,
        log_scale: bool = False,
        smooth: int = 1,
        ncols: int = 3,
    ):
        """One panel per loss term against step; returns the matplotlib ``Figure``.

        ``smooth`` > 1 overlays a centred rolling mean of that many rows; ``log_scale`` puts
        the loss axis on a log scale (terms with values <= 0 stay linear).
        """
        import matplotlib.pyplot as plt

        terms = list(self.terms if terms is None else terms)
        unknown = [t for t in terms if t not in self.terms]
        if unknown:
            raise KeyError(f"no loss term(s) {unknown} in this history; it has {self.terms}")
        if not terms:
            raise ValueError("the history has no loss terms to plot yet")
        frame = self.to_frame()
        ncols = min(ncols, len(terms))
        nrows = -(-len(terms) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3 * nrows), squeeze=False)
        for ax, term in zip(axes.flat, terms):
            series = frame[["step", term]].dropna()
            ax.plot(series["step"], series[term], lw=0.8, alpha=0.5 if smooth > 1 else 1.0)
            if smooth > 1:
                rolled = series[term].rolling(smooth, center=True, min_periods=1).mean()
                ax.plot(series["step"], rolled, lw=1.5, label=f"mean of {smooth}")
                ax.legend(fontsize="small")
            if log_scale and (series[term] > 0).all():
                ax.set_yscale("log")
            ax.set_title(term)
            ax.set_xlabel("step")
        for ax in list(axes.flat)[len(terms) :]:
            ax.set_visible(False)
        fig.tight_layout()
        return fig


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return repr(float(value)) if math.isfinite(value) else str(value)
