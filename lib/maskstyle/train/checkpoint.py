"""Atomic, resumable checkpoints.

A resumed run must continue exactly where the interrupted one stopped: the next loss is a
function of the parameters, the optimiser moments (Adam's m and v, RMSProp's mean square),
the learning-rate schedule and every random draw still to come (data order, dropout,
noise, sampled styles). A checkpoint therefore stores all of them: model and optimiser
state dicts, schedulers, AMP grad scalers, the step, every global RNG state
(:func:`maskstyle.utils.seed.rng_state`: Python, NumPy, torch CPU, CUDA), the state of any
``torch.Generator`` passed in, and of any object with ``state_dict()``/``load_state_dict()``
(e.g. a :class:`~maskstyle.train.sampler.ResumableLoader`'s position in its epoch).

Writes are atomic: the payload goes to a temporary file in the target's directory, is
flushed and ``fsync``-ed, then ``os.replace``-d over the target, so a crash leaves either
the old checkpoint or the new one, never half of one. Checkpoints are named
``checkpoint-<step>.pt``; :func:`latest_checkpoint` finds the newest by step and
``keep_last`` rotation deletes the oldest. Models wrapped in DDP (or ``torch.compile``) are
saved and loaded through their plain module, so a checkpoint does not depend on how many
processes trained it.

Loading uses ``torch.load(weights_only=True)`` (no arbitrary code runs from a checkpoint
file); ``extra`` must therefore hold plain Python values and tensors.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from maskstyle.train.distributed import get_rank, get_world_size, unwrap_model
from maskstyle.utils.seed import rng_state, set_rng_state

FORMAT = "maskstyle.checkpoint/1"
_NAME = re.compile(r"^checkpoint-(\d+)\.pt$")


class Resumed(NamedTuple):
    """What :func:`load_checkpoint` returns: the completed step count and ``extra``."""

    step: int
    extra: dict


def checkpoint_path(directory: str | os.PathLike, step: int) -> Path:
    """``directory / checkpoint-<step, 9 digits>.pt``."""
    _check_step(step)
    return Path(directory) / f"checkpoint-{step:09d}.pt"


def list_checkpoints(directory: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(step, path)`` of every ``checkpoint-<step>.pt`` in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The checkpoint with the highest step in ``directory``, or ``None`` if there is none."""
    found = list_checkpoints(directory)
    return found[-1][1] if found else None


def prune_checkpoints(directory: str | os.PathLike, keep_last: int) -> list[Path]:
    """Delete all but the ``keep_last`` newest checkpoints; return the deleted paths."""
    if not isinstance(keep_last, int) or keep_last < 1:
        raise ValueError(f"keep_last must be an int >= 1, got {keep_last!r}")
    doomed = [path for _, path in list_checkpoints(directory)[:-keep_last]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def save_checkpoint(
    path: str | os.PathLike,
    *,
    models: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None,
    schedulers: Mapping[str, Any] | None = None,
    scalers: Mapping[str, Any] | None = None,
    generators: Mapping[str, torch.Generator] | None = None,
    stateful: Mapping[str, Any] | None = None,
    step: int,
    extra: dict | None = None,
    rng_per_rank: list[dict] | None = None,
    keep_last: int | None = None,
) -> Path:
    """Atomically write a checkpoint of everything a bit-exact resume needs; return its path.

    ``schedulers``, ``scalers`` and ``stateful`` hold objects with ``state_dict()``;
    ``generators`` holds ``torch.Generator``s. ``rng_per_rank`` (every rank's
    :func:`~maskstyle.utils.seed.rng_state`, gathered by the caller) lets each rank of a
    distributed run get its own RNG back; this process's RNG state is always stored.
    ``keep_last=k`` then deletes all but the ``k`` newest ``checkpoint-*.pt`` beside it.
    """
    _check_step(step)
    _check_modules(models)
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"checkpoint directory {path.parent} does not exist; create it first "
            "(Path(...).mkdir(parents=True, exist_ok=True))"
        )
    payload = {
        "format": FORMAT,
        "step": step,
        "models": {name: unwrap_model(m).state_dict() for name, m in models.items()},
        "optimizers": _state_dicts(optimizers),
        "schedulers": _state_dicts(schedulers),
        "scalers": _state_dicts(scalers),
        "stateful": _state_dicts(stateful),
        "generators": {name: g.get_state() for name, g in (generators or {}).items()},
        "rng": _safe_rng(rng_state()),
        "rng_per_rank": None if rng_per_rank is None else [_safe_rng(s) for s in rng_per_rank],
        "extra": _checked_extra(extra),
        "rank": get_rank(),
        "world_size": get_world_size(),
        "torch_version": str(torch.__version__),
        "saved_at": time.time(),
    }
    _atomic_torch_save(payload, path)
    if keep_last is not None:
        prune_checkpoints(path.parent, keep_last)
    return path


def read_payload(
    path: str | os.PathLike, *, missing: str, map_location: str | torch.device = "cpu",
    mmap: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The raw dict :func:`save_checkpoint` wrote to ``path`` (tensors only, no code run).

    A missing file is a ``FileNotFoundError`` that ends with ``missing`` (what to do instead);
    a file that is not such a checkpoint is a ``ValueError``. ``mmap`` maps the tensors
    instead of reading them (for a look at ``step`` or ``extra`` only).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; {missing}")
    payload = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} checkpoint (written by save_checkpoint)")
    return payload


