"""A small training loop that every paper's notebook can hand its update step to.

The paper-specific part of training is one update: draw what the step needs, compute the
loss terms, back-propagate, step the optimisers (a GAN updates D and G, maybe G only every
n-th step). That is the ``step_fn(batch, step) -> {term: loss}``. Everything around it is
shared and lives here (keyword-argument configuration, in the spirit of StyleGAN2-ADA's
``training_loop``):

- resume from the newest checkpoint in ``out_dir/checkpoints`` (bit-exact: parameters,
  optimisers, schedulers, scalers, data position and all RNG states come back), but only
  if it was made with the same ``settings`` (:mod:`maskstyle.train.settings`): a mismatch
  is refused with the differing keys; ``fresh=True`` discards the old run instead;
- the NaN/inf guard on every step's losses (:func:`~maskstyle.train.guard.check_finite`);
- a loss history CSV row every ``log_every`` steps (``out_dir/history.csv``) and progress:
  a tqdm bar in a terminal or notebook, or, in a child process whose output is piped into a
  notebook cell (``MASKSTYLE_PROGRESS=log``, set by ``workbook.launch_training``), a plain
  line at intervals with the step, the latest terms, seconds per step and the ETA;
- a checkpoint every ``checkpoint_every`` steps and at the end, keeping the ``keep_last``
  newest;
- under ``torchrun``, losses are averaged over ranks before they are checked and logged,
  and only rank 0 writes files.

Steps are counted as completed updates: ``step_fn`` gets the 0-based index ``i`` of the
update it performs; the history row, the checkpoint and a NaN error for that update all
carry ``step = i + 1``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from maskstyle.train.checkpoint import (
    checkpoint_path,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from maskstyle.train.distributed import (
    all_gather_objects,
    barrier,
    is_distributed,
    is_main_process,
    mean_across_ranks,
)
from maskstyle.train.guard import check_finite, loss_value
from maskstyle.train.history import LossHistory
from maskstyle.train.settings import (
    SETTINGS_FILE,
    SettingsMismatch,
    normalise_settings,
    read_settings,
    settings_differences,
    write_settings_file,
)
from maskstyle.utils.seed import rng_state

StepFn = Callable[[Any, int], Mapping[str, torch.Tensor | float]]
PROGRESS_ENV = "MASKSTYLE_PROGRESS"  # "log": plain progress lines instead of a tqdm bar
LOG_INTERVAL_S = 5.0  # at most one plain progress line per this many seconds (plus the last)


class Trainer:
    """Run ``step_fn`` for ``total_steps`` updates with checkpoints, history and resume.

    ``data`` is any iterable of batches; if it has ``state_dict``/``load_state_dict`` (a
    :class:`~maskstyle.train.sampler.ResumableLoader`) its position is checkpointed too.
    ``schedulers`` are stepped once after every ``step_fn`` call. ``settings`` (plain
    values: architecture, data, loss weights, lr, seed, profile) are stored in every
    checkpoint and ``settings.json``; resuming a run made with other settings raises
    :class:`~maskstyle.train.settings.SettingsMismatch`, and ``fresh=True`` deletes that
    run's checkpoints and history first. ``extra`` is stored in every checkpoint too (e.g.
    which data and weights it used). ``progress``: ``True`` (a tqdm bar, or plain lines when
    ``$MASKSTYLE_PROGRESS`` is ``log``), ``"bar"``, ``"log"`` or ``False``.
    """

    def __init__(
        self,
        *,
        models: Mapping[str, nn.Module],
        optimizers: Mapping[str, torch.optim.Optimizer],
        step_fn: StepFn,
        data: Iterable,
        total_steps: int,
        out_dir: str | os.PathLike,
        schedulers: Mapping[str, Any] | None = None,
        scalers: Mapping[str, Any] | None = None,
        generators: Mapping[str, torch.Generator] | None = None,
        checkpoint_every: int = 1000,
        log_every: int = 10,
        keep_last: int | None = 3,
        resume: bool = True,
        progress: bool | str = True,
        extra: dict | None = None,
        settings: Mapping[str, Any] | None = None,
        fresh: bool = False,
    ):
        for name, value in (("total_steps", total_steps), ("checkpoint_every", checkpoint_every),
                            ("log_every", log_every)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if isinstance(data, DataLoader):
            raise TypeError(
                "data is a plain DataLoader: it stops after one epoch and its position cannot "
                "be checkpointed; pass data=ResumableLoader(DataLoader(dataset, batch_size=..., "
                "sampler=ResumableSampler(dataset, seed=...)))"
            )
        self.models, self.optimizers = dict(models), dict(optimizers)
        self.schedulers, self.scalers = dict(schedulers or {}), dict(scalers or {})
        self.generators = dict(generators or {})
        self.step_fn, self.data = step_fn, data
        self.total_steps = total_steps
        self.checkpoint_every, self.log_every, self.keep_last = (
            checkpoint_every, log_every, keep_last)
        if progress not in (True, False, "bar", "log"):
            raise ValueError(f"progress must be True, False, 'bar' or 'log', got {progress!r}")
        if progress is True:
            progress = "log" if os.environ.get(PROGRESS_ENV) == "log" else "bar"
        self.resume, self.progress, self.extra = resume, progress, dict(extra or {})
        if settings is not None and "settings" in self.extra:
            raise ValueError("pass the run's settings once: settings=... or extra['settings']")
        settings = self.extra.get("settings") if settings is None else settings
        self.settings = None if settings is None else normalise_settings(settings)
        if self.settings is not None:
            self.extra["settings"] = self.settings
        self.fresh = fresh
        self.out_dir = Path(out_dir)
        self.checkpoint_dir = self.out_dir / "checkpoints"
        self.history_path = self.out_dir / "history.csv"
        self.history = LossHistory()
        self.step = 0
        self.last_losses: dict[str, float] = {}

    @property
    def _stateful(self) -> dict[str, Any]:
        has_state = hasattr(self.data, "state_dict") and hasattr(self.data, "load_state_dict")
        return {"data": self.data} if has_state else {}

    def _discard_old_run(self) -> None:
        """``fresh=True``: delete this folder's checkpoints, history and settings (rank 0)."""
        if is_main_process():
            shutil.rmtree(self.checkpoint_dir, ignore_errors=True)
            for name in (self.history_path.name, SETTINGS_FILE):
                (self.out_dir / name).unlink(missing_ok=True)
        barrier()

    def _check_resume_settings(self, path: Path) -> None:
        if self.settings is None:
            return
        recorded = read_settings(path)
        if recorded is None:
            raise SettingsMismatch(path.parent, {"(all)": ("<not recorded>", self.settings)})
        differences = settings_differences(recorded, self.settings)
        if differences:
            raise SettingsMismatch(path.parent, differences)

    def _restore(self) -> None:
        barrier()
        if self.fresh:
            self._discard_old_run()
        path = latest_checkpoint(self.checkpoint_dir)
        if path is not None and not self.resume:
            raise FileExistsError(
                f"{self.checkpoint_dir} already holds checkpoints (newest {path.name}) but "
                "resume=False; pass resume=True to continue that run, or a new out_dir"
            )
        self.step = 0
        if path is not None:
            self._check_resume_settings(path)
            self.step, _ = load_checkpoint(
                path, self.models, self.optimizers, schedulers=self.schedulers,
                scalers=self.scalers, generators=self.generators, stateful=self._stateful,
            )
        # every rank keeps the (rank-averaged) history in memory; rank 0 also writes the CSV
        if is_main_process():
            self.history = LossHistory.resume(self.history_path, self.step)
        else:
            self.history = LossHistory()

    def save(self) -> Path | None:
        """Checkpoint the current state (rank 0 writes; every rank must call this)."""
        states = all_gather_objects(rng_state()) if is_distributed() else None
        path = None
        if is_main_process():
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            if self.settings is not None:
                write_settings_file(self.out_dir, self.settings)
            path = save_checkpoint(
                checkpoint_path(self.checkpoint_dir, self.step), models=self.models,
                optimizers=self.optimizers, schedulers=self.schedulers, scalers=self.scalers,
                generators=self.generators, stateful=self._stateful, step=self.step,
                extra=self.extra, rng_per_rank=states, keep_last=self.keep_last,
            )
        barrier()
        return path

    def _reduce(self, losses: Mapping[str, torch.Tensor | float], step: int) -> dict[str, float]:
        if not is_distributed():
            return check_finite(losses, step)
        names = sorted(losses)
        values = torch.tensor([loss_value(n, losses[n]) for n in names], dtype=torch.float64)
        averaged = mean_across_ranks(values)
        return check_finite(dict(zip(names, averaged.tolist())), step)

    def run(self) -> LossHistory:
        """Train up to ``total_steps`` (resuming first if asked); return the history."""
        self._restore()
        if self.step >= self.total_steps:
            return self.history
        for model in self.models.values():
            model.train()
        data = iter(self.data)
        bar = tqdm(total=self.total_steps, initial=self.step, desc="train", dynamic_ncols=True,
                   disable=not (self.progress == "bar" and is_main_process()))
        log = ProgressLog(self.step, self.total_steps) if (
            self.progress == "log" and is_main_process()) else None
        try:
            while self.step < self.total_steps:
                index = self.step
                try:
                    batch = next(data)
                except StopIteration:
                    raise RuntimeError(
                        f"the data ran out after {index} steps of {self.total_steps}; pass an "
                        "endless iterable (e.g. ResumableLoader) or lower total_steps"
                    ) from None
                losses = self._reduce(self.step_fn(batch, index), index + 1)
                for scheduler in self.schedulers.values():
                    scheduler.step()
                self.step = index + 1
                self.last_losses = losses
                bar.update(1)
                if self.step % self.log_every == 0 or self.step == self.total_steps:
                    self.history.append(self.step, losses)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items()}, refresh=False)
                    if log is not None:
                        log.maybe_print(self.step, losses)
                if self.step % self.checkpoint_every == 0 or self.step == self.total_steps:
                    self.save()
        finally:
            bar.close()
        return self.history


