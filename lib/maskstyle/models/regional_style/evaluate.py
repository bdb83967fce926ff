"""Evaluation of the regional style models through one interface (the notebooks' tables).

- :func:`reconstruct`: any method's reconstruction (Table 1's task).
- :func:`transfer`: regional style transfer of a region group (Tables 2-3); SPADE/CLADE/
  CLADE-ICPE cannot transfer a region and raise.
- :func:`regional_samples`: ``n`` random styles of one region group per label map
  (Tables 4-5): ours draws the group's rows from a mapping network (Eq. 3; ours, or
  StarGAN v2's for Table 5) or the CNF and passes them through MRSA like a reference;
  SPADE/CLADE/CLADE-ICPE draw a global ``z``; GroupDNet draws the group's codes from its
  VAE prior.
- :func:`reconstruction_table`, :func:`diversity_row`, :func:`harmony_row`: the numbers.
- :func:`per_image_psnr`, :func:`paired_difference`: two methods compared face by face, with
  the standard error of the mean difference (is an ordering more than noise?).
- :func:`style_code_timing`: seconds per style code, mapping network vs CNF (Sec. 4.7).
- :func:`fine_tune_realism`: how far fine-tuned codes stray from real ones (Fig. 5's claim
  as a number).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from maskstyle.models.regional_style.baselines import Pix2PixHDBaseline, SPADEBaseline
from maskstyle.models.regional_style.data import group_mask, group_regions
from maskstyle.models.regional_style.groupdnet import GroupDNetBaseline
from maskstyle.models.regional_style.model import RegionalStyleNet


@torch.no_grad()
def reconstruct(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The model's reconstruction of ``images`` in [0, 1] (the mean code for VAEs)."""
    if isinstance(model, SPADEBaseline | Pix2PixHDBaseline | GroupDNetBaseline):
        return model.reconstruct(images, labels)
    return model(images, labels)


@torch.no_grad()
def transfer(
    model: nn.Module,
    target: torch.Tensor,
    target_labels: torch.Tensor,
    reference: torch.Tensor,
    reference_labels: torch.Tensor,
    group: str,
) -> torch.Tensor:
    """The target with ``group``'s style (``"skin"`` = skin + nose, ``"hair"``) taken from
    the reference."""
    if isinstance(model, SPADEBaseline):
        raise ValueError(
            "SPADE/CLADE/CLADE-ICPE encode one global style and cannot transfer a region (the "
            "paper leaves SPADE out of Tables 2-3 for this reason)"
        )
    k = model.config.num_classes if isinstance(model, RegionalStyleNet) else model.num_classes
    regions = group_regions(group, k)
    return model.transfer(target, target_labels, reference, reference_labels, regions)


@torch.no_grad()
def regional_samples(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    group: str,
    n: int,
    mapping=None,
    cnf=None,
) -> torch.Tensor:
    """``[B, n, 3, H, W]``: ``n`` random styles of ``group`` per image; ``cnf`` must model
    the group's rows flattened (``len(group) * style_dim`` dimensions)."""
    if isinstance(model, SPADEBaseline | GroupDNetBaseline):
        return model.sample(images, labels, n, group)
    if not isinstance(model, RegionalStyleNet):
        raise ValueError(f"{type(model).__name__} has no random-style sampler")
    if (mapping is None) == (cnf is None):
        raise ValueError("pass exactly one of mapping= (Eq. 3) or cnf= (Eqs. 7-8)")
    b = images.shape[0]
    s_t = model.encode(images, labels)
    regions = group_regions(group, s_t.shape[1])
    idx = regions.nonzero()[:, 0].tolist()
    if mapping is not None:
        rows = mapping.sample(group, b * n)
    else:
        rows = cnf.sample(b * n).view(b * n, len(idx), -1)
    s_t_rep = s_t.repeat_interleave(n, 0)
    s_r = s_t_rep.clone()
    s_r[:, idx] = rows
    labels_rep = labels.repeat_interleave(n, 0)
    mixed = model.mix(s_t_rep, s_r, regions, model.present(labels_rep))
    out = model.decode(labels_rep, mixed)
    return out.view(b, n, *out.shape[1:])


def reconstruction_table(
    outputs: torch.Tensor, images: torch.Tensor, perceptual=None, with_fid: bool = True
) -> dict[str, float]:
    """PSNR, SSIM, the LPIPS substitute (unless ``perceptual`` is False) and FID."""
    from maskstyle.metrics import fid, psnr, ssim

    row = {"psnr": psnr(outputs, images), "ssim": ssim(outputs, images)}
    if perceptual is not False:
        from maskstyle.metrics.inception_perceptual import InceptionPerceptual

        perceptual = perceptual or InceptionPerceptual()
        row["lpips_substitute"] = float(perceptual(outputs, images).mean())
    if with_fid:
        row["fid"] = fid(images, outputs)
    return row


