"""Training the regional style models (paper Sections 3.4 and 4.2) on
:class:`maskstyle.train.Trainer`, plus the small in-process fits of the style mapping
networks (Eq. 6) and the CNF (Eqs. 7-8) on encoded style codes.

Encoder-decoder (all methods): supervised reconstruction with ``x_r = x_s``; hinge GAN with a
two-scale PatchGAN discriminator that sees ``[one_hot(m), image]`` (SPADE/SEAN), GAN
feature matching (weight 10) and VGG19 perceptual loss (weight 10) from
:mod:`maskstyle.gan`; TTUR Adam lr 1e-4 (G) / 4e-4 (D), betas (0.5, 0.999); spectral norm on
the encoder and D. SPADE/CLADE/CLADE-ICPE and GroupDNet add the VAE's KL term (0.05).
``l1`` adds an L1 reconstruction term - 0 in the paper; **our reading:** with a random-init
VGG19 (no ImageNet weights here) the perceptual loss alone is a weak signal, so the cpu
profile may set it. Methods: :data:`METHODS` (``clade_icpe`` and ``groupdnet`` included).

Command line (the notebooks launch it with ``workbook.launch_training``)::

    python -m maskstyle.models.regional_style.train --method ours --size 64 --steps 2000 \\
        --out runs/regional_style/ours

writes ``OUT/checkpoints``, ``OUT/history.csv``, ``OUT/model.pt`` and ``OUT/summary.json``
(the settings: method, architecture, data, losses, lr, seed); :func:`load_trained` rebuilds
the model; resuming with other settings raises ``SettingsMismatch`` (use ``--fresh``).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from maskstyle.data.labels import NUM_CLASSES
from maskstyle.models.regional_style.baselines import (
    GLOBAL_NORMS,
    KL_WEIGHT,
    Pix2PixHDBaseline,
    SPADEBaseline,
)
from maskstyle.models.regional_style.encoder import ENCODER_NORMS, RESOLUTIONS
from maskstyle.models.regional_style.groupdnet import GroupDNetBaseline
from maskstyle.models.regional_style.model import VARIANTS, RegionalStyleConfig, RegionalStyleNet
from maskstyle.nn.spade import NORM_KINDS
from maskstyle.train.settings import read_run_summary

METHODS = (*VARIANTS, *GLOBAL_NORMS, "pix2pixhd", "groupdnet")
LR_G, LR_D, BETAS = 1e-4, 4e-4, (0.5, 0.999)
LR_MAPPING = 2e-4
FM_WEIGHT, VGG_WEIGHT = 10.0, 10.0


class FaceWorldStyleSet(Dataset):
    """``n`` face-world faces rendered once: items ``{"image": [3, H, W], "labels": [H, W]}``."""

    def __init__(self, n: int, size: int = 64, seed: int = 0) -> None:
        from maskstyle.data.synth import SynthFaces

        faces = SynthFaces(n, size, seed)
        items = [faces[i] for i in range(n)]
        self.images = torch.stack([it["image"] for it in items])
        self.labels = torch.stack([it["mask"] for it in items]).long()
        self.provenance = faces.provenance

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"image": self.images[index], "labels": self.labels[index]}


def build_model(
    method: str,
    image_size: int = 64,
    style_dim: int = 64,
    ngf: int = 16,
    encoder_ngf: int = 16,
    num_up: int = 4,
    hidden: int = 64,
    z_dim: int = 64,
    num_classes: int = NUM_CLASSES,
    generator_norm: str = "instance",
    encoder_norm: str = "instance",
    last_scale_weight: float | None = None,
    fusion_resolution: str = "input",
) -> nn.Module:
    """One of :data:`METHODS` at the given size (defaults: the face world at 64 px).

    ``generator_norm``: the parameter-free norm inside the SEAN/SPADE/CLADE blocks
    (``"batch"``: the official generators' synchronised batch norm; ``"instance"``);
    ``encoder_norm``: ``"instance"`` (SEAN's encoder) or ``"none"`` (ours and SEAN only);
    ``last_scale_weight``: the fused encoder's initial weight of ``F_5`` (ours and its
    ablations; ``None``: equal weights); ``fusion_resolution``: where ours fuses its scales
    (Eq. 2), at the input's size (``"input"``) or at ``F_5``'s (``"last"``, as SEAN pools)."""
    if method in VARIANTS:
        config = RegionalStyleConfig(
            variant=method, num_classes=num_classes, image_size=image_size,
            style_dim=style_dim, encoder_ngf=encoder_ngf, generator_ngf=ngf, num_up=num_up,
            hidden=hidden, generator_norm=generator_norm, encoder_norm=encoder_norm,
            last_scale_weight=last_scale_weight, fusion_resolution=fusion_resolution,
        )  # fmt: skip
        return RegionalStyleNet(config)
    if method in GLOBAL_NORMS:
        return SPADEBaseline(
            method, num_classes, image_size, ngf, num_up, z_dim, ngf, hidden, generator_norm
        )
    if method == "pix2pixhd":
        return Pix2PixHDBaseline(num_classes, ngf)
    if method == "groupdnet":
        return GroupDNetBaseline(
            num_classes, image_size, ngf, num_up, z_dim, encoder_ngf, hidden, generator_norm
        )
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def build_discriminator(num_classes: int = NUM_CLASSES, ndf: int = 32, scales: int = 2):
    """SPADE's multiscale PatchGAN on ``[one_hot(m), image]``, spectral norm, instance norm."""
    from maskstyle.gan import ConvDiscriminator, MultiscaleDiscriminator

    def build() -> nn.Module:
        return ConvDiscriminator(
            in_channels=num_classes + 3, channels=(ndf, 2 * ndf, 4 * ndf), norm="instance",
            spectral=True,
        )  # fmt: skip

    return MultiscaleDiscriminator(build, num_scales=scales)


def _d_input(images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    onehot = F.one_hot(labels, num_classes).permute(0, 3, 1, 2).float()
    return torch.cat([onehot, images * 2 - 1], 1)


def train_regional_style(
    model: nn.Module,
    dataset: Dataset,
    steps: int,
    out_dir: str | os.PathLike,
    settings: dict[str, Any],
    batch_size: int = 4,
    l1: float = 0.0,
    vgg_weights: str = "random",
    vgg_layers: tuple[str, ...] | None = None,
    ndf: int = 32,
    lr_g: float = LR_G,
    lr_d: float = LR_D,
    lr_decay_start: int | None = None,
    seed: int = 0,
    fresh: bool = False,
    log_every: int = 10,
    checkpoint_every: int = 500,
    progress: bool | str = True,
):
    """Alternating D/G training (:class:`maskstyle.gan.AlternatingGANStep`); returns history.

    ``vgg_layers`` restricts the perceptual loss to some of SPADE's layers (default: all
    five, relu1_1..relu5_1, SPADE's weights); ``ndf`` is the discriminator width; ``lr_g`` /
    ``lr_d`` default to the paper's TTUR pair. ``lr_decay_start``: both learning rates stay
    constant to that step, then fall linearly to 0 at ``steps`` (SPADE/SEAN's ``niter`` /
    ``niter_decay`` schedule); ``None`` keeps them constant."""
    from maskstyle.gan import (
        AlternatingGANStep,
        PerceptualLoss,
        discriminator_loss,
        feature_matching_loss,
        generator_loss,
        linear_decay_schedule,
        ttur_pair,
    )
    from maskstyle.gan.perceptual import SPADE_LAYER_WEIGHTS
    from maskstyle.train import ResumableLoader, ResumableSampler, Trainer

    num_classes = getattr(model, "num_classes", None) or model.config.num_classes
    disc = build_discriminator(num_classes, ndf)
    unknown = sorted(set(vgg_layers or ()) - set(SPADE_LAYER_WEIGHTS))
    if unknown:
        raise ValueError(f"unknown VGG layers {unknown}; choose from {list(SPADE_LAYER_WEIGHTS)}")
    layers = None if vgg_layers is None else {k: SPADE_LAYER_WEIGHTS[k] for k in vgg_layers}
    vgg = PerceptualLoss(layer_weights=layers, weights=vgg_weights, seed=seed)
    vgg.requires_grad_(False)
    opt_g, opt_d = ttur_pair(model.parameters(), disc.parameters(), lr_g, lr_d, betas=BETAS)
    schedulers = {}
    if lr_decay_start is not None:
        if not 0 <= lr_decay_start < steps:
            raise ValueError(
                f"lr_decay_start must lie in [0, steps={steps}), got {lr_decay_start}; omit it "
                "for a constant learning rate"
            )
        schedulers = {
            "g": linear_decay_schedule(opt_g, lr_decay_start, steps),
            "d": linear_decay_schedule(opt_d, lr_decay_start, steps),
        }
    loader = ResumableLoader(
        DataLoader(dataset, batch_size=batch_size, sampler=ResumableSampler(dataset, seed=seed))
    )
    cache: dict[str, torch.Tensor] = {}

    def generate(batch) -> tuple[torch.Tensor, torch.Tensor]:
        out = model(batch["image"], batch["labels"])
        return out if isinstance(out, tuple) else (out, torch.zeros(()))

    def d_loss(batch):
        fake, kl = generate(batch)  # kept for the G step of this iteration
        cache["fake"], cache["kl"] = fake, kl
        labels = batch["labels"]
        real_scores = disc(_d_input(batch["image"], labels, num_classes))
        fake_scores = disc(_d_input(fake.detach(), labels, num_classes))
        loss = discriminator_loss(real_scores, fake_scores, kind="hinge")
        return loss, {"d_hinge": loss}

    def g_loss(batch):
        fake, kl = cache.pop("fake"), cache.pop("kl")
        labels, real = batch["labels"], batch["image"]
        fake_scores, fake_feats = disc(_d_input(fake, labels, num_classes), return_features=True)
        with torch.no_grad():
            _, real_feats = disc(_d_input(real, labels, num_classes), return_features=True)
        adv = generator_loss(fake_scores, kind="hinge")
        fm = feature_matching_loss(real_feats, fake_feats) / len(fake_feats)
        perc = vgg(fake, real)
        rec = (fake - real).abs().mean()
        total = adv + FM_WEIGHT * fm + VGG_WEIGHT * perc + l1 * rec + KL_WEIGHT * kl
        return total, {"g_hinge": adv, "feat_match": fm, "vgg": perc, "l1": rec, "kl": kl}

    step_fn = AlternatingGANStep(
        d_loss=d_loss, g_loss=g_loss, d_optimizer=opt_d, g_optimizer=opt_g,
        discriminators=[disc],
    )  # fmt: skip
    trainer = Trainer(
        models={"model": model, "discriminator": disc},
        optimizers={"g": opt_g, "d": opt_d},
        step_fn=step_fn,
        schedulers=schedulers,
        data=loader,
        total_steps=steps,
        out_dir=out_dir,
        log_every=log_every,
        checkpoint_every=checkpoint_every,
        progress=progress,
        settings=settings,
        fresh=fresh,
        extra={"paper": "harmonized-regional-style-transfer", "vgg": vgg.provenance},
    )
    history = trainer.run()
    model.eval()
    return history


def train_style_mapping(
    mapping,
    styles: torch.Tensor,
    present: torch.Tensor,
    steps: int = 500,
    batch_size: int = 32,
    lr: float = LR_MAPPING,
    progress: bool = True,
) -> list[dict[str, float]]:
    """Fit every group's mapping network against its style-space discriminator (Eq. 6) on
    encoded style matrices ``styles [N, K, D]`` (``present [N, K]``); lr 2e-4 (paper)."""
    from tqdm.auto import trange

    betas = (0.0, 0.99)  # StarGAN-v2's mapping network optimiser
    opt_m = torch.optim.Adam(mapping.mappings.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(mapping.discriminators.parameters(), lr=lr, betas=betas)
    reals = {g: mapping.real_rows(styles.detach(), g, present) for g in mapping.groups}
    for g, rows in reals.items():
        if len(rows) < 2:
            raise ValueError(f"group {g!r} is present in fewer than 2 images; cannot fit it")
    history = []
    for _ in trange(steps, disable=not progress, desc="style mapping (Eq. 6)"):
        terms = {}
        for g, rows in reals.items():
            batch = rows[torch.randint(0, len(rows), (batch_size,))]
            d_loss, _ = mapping.losses(batch, g)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            _, g_loss = mapping.losses(batch, g)
            opt_m.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_m.step()
            terms[f"{g}_d"], terms[f"{g}_g"] = float(d_loss.detach()), float(g_loss.detach())
        history.append(terms)
    return history


def train_cnf(
    cnf,
    codes: torch.Tensor,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 1e-3,
    progress: bool = True,
) -> list[float]:
    """Maximum likelihood (Hutchinson trace) on style codes ``[N, dim]``; returns the
    negative log-likelihood per step. The flow's whitening is set from ``codes``
    first (:meth:`StyleCNF.set_whitening`)."""
    from tqdm.auto import trange

    codes = codes.detach().flatten(1)
    cnf.set_whitening(codes)
    opt = torch.optim.Adam(cnf.parameters(), lr=lr)
    history = []
    for _ in trange(steps, disable=not progress, desc="CNF (Eqs. 7-8)"):
        batch = codes[torch.randint(0, len(codes), (min(batch_size, len(codes)),))]
        nll = -cnf.log_prob(batch).mean()
        opt.zero_grad(set_to_none=True)
        nll.backward()
        opt.step()
        history.append(float(nll.detach()))
    return history


def _model_from_settings(settings: dict) -> nn.Module:
    """An untrained model with the architecture a run's settings record."""
    architecture = dict(settings["architecture"])
    # runs saved before fusion_resolution existed fused at F_5's size
    architecture.setdefault("fusion_resolution", "last")
    return build_model(settings["method"], **architecture)


def load_trained(out_dir: str | os.PathLike) -> nn.Module:
    """Rebuild the model a :func:`main` run saved in ``out_dir`` (summary + model.pt)."""
    summary, weights_path = read_run_summary(
        out_dir, "model.pt", "python -m maskstyle.models.regional_style.train"
    )
    model = _model_from_settings(summary["settings"])
    model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    model.provenance = summary["weights"]
    return model.eval()


def load_checkpoint_model(out_dir: str | os.PathLike, step: int) -> nn.Module:
    """The model of a :func:`main` run as it was at ``step`` (one of its saved checkpoints;
    the trainer keeps the last three), in eval mode."""
    from maskstyle.train.checkpoint import list_checkpoints, load_checkpoint

    out_dir = Path(out_dir)
    settings_path = out_dir / "settings.json"
    if not settings_path.is_file():
        raise FileNotFoundError(
            f"no training run in {out_dir} (settings.json missing): train first with "
            "python -m maskstyle.models.regional_style.train"
        )
    settings = json.loads(settings_path.read_text())
    found = dict(list_checkpoints(out_dir / "checkpoints"))
    if step not in found:
        raise FileNotFoundError(
            f"{out_dir} has no checkpoint of step {step}; saved steps: {sorted(found)}"
        )
    model = _model_from_settings(settings)
    load_checkpoint(found[step], {"model": model}, restore_rng=False)
    model.provenance = f"{settings['method']} at step {step} of {out_dir.name}"
    return model.eval()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a regional style model on the face world.")
    p.add_argument("--method", default="ours", choices=METHODS)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", type=int, default=64, help="image size (px)")
    p.add_argument("--faces", type=int, default=200, help="face-world training faces")
    p.add_argument("--style-dim", type=int, default=64, help="style code size (paper: 512)")
    p.add_argument("--ngf", type=int, default=16, help="generator width (paper: 64)")
    p.add_argument("--encoder-ngf", type=int, default=16, help="style encoder width (32)")
    p.add_argument("--num-up", type=int, default=4, help="generator up-blocks (paper: 5)")
    p.add_argument(
        "--generator-norm", default="instance", choices=NORM_KINDS,
        help="parameter-free norm in the generator's blocks (official SPADE/SEAN: batch)",
    )  # fmt: skip
    p.add_argument(
        "--encoder-norm", default="instance", choices=ENCODER_NORMS,
        help="ours/SEAN style encoder's norm (SEAN: instance)",
    )  # fmt: skip
    p.add_argument(
        "--last-scale-weight", type=float, default=None,
        help="ours: initial fusion weight of the last encoder scale (default: equal weights)",
    )  # fmt: skip
    p.add_argument(
        "--fusion-resolution", default="input", choices=RESOLUTIONS,
        help="ours: Eq. 2's unified size, the input's or F_5's ('last', SEAN's pooling size)",
    )  # fmt: skip
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--l1", type=float, default=0.0, help="L1 reconstruction weight (paper 0)")
    p.add_argument("--vgg-weights", default="random", help="VGG19: random|imagenet|path")
    p.add_argument(
        "--vgg-layers", default=None,
        help="comma-separated VGG layers for the perceptual loss (default: relu1_1..relu5_1)",
    )  # fmt: skip
    p.add_argument("--ndf", type=int, default=32, help="discriminator width (SPADE: 64)")
    p.add_argument("--lr-g", type=float, default=LR_G, help="generator/encoder lr (paper 1e-4)")
    p.add_argument("--lr-d", type=float, default=LR_D, help="discriminator lr (paper 4e-4)")
    p.add_argument(
        "--lr-decay-start", type=int, default=None,
        help="step from which both lrs fall linearly to 0 at --steps (default: constant)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="init, batch order, VGG (and data)")
    p.add_argument(
        "--data-seed", type=int, default=None,
        help="face-world training faces (default: --seed); fix it to vary the init only",
    )  # fmt: skip
    p.add_argument("--fresh", action="store_true", help="discard checkpoints in --out")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument(
        "--threads", type=int, default=None,
        help="torch intra-op threads (1 is fastest on a loaded 2-core machine)",
    )  # fmt: skip
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    from maskstyle.utils.seed import seed_everything

    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    architecture = {
        "image_size": args.size, "style_dim": args.style_dim, "ngf": args.ngf,
        "encoder_ngf": args.encoder_ngf, "num_up": args.num_up, "hidden": 4 * args.ngf,
        "z_dim": args.style_dim, "generator_norm": args.generator_norm,
        "encoder_norm": args.encoder_norm, "fusion_resolution": args.fusion_resolution,
        **({"last_scale_weight": args.last_scale_weight}
           if args.last_scale_weight is not None else {}),
    }  # fmt: skip
    model = build_model(args.method, **architecture)
    vgg_layers = None if args.vgg_layers is None else tuple(args.vgg_layers.split(","))
    data_seed = args.seed if args.data_seed is None else args.data_seed
    dataset = FaceWorldStyleSet(args.faces, args.size, data_seed)
    settings = {
        "method": args.method, "architecture": architecture, "data": dataset.provenance,
        "batch_size": args.batch_size, "l1": args.l1, "fm": FM_WEIGHT, "vgg": VGG_WEIGHT,
        "vgg_weights": args.vgg_weights, "vgg_layers": vgg_layers, "ndf": args.ndf,
        "lr_g": args.lr_g, "lr_d": args.lr_d, "seed": args.seed,
        **({"data_seed": args.data_seed} if args.data_seed is not None else {}),
        **({"lr_decay_start": args.lr_decay_start} if args.lr_decay_start is not None else {}),
    }  # fmt: skip
    history = train_regional_style(
        model, dataset, args.steps, args.out, settings, batch_size=args.batch_size,
        l1=args.l1, vgg_weights=args.vgg_weights, vgg_layers=vgg_layers, ndf=args.ndf,
        lr_g=args.lr_g, lr_d=args.lr_d, lr_decay_start=args.lr_decay_start, seed=args.seed,
        fresh=args.fresh,
        log_every=args.log_every, checkpoint_every=args.checkpoint_every,
    )  # fmt: skip
    frame = history.to_frame()
    summary = {
        "settings": settings,
        "steps": args.steps,
        "weights": (
            f"{args.method} trained {args.steps} steps on {args.faces} face-world faces at "
            f"{args.size} px; VGG19 {args.vgg_weights} (seed {args.seed})"
        ),
        "final": {
            k: float(frame[k].iloc[-1]) for k in frame.columns if k not in ("step", "wall_time")
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out / "model.pt")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