class ProgressLog:
    """Plain progress lines for a child process whose output is piped into a notebook cell
    (a tqdm bar there arrives only at the end): ``step 120/600 (20%) | rec 0.123 | 0.31 s/step
    | ETA 2m28s``, at most one every :data:`LOG_INTERVAL_S` seconds, and always the last."""

    def __init__(self, start_step: int, total_steps: int, stream: Any = None):
        self.start_step, self.total_steps = start_step, total_steps
        self.stream = stream if stream is not None else sys.stdout
        self.started = self.last_print = time.monotonic()

    def line(self, step: int, losses: Mapping[str, float], now: float) -> str:
        done = step - self.start_step
        per_step = (now - self.started) / done if done else float("nan")
        left = (self.total_steps - step) * per_step if done else float("nan")
        terms = " ".join(f"{k} {v:.4g}" for k, v in losses.items())
        return (
            f"step {step}/{self.total_steps} ({100 * step / self.total_steps:.0f}%) | {terms} | "
            f"{per_step:.3g} s/step | ETA {format_duration(left)}"
        )

    def maybe_print(self, step: int, losses: Mapping[str, float]) -> None:
        now = time.monotonic()
        if step == self.total_steps or now - self.last_print >= LOG_INTERVAL_S:
            print(self.line(step, losses, now), file=self.stream, flush=True)
            self.last_print = now


def format_duration(seconds: float) -> str:
    """``3h02m``, ``2m28s``, ``41s`` (``?`` when unknown)."""
    if seconds != seconds or seconds < 0:  # NaN
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
