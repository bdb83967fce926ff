"""Checkpoints that know their settings.

A checkpoint folder is only worth resuming if it was trained with the settings asked for
now. A run's *settings* are everything that defines the model it produces: architecture,
data (which set, how many samples, resolution, seed), loss weights, learning rate, seed and
profile. The training length is deliberately not one of them: asking for more steps with the
same settings continues the run, which is what resuming is for.

:class:`~maskstyle.train.trainer.Trainer` stores ``settings`` in every checkpoint (under
``extra["settings"]``) and in ``<out_dir>/settings.json`` for people; on resume it compares
them with what it was given and refuses a mismatch with :class:`SettingsMismatch`, which
names the differing keys and the two fixes (start fresh, or use another folder). A notebook
that loads a model trained by another notebook calls :func:`check_settings` with what it
expects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from maskstyle.train.checkpoint import latest_checkpoint, read_payload

SETTINGS_FILE = "settings.json"
_MISSING = "<not recorded>"


class SettingsMismatch(ValueError):
    """A checkpoint was made with other settings than the ones asked for now."""

    def __init__(self, where: str | os.PathLike, differences: Mapping[str, tuple[Any, Any]]):
        self.where = str(where)
        self.differences = dict(differences)
        lines = "; ".join(
            f"{key}: checkpoint {old!r} vs now {new!r}"
            for key, (old, new) in self.differences.items()
        )
        super().__init__(
            f"{where} was trained with other settings ({lines}). Resuming it would silently "
            "reuse or extend the wrong model. Fix: start again with --fresh (Trainer(fresh=True)) "
            "to discard those checkpoints, or give the run another output folder."
        )


def normalise_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` as plain JSON values (tuples -> lists, paths -> str), so that what is
    compared is what is stored."""
    if not isinstance(settings, Mapping):
        raise TypeError(
            f"settings must be a mapping of name -> value, got {type(settings).__name__}"
        )
    return json.loads(json.dumps(dict(settings), default=str, sort_keys=True))


def settings_differences(
    recorded: Mapping[str, Any] | None,
    expected: Mapping[str, Any],
    keys: Iterable[str] | None = None,
) -> dict[str, tuple[Any, Any]]:
    """``{key: (recorded, expected)}`` for every key (of ``keys``, default: all in either)
    whose values differ; a key absent on one side shows as ``'<not recorded>'``."""
    old = normalise_settings(recorded or {})
    new = normalise_settings(expected)
    names = sorted(set(keys) if keys is not None else set(old) | set(new))
    return {
        k: (old.get(k, _MISSING), new.get(k, _MISSING))
        for k in names
        if old.get(k, _MISSING) != new.get(k, _MISSING)
    }


def read_settings(run: str | os.PathLike) -> dict[str, Any] | None:
    """The settings recorded by a run: ``run`` is a checkpoint file, a ``checkpoints/``
    folder or the run folder above it (newest checkpoint first, then ``settings.json``).
    ``None`` if the run recorded none; ``FileNotFoundError`` if there is no run there."""
    path = Path(run)
    if path.is_file():
        return _settings_from_checkpoint(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"no training run at {path}; run the notebook or module that trains it first"
        )
    for folder in (path / "checkpoints", path):
        newest = latest_checkpoint(folder)
        if newest is not None:
            return _settings_from_checkpoint(newest)
    if (path / SETTINGS_FILE).is_file():
        return json.loads((path / SETTINGS_FILE).read_text(encoding="utf-8"))
    raise FileNotFoundError(f"{path} holds no checkpoint-*.pt and no {SETTINGS_FILE}")


def check_settings(
    run: str | os.PathLike,
    expected: Mapping[str, Any],
    keys: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Raise :class:`SettingsMismatch` unless the run at ``run`` was trained with
    ``expected`` (only ``keys`` are compared when given); return the recorded settings."""
    recorded = read_settings(run)
    if recorded is None:
        raise SettingsMismatch(run, {"(all)": (_MISSING, normalise_settings(expected))})
    differences = settings_differences(recorded, expected, keys)
    if differences:
        raise SettingsMismatch(run, differences)
    return recorded


def read_run_summary(
    out_dir: str | os.PathLike, weights_file: str, train_command: str
) -> tuple[dict[str, Any], Path]:
    """``(summary, weights path)`` of a finished training run: its ``summary.json`` and the
    weights file beside it. A missing file is a ``FileNotFoundError`` that says to train
    first with ``train_command`` (e.g. ``"python -m maskstyle.models.lrnet.train"``)."""
    out_dir = Path(out_dir)
    summary_path, weights_path = out_dir / "summary.json", out_dir / weights_file
    for path in (summary_path, weights_path):
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: train first with `{train_command} --out {out_dir} ...`"
            )
    return json.loads(summary_path.read_text(encoding="utf-8")), weights_path


def write_settings_file(out_dir: str | os.PathLike, settings: Mapping[str, Any]) -> Path:
    """``<out_dir>/settings.json``, human-readable (written atomically)."""
    path = Path(out_dir) / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(normalise_settings(settings), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _settings_from_checkpoint(path: Path) -> dict[str, Any] | None:
    payload = read_payload(path, mmap=True, missing="read_settings expects a checkpoint file")
    settings = (payload.get("extra") or {}).get("settings")
    return None if settings is None else normalise_settings(settings)