def load_checkpoint(
    path: str | os.PathLike,
    models: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    *,
    schedulers: Mapping[str, Any] | None = None,
    scalers: Mapping[str, Any] | None = None,
    generators: Mapping[str, torch.Generator] | None = None,
    stateful: Mapping[str, Any] | None = None,
    restore_rng: bool = True,
    strict: bool = True,
    map_location: str | torch.device = "cpu",
) -> Resumed:
    """Restore what :func:`save_checkpoint` wrote into the objects passed; return step, extra.

    Only the names passed are restored (e.g. just ``{"G": G}`` for inference); a name the
    checkpoint lacks is an error. With ``restore_rng`` the global RNGs are set back too
    (this rank's own state when the checkpoint holds one per rank of the same world size).
    """
    _check_modules(models)
    payload = read_payload(path, map_location=map_location, missing="use latest_checkpoint("
                           "directory) to find one, or start without resuming")  # fmt: skip
    for name, model in models.items():
        state = _entry(payload, "models", name, path)
        unwrap_model(model).load_state_dict(state, strict=strict)
    for section, objects in (
        ("optimizers", optimizers),
        ("schedulers", schedulers),
        ("scalers", scalers),
        ("stateful", stateful),
    ):
        for name, obj in (objects or {}).items():
            obj.load_state_dict(_entry(payload, section, name, path))
    for name, generator in (generators or {}).items():
        generator.set_state(_entry(payload, "generators", name, path))
    if restore_rng:
        state = payload["rng"]
        per_rank = payload.get("rng_per_rank")
        if per_rank is not None and len(per_rank) == get_world_size():
            state = per_rank[get_rank()]
        set_rng_state(_numpy_rng(state))
    return Resumed(int(payload["step"]), payload["extra"])


def branch_checkpoint(
    source: str | os.PathLike, directory: str | os.PathLike, *,
    settings: Mapping[str, Any], note: str,
) -> Path:  # fmt: skip
    """Copy the checkpoint ``source`` into ``directory`` as the start of another run.

    The copy records that run's ``settings`` (``extra['settings']``, which
    :class:`~maskstyle.train.trainer.Trainer` checks on resume) and ``note`` as
    ``extra['branched_from']``; everything else - weights, optimiser and scheduler states,
    data order, RNG - is the source's, so resuming the copy continues exactly where the source
    was. Only valid when the steps up to it read none of the settings that differ: the caller
    checks that (e.g. :func:`maskstyle.models.lomit.train.branch_from_warmups`).
    """
    from maskstyle.train.settings import normalise_settings

    payload = read_payload(source, missing="train the run to branch from first")
    payload["extra"] = {**payload["extra"], "settings": normalise_settings(settings),
                        "branched_from": note}  # fmt: skip
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = checkpoint_path(directory, int(payload["step"]))
    _atomic_torch_save(payload, path)
    return path


def _atomic_torch_save(payload: dict, path: Path) -> None:
    """``torch.save`` to a temp file beside ``path``, fsync, ``os.replace``; no debris on error."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; give the usual permissions of a new file
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Persist the rename itself (POSIX); silently skipped where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _safe_rng(state: dict) -> dict:
    """RNG state with NumPy's key array as a tensor, so ``weights_only`` loading accepts it."""
    name, keys, pos, has_gauss, cached = state["numpy"]
    safe = dict(state)
    safe["numpy"] = (str(name), torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos),
                     int(has_gauss), float(cached))
    return safe


def _numpy_rng(state: dict) -> dict:
    name, keys, pos, has_gauss, cached = state["numpy"]
    restored = dict(state)
    restored["numpy"] = (name, keys.numpy().astype(np.uint32), pos, has_gauss, cached)
    restored["python"] = (state["python"][0], tuple(state["python"][1]), state["python"][2])
    return restored


def _checked_extra(extra: dict | None) -> dict:
    """``extra`` if ``torch.load(weights_only=True)`` can read it back; else a clear error."""
    extra = dict(extra or {})
    buffer = io.BytesIO()
    torch.save(extra, buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, weights_only=True)
    except pickle.UnpicklingError as error:
        raise TypeError(
            "extra must hold only plain values (dict, list, tuple, str, int, float, bool, "
            f"None, tensors) so the checkpoint loads with weights_only=True: {error}"
        ) from None
    return extra


def _state_dicts(objects: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {}
    for name, obj in (objects or {}).items():
        if not hasattr(obj, "state_dict"):
            raise TypeError(f"{name!r} ({type(obj).__name__}) has no state_dict() to save")
        out[name] = obj.state_dict()
    return out


def _entry(payload: dict, section: str, name: str, path: Path) -> Any:
    held = payload.get(section) or {}
    if name not in held:
        raise KeyError(
            f"checkpoint {path} has no {name!r} among its {section} (it holds {sorted(held)}); "
            "pass the same names that were saved"
        )
    return held[name]


def _check_step(step: int) -> None:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be a non-negative int, got {step!r}")


def _check_modules(models: Mapping[str, nn.Module]) -> None:
    if not isinstance(models, Mapping) or not models:
        raise TypeError("models must be a non-empty dict of name -> nn.Module, e.g. {'G': G}")
    for name, model in models.items():
        if not isinstance(model, nn.Module):
            raise TypeError(f"models[{name!r}] is a {type(model).__name__}, not an nn.Module")
