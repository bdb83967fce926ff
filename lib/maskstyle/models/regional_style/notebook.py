"""What the regional style notebooks share (one place, no duplicated ``def`` in notebooks):
face-world batches, launching and loading the trained methods, fitting the style mapping
networks and the CNFs on encoded style codes, the harmony classifier, and figures.

Every figure function returns a ``matplotlib.figure.Figure``;
:func:`maskstyle.models.genegan.figures.save_and_show` writes and displays it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from maskstyle.models.genegan.figures import rows_figure, save_and_show

TRAIN_MODULE = "maskstyle.models.regional_style.train"
GROUPS = ("skin", "hair")


def face_batch(n: int, size: int, seed: int) -> dict[str, Any]:
    """``n`` face-world faces ``{"images", "labels", "provenance"}`` (the training set's
    renderer; another ``seed`` gives held-out faces)."""
    from maskstyle.models.regional_style.train import FaceWorldStyleSet

    data = FaceWorldStyleSet(n, size, seed)
    return {"images": data.images, "labels": data.labels, "provenance": data.provenance}


PAPER_SPLITS: dict[str, tuple[str, ...]] = {
    "celebamask_hq": ("train", "test"),  # 28,000 / 2,000 (Sec. 4.1)
    "ffhq": ("eval",),  # the first 2,000, with parsed label maps
    "lapa": ("trainval", "test"),  # 19,770 / 1,930 after dropping low-resolution images
}


def load_paper_data(
    data_roots: dict[str, str],
    image_size: int,
    ffhq_label_dir: str | None = None,
    lapa_min_size: int | None = None,
) -> dict[str, Any]:
    """``{"<dataset>/<split>": PaperFaces}`` for every dataset named in ``data_roots``
    (``celebamask_hq``, ``ffhq``, ``lapa``) and the splits the paper uses."""
    from maskstyle.models.regional_style.data import PAPER_DATASETS, PaperFaces

    unknown = sorted(set(data_roots) - set(PAPER_DATASETS))
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown} in data_roots; use {PAPER_DATASETS}")
    out = {}
    for name, root in data_roots.items():
        for split in PAPER_SPLITS[name]:
            kwargs: dict[str, Any] = {}
            if name == "ffhq":
                kwargs["label_dir"] = ffhq_label_dir
            if name == "lapa":
                kwargs["min_size"] = lapa_min_size
            out[f"{name}/{split}"] = PaperFaces(name, root, split, image_size, **kwargs)
    return out


def train_args(
    method: str,
    steps: int,
    out: str | os.PathLike,
    image_size: int,
    n_faces: int,
    style_dim: int,
    ngf: int,
    batch_size: int,
    l1: float,
    vgg_layers: Sequence[str] | None,
    ndf: int,
    seed: int,
    threads: int | None = 1,
    checkpoint_every: int = 500,
    lr_g: float | None = None,
    lr_d: float | None = None,
    generator_norm: str = "instance",
    encoder_norm: str = "instance",
    lr_decay_start: int | None = None,
    last_scale_weight: float | None = None,
    data_seed: int | None = None,
) -> list[str]:
    """The command-line arguments of ``python -m maskstyle.models.regional_style.train``."""
    args = [
        "--method", method, "--steps", str(steps), "--out", str(out), "--size", str(image_size),
        "--faces", str(n_faces), "--style-dim", str(style_dim), "--ngf", str(ngf),
        "--encoder-ngf", str(ngf), "--batch-size", str(batch_size), "--l1", str(l1),
        "--ndf", str(ndf), "--seed", str(seed), "--checkpoint-every", str(checkpoint_every),
        "--generator-norm", generator_norm, "--encoder-norm", encoder_norm,
    ]  # fmt: skip
    if vgg_layers:
        args += ["--vgg-layers", ",".join(vgg_layers)]
    if threads is not None:
        args += ["--threads", str(threads)]
    if lr_g is not None:
        args += ["--lr-g", str(lr_g)]
    if lr_d is not None:
        args += ["--lr-d", str(lr_d)]
    if lr_decay_start is not None:
        args += ["--lr-decay-start", str(lr_decay_start)]
    if last_scale_weight is not None:
        args += ["--last-scale-weight", str(last_scale_weight)]
    if data_seed is not None:
        args += ["--data-seed", str(data_seed)]
    return args


def seed_root(run_root: str | os.PathLike, seed: int) -> Path:
    """Where 02_train puts the seed study's models of init seed ``seed``:
    ``<run_root>_seed<seed>/<method>`` (beside ``<run_root>/<method>``)."""
    root = Path(run_root)
    return root.with_name(f"{root.name}_seed{seed}")


def load_methods(run_root: str | os.PathLike, methods: Sequence[str]) -> dict[str, Any]:
    """``{method: model}`` for the runs ``<run_root>/<method>`` trained by 02_train (a clear
    error naming the notebook when one is missing)."""
    from maskstyle.models.regional_style.train import load_trained

    root = Path(run_root)
    missing = [m for m in methods if not (root / m / "summary.json").exists()]
    if missing:
        raise FileNotFoundError(
            f"no trained model for {missing} under {root}: run 02_train.ipynb first (with "
            f"these methods in its `methods` parameter)"
        )
    return {m: load_trained(root / m) for m in methods}


def loss_curves_figure(run_root: str | os.PathLike, methods: Sequence[str]) -> Figure:
    """One panel per loss term, one line per method (running mean over 10 logs)."""
    from maskstyle.train import LossHistory

    frames = {m: LossHistory.load(Path(run_root) / m / "history.csv").to_frame() for m in methods}
    terms = [t for t in ("g_hinge", "d_hinge", "feat_match", "vgg", "l1", "kl")
             if any(t in f.columns for f in frames.values())]  # fmt: skip
    fig = Figure(figsize=(2.6 * len(terms), 2.2))
    axes = fig.subplots(1, len(terms), squeeze=False)[0]
    for ax, term in zip(axes, terms):
        for i, (method, frame) in enumerate(frames.items()):
            if term not in frame.columns:
                continue
            series = frame[["step", term]].dropna()
            ax.plot(series["step"], series[term].rolling(10, min_periods=1).mean(),
                    color=f"C{i}", label=method)  # fmt: skip
        ax.set_title(term, fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


@torch.no_grad()
def encode_styles(model, images: torch.Tensor, labels: torch.Tensor, batch: int = 32):
    """Style matrices ``[N, K, D]`` and presence ``[N, K]`` of a set of faces."""
    styles = torch.cat([model.encode(images[i : i + batch], labels[i : i + batch])
                        for i in range(0, len(images), batch)])  # fmt: skip
    return styles, model.present(labels)


def fit_style_models(
    model,
    images: torch.Tensor,
    labels: torch.Tensor,
    mapping_steps: int,
    cnf_steps: int,
    cnf_hidden: int = 64,
    mapping_hidden: int = 128,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Fit the regional style mapping networks (Eq. 6) and one CNF per group (Eqs. 7-8) on
    the style codes ``model`` encodes from the training faces. Returns ``{"mapping",
    "cnf": {group: StyleCNF}, "mapping_history", "cnf_history": {group: [nll]}}``."""
    from maskstyle.models.regional_style.cnf import StyleCNF
    from maskstyle.models.regional_style.mapping import RegionalStyleMapping
    from maskstyle.models.regional_style.train import train_cnf, train_style_mapping

    torch.manual_seed(seed)
    styles, present = encode_styles(model, images, labels)
    d = model.config.style_dim
    mapping = RegionalStyleMapping(d, z_dim=d, hidden=mapping_hidden, layers=3)
    mapping_history = train_style_mapping(mapping, styles, present, mapping_steps,
                                          progress=progress)  # fmt: skip
    cnfs, cnf_history = {}, {}
    for group in GROUPS if cnf_steps > 0 else ():
        rows = mapping.real_rows(styles, group, present).flatten(1)
        cnf = StyleCNF(rows.shape[1], hidden=cnf_hidden, rtol=1e-3, atol=1e-3)
        cnf_history[group] = train_cnf(cnf, rows, cnf_steps, progress=progress)
        cnfs[group] = cnf.eval()
    return {"mapping": mapping.eval(), "cnf": cnfs, "mapping_history": mapping_history,
            "cnf_history": cnf_history}  # fmt: skip