@torch.no_grad()
def per_image_psnr(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 50
) -> torch.Tensor:
    """PSNR ``[N]`` of ``model``'s reconstruction of every image, in batches."""
    from maskstyle.metrics import psnr

    return torch.cat([psnr(reconstruct(model, images[i:i + batch_size], labels[i:i + batch_size]),
                           images[i:i + batch_size], reduction="none")
                      for i in range(0, len(images), batch_size)])  # fmt: skip


def paired_difference(a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    """Mean of ``a - b`` over paired samples ``[N]`` (N >= 2) and its standard error
    ``std(a - b) / sqrt(N)`` (unbiased std): ``{"mean_difference", "stderr", "n"}``."""
    a, b = a.flatten().double(), b.flatten().double()
    if a.shape != b.shape or len(a) < 2:
        raise ValueError(f"need two paired samples of the same size >= 2, got {a.shape}, {b.shape}")
    d = a - b
    return {"mean_difference": float(d.mean()), "stderr": float(d.std() / len(d) ** 0.5),
            "n": len(d)}  # fmt: skip


def seed_study(per_face: Mapping[int, Mapping[str, torch.Tensor]]) -> pd.DataFrame:
    """Ours vs SEAN over training seeds: ``per_face[seed][method]`` is the PSNR ``[N]`` of
    that seed's model on the same ``N`` held-out faces (methods ``"ours"`` and ``"sean"``).

    One row per seed (both PSNRs and the paired ``ours - sean`` with its standard error over
    faces), then a row ``"mean"``: the PSNRs and difference averaged over seeds, with the
    standard error over seeds (``std / sqrt(S)`` of the per-seed differences; needs S >= 2)."""
    if len(per_face) < 2:
        raise ValueError(f"a seed study needs >= 2 seeds, got {sorted(per_face)}")
    rows = []
    for seed, psnrs in sorted(per_face.items()):
        missing = {"ours", "sean"} - set(psnrs)
        if missing:
            raise ValueError(f"seed {seed} lacks {sorted(missing)}; train both for every seed")
        d = paired_difference(psnrs["ours"], psnrs["sean"])
        rows.append({"seed": str(seed), "psnr_ours": float(psnrs["ours"].mean()),
                     "psnr_sean": float(psnrs["sean"].mean()),
                     "ours_minus_sean": d["mean_difference"], "stderr": d["stderr"]})  # fmt: skip
    diffs = torch.tensor([r["ours_minus_sean"] for r in rows], dtype=torch.float64)
    rows.append({
        "seed": "mean", "psnr_ours": sum(r["psnr_ours"] for r in rows) / len(rows),
        "psnr_sean": sum(r["psnr_sean"] for r in rows) / len(rows),
        "ours_minus_sean": float(diffs.mean()), "stderr": float(diffs.std() / len(diffs) ** 0.5),
    })  # fmt: skip
    return pd.DataFrame(rows)


def checkpoint_study(
    run_roots: Mapping[int, str | os.PathLike],
    images: torch.Tensor,
    labels: torch.Tensor,
    noise_seed: int = 0,
) -> pd.DataFrame:
    """Ours vs SEAN at every checkpoint both runs of a seed kept: ``run_roots[seed]`` holds
    ``ours/`` and ``sean/`` as 02_train writes them. One row per (seed, step) with both mean
    PSNRs on ``images`` and the paired ``ours - sean`` with its standard error over faces.
    How much the difference moves from one checkpoint to the next, late in training, is the
    training noise a single final pair cannot show. Every model draws the generator's noise
    inputs from ``noise_seed`` (the same draws for all; the global RNG is left untouched)."""
    from maskstyle.models.regional_style.train import load_checkpoint_model
    from maskstyle.train.checkpoint import list_checkpoints

    rows = []
    for seed, root in sorted(run_roots.items()):
        steps = [dict(list_checkpoints(Path(root) / m / "checkpoints")) for m in ("ours", "sean")]
        common = sorted(set(steps[0]) & set(steps[1]))
        if not common:
            raise FileNotFoundError(
                f"no step with a checkpoint of both ours and sean under {root}: train both "
                "with 02_train"
            )
        for step in common:
            psnr = {}
            for m in ("ours", "sean"):
                model = load_checkpoint_model(Path(root) / m, step)
                with torch.random.fork_rng():
                    torch.manual_seed(noise_seed)
                    psnr[m] = per_image_psnr(model, images, labels)
            d = paired_difference(psnr["ours"], psnr["sean"])
            rows.append({
                "seed": seed, "step": step, "psnr_ours": float(psnr["ours"].mean()),
                "psnr_sean": float(psnr["sean"].mean()),
                "ours_minus_sean": d["mean_difference"], "stderr": d["stderr"],
            })  # fmt: skip
    return pd.DataFrame(rows)


def diversity_row(samples: torch.Tensor, labels: torch.Tensor, group: str, distance=None):
    """``{"mcsd", "mocd"}`` of ``samples [B, n, 3, H, W]`` for a region group."""
    from maskstyle.metrics import mcsd_mocd
    from maskstyle.models.regional_style.data import REGION_GROUPS

    return mcsd_mocd(samples, labels, list(REGION_GROUPS[group]), distance)


def harmony_row(
    outputs: torch.Tensor, truth: torch.Tensor, labels: torch.Tensor, group: str, classifier
) -> dict[str, float]:
    """Mean harmony score and ground-truth harmony errors of transfers of ``group``."""
    from maskstyle.metrics import harmony_error, harmony_score

    region = group_mask(labels, group)
    err = harmony_error(outputs, truth, region)
    return {
        "harmony_score": float(harmony_score(classifier, outputs, region).mean()),
        "harmony_error_region": float(err["region"].mean()),
        "harmony_error_image": float(err["image"].mean()),
    }


def style_code_timing(mapping, cnf, group: str, repeats: int = 5) -> dict[str, float]:
    """Seconds to generate one style code of ``group``: mapping network vs CNF decode."""
    from maskstyle.metrics import time_call

    with torch.no_grad():
        t_map = time_call(mapping.sample, group, 1, repeats=repeats).median
        t_cnf = time_call(cnf.sample, 1, repeats=repeats).median
    return {"mapping_s": t_map, "cnf_s": t_cnf, "mapping_vs_cnf_speedup": t_cnf / t_map}


def nearest_code_distance(codes: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """Euclidean distance ``[N]`` from each code ``[N, D]`` to its nearest one in ``bank``."""
    codes, bank = codes.flatten(1), bank.flatten(1)
    if codes.shape[1] != bank.shape[1] or len(bank) == 0:
        raise ValueError(
            f"codes {tuple(codes.shape)} and a non-empty bank {tuple(bank.shape)} must share D"
        )
    return torch.cdist(codes, bank).min(1).values


def fine_tune_realism(
    cnf, rows: torch.Tensor, bank: torch.Tensor, etas, seed: int = 0
) -> list[dict[str, float]]:
    """Fig. 5's claim as a number: held-out codes ``rows`` ``[N, D]`` (one group) moved by
    ``eta`` along one random unit direction each, in three ways - in the CNF's latent
    (``"z (CNF)"``, Eqs. 7-8), directly in style space (``"style"``), and in style space by
    the same length the z move gave (``"style, z's length"``: direction alone, not size).
    Per ``(eta, space)``: ``move`` (mean ``|s' - s|``) and ``nn_ratio``, the mean distance of
    the moved codes to their nearest real code of ``bank`` (the training codes) over that of
    the unmoved held-out codes: about 1 = as close to real codes as an unseen real code."""
    from maskstyle.models.regional_style.cnf import fine_tune_style_space, random_direction

    rows, bank = rows.flatten(1), bank.flatten(1)
    d = random_direction(len(rows), rows.shape[1], torch.Generator().manual_seed(seed))
    with torch.no_grad():
        base = nearest_code_distance(rows, bank).mean()
        out = []
        for eta in etas:
            by_z = cnf.fine_tune(rows, d, eta)
            length = (by_z - rows).norm(dim=1, keepdim=True)
            moved = {"z (CNF)": by_z, "style": fine_tune_style_space(rows, d, eta),
                     "style, z's length": rows + length * d}  # fmt: skip
            for space, m in moved.items():
                ratio = nearest_code_distance(m, bank).mean() / base
                out.append({"eta": float(eta), "space": space, "nn_ratio": float(ratio),
                            "move": float((m - rows).norm(dim=1).mean())})  # fmt: skip
    return out


__all__ = [
    "checkpoint_study",
    "diversity_row",
    "fine_tune_realism",
    "nearest_code_distance",
    "paired_difference",
    "per_image_psnr",
    "harmony_row",
    "reconstruct",
    "reconstruction_table",
    "seed_study",
    "regional_samples",
    "style_code_timing",
    "transfer",
]
