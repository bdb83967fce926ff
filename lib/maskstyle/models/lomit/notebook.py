"""What the LOMIT notebooks share: launching a training run, loading checkpoints along a
run, and the figures (loss curves, translation grids, masks over training)."""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from maskstyle.models.lomit.model import LOMIT
from maskstyle.models.lomit.train import TrainConfig
from maskstyle.train.config_cli import config_argv

# the notebooks plot these terms of the loss history
D_TERMS = ("d_wasserstein", "d_gp", "d_cls_real")
G_TERMS = ("g_adv", "g_cls_fake", "g_style_f", "g_style_b", "g_content", "g_cycle", "g_rec",
           "r1", "r2", "r3")  # fmt: skip


def make_config(train_config: Mapping[str, Any], seed: int, profile: str,
                **overrides: Any) -> TrainConfig:  # fmt: skip
    """A :class:`TrainConfig` from a notebook's ``train_config`` dict parameter."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = set(train_config) - fields
    if unknown:
        raise KeyError(f"train_config has unknown keys {sorted(unknown)}; valid: {sorted(fields)}")
    return TrainConfig(**{**dict(train_config), **overrides, "seed": seed, "profile": profile})


def train_args(config: TrainConfig, steps: int, out: str | os.PathLike, *, log_every: int,
               checkpoint_every: int, keep_last: int = 3, threads: int = 0,
               branch_from: str | os.PathLike | None = None) -> list[str]:  # fmt: skip
    """``python -m maskstyle.models.lomit.train`` arguments for ``config`` (``branch_from``:
    a run whose warm-ups it shares, :func:`maskstyle.models.lomit.train.branch_from_warmups`)."""
    args = ["--steps", str(steps), "--out", str(out), "--log-every", str(log_every),
            "--checkpoint-every", str(checkpoint_every), "--keep-last", str(keep_last),
            "--threads", str(threads)]  # fmt: skip
    if branch_from is not None:
        args += ["--branch-from", str(branch_from)]
    return args + config_argv(config)


def run_training(config: TrainConfig, steps: int, run_dir: str | os.PathLike,
                 log_path: str | os.PathLike, *, launcher: str = "python",
                 nproc_per_node: int = 1, **kwargs: Any) -> dict:  # fmt: skip
    """Train in a child process (progress lines stream into the cell); return the summary."""
    from maskstyle import workbook

    workbook.launch_training("maskstyle.models.lomit.train",
                             train_args(config, steps, run_dir, **kwargs), launcher=launcher,
                             nproc_per_node=nproc_per_node, log_path=log_path)  # fmt: skip
    return json.loads((Path(run_dir) / "summary.json").read_text())


def load_at(path: str | os.PathLike, config: TrainConfig) -> LOMIT:
    """The LOMIT of one checkpoint file (for figures along training)."""
    from maskstyle.train import load_checkpoint

    model = LOMIT(config.model_config())
    load_checkpoint(path, {"lomit": model}, restore_rng=False)
    return model.eval()


def loss_figure(frame: Any, terms: Sequence[str], title: str = "", window: int = 5):
    """One panel per term: the logged values (light) and a running mean (dark)."""
    from matplotlib.figure import Figure

    terms = [t for t in terms if t in frame.columns]
    cols = min(5, len(terms))
    rows = -(-len(terms) // cols)
    fig = Figure(figsize=(2.8 * cols, 2.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, term in zip(axes.flat, terms):
        series = frame[["step", term]].dropna()
        ax.plot(series["step"], series[term], color="C0", alpha=0.3)
        ax.plot(series["step"], series[term].rolling(window, min_periods=1).mean(), color="C0")
        ax.set_title(term, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(terms):]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def grid_figure(rows: Sequence[Sequence[torch.Tensor]], titles: Sequence[str],
                cell: float = 1.6, row_labels: Sequence[str] | None = None):  # fmt: skip
    """A grid of images (``[3, H, W]`` in [0, 1]) and masks (``[1, H, W]``, grey)."""
    from matplotlib.figure import Figure

    n_rows, n_cols = len(rows), len(titles)
    fig = Figure(figsize=(cell * n_cols, cell * n_rows + 0.3))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            ax = axes[r, c]
            image = image.detach().clamp(0, 1).cpu()
            if image.shape[0] == 1:
                ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(image.permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c], fontsize=8)
            if c == 0 and row_labels is not None:
                ax.set_ylabel(textwrap.fill(row_labels[r], 22), fontsize=7)
    fig.tight_layout()
    return fig


def show(fig: Any, output_dir: str | os.PathLike, name: str) -> Path:
    """Save ``fig`` as ``<output_dir>/<name>.png`` and display it (in a notebook)."""
    from maskstyle import workbook

    saved = workbook.save_figure(fig, output_dir, name)
    path = Path(saved)
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return path
    if get_ipython() is not None:
        display(Image(filename=str(path)))
    return path


SHORT_NAMES = {"Black_Hair": "black", "Blond_Hair": "blond", "Brown_Hair": "brown",
               "Smiling": "smile", "Goatee": "goatee", "Mustache": "mustache",
               "No_Beard": "no beard", "Male": "male", "Heavy_Makeup": "makeup",
               "Wearing_Lipstick": "lipstick"}  # fmt: skip


def attribute_names(label: torch.Tensor, attributes: Sequence[str]) -> str:
    """The attributes set in a multi-hot ``label``, short (for figure titles)."""
    return ", ".join(SHORT_NAMES.get(a, a) for a, v in zip(attributes, label.tolist()) if v)


def change_label(label_in: torch.Tensor, label_ex: torch.Tensor,
                 attributes: Sequence[str]) -> str:  # fmt: skip
    """What translating toward the exemplar changes, short: ``"+blond -brown +smile"`` (the
    exemplar's attributes the input lacks get ``+``, the input's it lacks ``-``)."""
    if label_in.shape != label_ex.shape or label_in.numel() != len(attributes):
        raise ValueError(f"labels {tuple(label_in.shape)} / {tuple(label_ex.shape)} must both "
                         f"hold one entry per attribute ({len(attributes)})")
    parts = [("+" if e else "-") + SHORT_NAMES.get(a, a)
             for a, i, e in zip(attributes, label_in.bool().tolist(), label_ex.bool().tolist())
             if i != e]  # fmt: skip
    return " ".join(parts) or "no change"


def strips_figure(strips: Sequence[Any], labels: Sequence[str], width: float = 9.0):
    """Wide uint8 panel strips ``[H, W, 3]`` (e.g. ``LOMITDemo.panels``), one row each."""
    from matplotlib.figure import Figure

    h, w = strips[0].shape[:2]
    fig = Figure(figsize=(width, len(strips) * width * h / w + 0.3))
    axes = fig.subplots(len(strips), 1, squeeze=False)
    for ax, strip, label in zip(axes[:, 0], strips, labels):
        ax.imshow(strip)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, fontsize=7)
    fig.tight_layout()
    return fig