def fit_stargan_mapping(
    model,
    images: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    hidden: int = 128,
    batch_size: int = 4,
    ndf: int = 16,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Table 5's StarGAN-v2-style mapping (shared trunk, a head per group) fitted through the
    frozen ``model`` with StarGAN v2's losses on the training faces; ``{"mapping",
    "history"}``. ``z_dim`` 16 (StarGAN v2), three shared and two head layers (the notebooks'
    small widths)."""
    from maskstyle.models.regional_style.stargan_mapping import (
        StarGANv2Mapping,
        train_stargan_mapping,
    )

    torch.manual_seed(seed)
    mapping = StarGANv2Mapping(model.config.style_dim, z_dim=16, hidden=hidden, shared_layers=3,
                               head_layers=2)  # fmt: skip
    history = train_stargan_mapping(mapping, model, images, labels, steps, batch_size, ndf=ndf,
                                    progress=progress)  # fmt: skip
    return {"mapping": mapping.eval(), "history": history}


def save_style_models(fitted: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write the mapping networks and CNFs of :func:`fit_style_models` (state dicts + sizes)."""
    mapping, cnfs = fitted["mapping"], fitted["cnf"]
    state = {
        "style_dim": mapping.style_dim, "mapping": mapping.state_dict(),
        "mapping_hidden": mapping.mappings[GROUPS[0]].net[0].out_features,
        "cnf": {g: c.state_dict() for g, c in cnfs.items()},
        "cnf_dim": {g: c.dim for g, c in cnfs.items()},
        "cnf_hidden": next(iter(cnfs.values())).func.layers[0].layer.out_features if cnfs else 0,
    }  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def load_style_models(path: str | os.PathLike) -> dict[str, Any]:
    """Read what :func:`save_style_models` wrote: ``{"mapping", "cnf": {group: StyleCNF}}``."""
    from maskstyle.models.regional_style.cnf import StyleCNF
    from maskstyle.models.regional_style.mapping import RegionalStyleMapping

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no fitted style models at {path}: run 05_multimodal first")
    state = torch.load(path, map_location="cpu", weights_only=True)
    d = state["style_dim"]
    mapping = RegionalStyleMapping(d, z_dim=d, hidden=state["mapping_hidden"], layers=3)
    mapping.load_state_dict(state["mapping"])
    cnfs = {}
    for g, sd in state["cnf"].items():
        cnf = StyleCNF(state["cnf_dim"][g], hidden=state["cnf_hidden"], rtol=1e-3, atol=1e-3)
        cnf.load_state_dict(dict(cnf.state_dict()) | sd)  # files before the whitening: identity
        cnfs[g] = cnf.eval()
    return {"mapping": mapping.eval(), "cnf": cnfs}


def fit_harmony_classifier(
    n: int, image_size: int, seed: int, steps: int, n_test: int, progress: bool = True
) -> dict[str, Any]:
    """The harmony classifier (real vs lighting composite, foreground mask as input) trained
    on ``n`` face-world composites and its accuracy on ``n_test`` held-out ones."""
    from maskstyle.metrics.harmony import HarmonyClassifier, train_harmony_classifier
    from maskstyle.models.regional_style.data import lighting_composites

    torch.manual_seed(seed)
    train = lighting_composites(n, image_size, seed)
    test = lighting_composites(n_test, image_size, seed + 1)
    clf = HarmonyClassifier(width=16)
    history = train_harmony_classifier(clf, train["real"], train["composite"], train["mask"],
                                       steps=steps, seed=seed, progress=progress)  # fmt: skip
    with torch.no_grad():
        real = clf(test["real"], test["mask"]) > 0
        comp = clf(test["composite"], test["mask"]) <= 0
    accuracy = float(torch.cat([real, comp]).float().mean())
    return {"classifier": clf, "history": history, "test_accuracy": accuracy, "test": test}


def fit_dovenet(
    n: int, image_size: int, seed: int, steps: int, n_test: int, progress: bool = True
) -> dict[str, Any]:
    """The SEAN+DoveNet baseline's harmoniser trained on ``n`` face-world lighting composites
    (seed ``seed``) and its error inside the pasted region (``harmony_error``'s ``"region"``,
    averaged over images) on ``n_test`` held-out ones (``seed + 1``):
    ``{"harmonizer", "history", "test_error": {"composite", "harmonised"}}``."""
    from maskstyle.metrics import harmony_error
    from maskstyle.models.regional_style.data import lighting_composites
    from maskstyle.models.regional_style.dovenet import DoveNetHarmonizer, train_dovenet

    torch.manual_seed(seed)
    train = lighting_composites(n, image_size, seed)
    test = lighting_composites(n_test, image_size, seed + 1)
    net = DoveNetHarmonizer()
    history = train_dovenet(net, train["real"], train["composite"], train["mask"], steps,
                            seed=seed, progress=progress)  # fmt: skip

    def error(images: torch.Tensor) -> float:
        return float(harmony_error(images, test["real"], test["mask"].bool())["region"].mean())

    with torch.no_grad():
        harmonised = net(test["composite"], test["mask"])
    errors = {"composite": error(test["composite"]), "harmonised": error(harmonised)}
    return {"harmonizer": net, "history": history, "test_error": errors}


@torch.no_grad()
def fine_tune_grid(
    model, cnf, image: torch.Tensor, labels: torch.Tensor, group: str, etas: Sequence[float],
    seed: int = 0,
) -> dict[str, list[torch.Tensor]]:
    """Fig. 5: one face's ``group`` restyled along one random direction by ``eta`` in the
    CNF's latent space (Eqs. 7-8) and directly in style space; ``{"cnf": [...], "style":
    [...]}`` images (``[3, H, W]``) per ``eta``."""
    from maskstyle.models.regional_style.cnf import fine_tune_style_space, random_direction
    from maskstyle.models.regional_style.data import group_regions

    s = model.encode(image[None], labels[None])
    regions = group_regions(group, s.shape[1])
    idx = regions.nonzero()[:, 0].tolist()
    rows = s[:, idx].flatten(1)
    d = random_direction(1, rows.shape[1], torch.Generator().manual_seed(seed))
    out: dict[str, list[torch.Tensor]] = {"cnf": [], "style": []}
    for eta in etas:
        for kind, moved in (("cnf", cnf.fine_tune(rows, d, eta)),
                            ("style", fine_tune_style_space(rows, d, eta))):  # fmt: skip
            s2 = s.clone()
            s2[:, idx] = moved.view(1, len(idx), -1)
            out[kind].append(model.decode(labels[None], s2)[0])
    return out


def checkpoint_study_figure(study: Any) -> Figure:
    """``ours - SEAN`` PSNR (dB) against the training step, one line per init seed, with
    error bars of one standard error over faces (``study``: :func:`evaluate.checkpoint_study`)."""
    fig = Figure(figsize=(4.2, 2.6))
    ax = fig.subplots()
    for seed, rows in study.groupby("seed"):
        ax.errorbar(rows["step"], rows["ours_minus_sean"], yerr=rows["stderr"], marker="o",
                    capsize=3, label=f"init seed {seed}")  # fmt: skip
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("training step")
    ax.set_ylabel("ours - SEAN PSNR (dB)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def label_picture(labels: torch.Tensor) -> torch.Tensor:
    """``[3, H, W]`` colour picture of a label map (the face world's palette)."""
    from maskstyle.utils.palette import colorize_mask

    return colorize_mask(labels, as_tensor=True)


__all__ = [
    "GROUPS",
    "PAPER_SPLITS",
    "load_paper_data",
    "TRAIN_MODULE",
    "checkpoint_study_figure",
    "encode_styles",
    "face_batch",
    "fine_tune_grid",
    "fit_dovenet",
    "fit_harmony_classifier",
    "fit_stargan_mapping",
    "fit_style_models",
    "label_picture",
    "load_methods",
    "load_style_models",
    "loss_curves_figure",
    "rows_figure",
    "save_and_show",
    "save_style_models",
    "train_args",
]
