"""Training LOMIT (Section 4, appendix 7.2) on :class:`maskstyle.train.Trainer`.

One trainer step is one critic (D) update with ``L_D`` of Eq. 16; after every ``g_every = 5``
D updates, the encoders, co-segmentation networks, MLPs and decoder take one ``L_G`` step
("we update {E_c, E_s^f, E_s^b, G} in every five updates of D", official code: D every
iteration, G every 5th). Both use Adam (lr 1e-4, betas (0.5, 0.999)) and the appendix's
schedule (:func:`~maskstyle.models.lomit.losses.lr_factor`: constant, then halved at
``decay_start`` and every ``decay_every`` steps). The discriminator is StarGAN's
(:class:`maskstyle.gan.StarGANDiscriminator`: six 4x4 stride-2 convs, source and class heads),
initialised from a normal distribution (std 0.02); the rest gets He initialisation.

``cls_warmup`` (default 0, the paper's schedule) adds that many steps before the GAN steps in
which only the critic learns, on Eq. 11 alone (its class head on real faces' labels). On a
short budget this matters: the critic's class head is near chance for hundreds of steps, so
Eq. 12 gives G no reason to use the exemplar's style, and the foreground style codes collapse
to one point (``r2`` near 0). ``steps`` counts the warm-up steps too.

``rec_warmup`` (default 0) adds that many steps after the class-head warm-up in which only
the generator learns, on Eq. 9 alone (each face rebuilt from its own codes), so the GAN steps
start from an autoencoder that draws faces rather than from noise. (In the probes of
``notebooks/lomit/cpu.yaml``: 1000 such steps draw the ground truths at a rendering ceiling of
0.50, which 1000 GAN steps then lower to 0.41.) ``rec_lr`` (default ``None``: ``lr``) sets G's
lr in those steps only: an autoencoder on Eq. 9 alone trains stably at a higher lr than the
GAN that follows it (:func:`generator_schedule`).

``cls_trunk`` (default ``"shared"``, the paper's D) set to ``"separate"`` gives the attribute
classifier D_cls its own StarGAN trunk (:class:`SeparateClassifierCritic`): Eq. 11 then trains
it alone, undisturbed by the WGAN-GP critic's Eq. 10, and G's Eq. 12 reads its logits.
``"normalised"`` does the same with batch norm after each of that trunk's convs (the critic
keeps none: its gradient penalty is per sample). ``cls_lr`` (default ``None``: ``lr``) sets
the lr of such a separate classifier only. Not the paper: built because on the face world's
small attributes (a smile, lipstick: a few pixels at 64 px) the paper's plain trunk stays near
the base rates for thousands of steps, so Eq. 12 cannot teach them. Measured in
``notebooks/lomit/cpu.yaml``: neither option helps there. A separate trunk fits the training
faces' labels (Eq. 11 0.5-1.0 nats) without reading a smile on held-out faces, and the critic
without the class task sharing its trunk grows much stronger and blurs what G draws.

A logged row holds the D terms of its step and, on steps that update G (multiples of
``g_every``), the G terms; keep ``log_every`` a multiple of ``g_every`` to log both. Command line::

    python -m maskstyle.models.lomit.train --steps 200 --out runs/lomit/train --image-size 32

``--fresh`` discards an earlier run in ``--out``; resuming with other settings raises
:class:`maskstyle.train.SettingsMismatch`. ``--data-root DIR`` trains on CelebA (LOMIT's
protocol) instead of the face world. ``--branch-from RUN`` starts a run that differs from RUN
only in GAN-phase weights (an R1-R3 ablation) from RUN's checkpoint at the end of the warm-ups
(:func:`branch_from_warmups`), since it would repeat them exactly. :func:`load_trained`
rebuilds the trained networks.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from maskstyle.models.lomit.losses import (
    BETAS,
    G_EVERY,
    LEARNING_RATE,
    LossWeights,
    classification_loss,
    discriminator_losses,
    generator_losses,
    image_reconstruction,
    lr_factor,
)
from maskstyle.models.lomit.model import LOMIT, LOMITConfig
from maskstyle.train.config_cli import (
    add_config_arguments,
    config_from_args,
    config_from_mapping,
)

CLS_TRUNKS = ("shared", "separate", "normalised")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a trained LOMIT (stored as the run's settings)."""

    image_size: int = 128  # Sec. 5.1: 128 x 128
    dim: int = 64  # appendix 7.1 (MUNIT widths)
    n_res: int = 4  # appendix 7.1: four residual blocks
    n_down: int = 2  # appendix 7.1: two stride-2 convs in E_c (two upsamplings in G)
    mlp_dim: int = 256  # HAdaIN MLP width
    mask_dim: int = 64  # co-segmentation conv width
    d_dim: int = 64  # discriminator's first width (StarGAN)
    d_layers: int = 6  # appendix 7.1: six strided convs
    use_masks: bool = True  # False: the global AdaIN (MUNIT-style) baseline
    attention: bool = True  # False: ablation without the co-segmentation gate
    faces: int = 2000  # face-world faces rendered for training (ignored with data_root)
    background: str = "random"  # face-world backgrounds: "random" or "plain" (data.BACKGROUNDS)
    framing: str = "portrait"  # face-world framing: "portrait" or "face" (data.FRAMINGS)
    data_root: str | None = None  # CelebA folder (paper profile); None: the face world
    batch_size: int = 8  # appendix 7.2
    lr: float = LEARNING_RATE  # appendix 7.2
    g_every: int = G_EVERY  # appendix 7.2: G every five D updates
    decay_start: int = 100_000  # appendix 7.2: halve the lr from 100k ...
    decay_every: int = 10_000  # ... every 10k iterations
    w_cls: float = 1.0  # lambda_cls (Eq. 16)
    w_style_content: float = 1.0  # lambda_{s,c}
    w_x: float = 10.0  # lambda_x
    w_r1: float = 0.1  # lambda_1
    w_r2: float = 0.01  # lambda_2
    w_r3: float = 1e-4  # lambda_3
    w_gp: float = 10.0  # lambda_gp (Eq. 10)
    cls_warmup: int = 0  # critic steps on Eq. 11 alone (real faces' labels) before the GAN steps
    cls_trunk: str = "shared"  # D_cls on the critic's trunk (paper), "separate" or "normalised"
    cls_lr: float | None = None  # lr of a separate D_cls (None: ``lr``)
    rec_warmup: int = 0  # G steps on Eq. 9 alone after the class-head warm-up, before the GAN
    rec_lr: float | None = None  # G's lr in those steps (None: ``lr``)
    r1_reduction: str = "mean"  # Eq. 13 read as a mean over pixel pairs ("sum": literal)
    flip: bool = True  # horizontal flip, p = 0.5 (appendix 7.2)
    seed: int = 0
    profile: str = "cli"  # which workbook profile asked for this run

    def __post_init__(self) -> None:
        """Reject the settings no run can use, naming the field and the fix (one place for
        the checks, so the CLI, the notebooks and the trainers all get them)."""
        from maskstyle.models.lomit.data import check_face_world_options

        check_face_world_options(self.background, self.framing)
        if self.cls_trunk not in CLS_TRUNKS:
            raise ValueError(f"cls_trunk must be one of {CLS_TRUNKS}, got {self.cls_trunk!r}")
        for name, what in (("cls_warmup", "critic warm-up steps on Eq. 11"),
                           ("rec_warmup", "generator warm-up steps on Eq. 9")):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 ({what}), got {getattr(self, name)}")
        for name in ("cls_lr", "rec_lr"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a positive learning rate or None (= lr), "
                                 f"got {value}")  # fmt: skip
        if self.cls_lr is not None and self.cls_trunk == "shared":
            raise ValueError(
                f"cls_lr = {self.cls_lr} needs a classifier of its own: set cls_trunk to "
                f"'separate' or 'normalised' (with 'shared' the critic and D_cls share weights)"
            )

    def model_config(self) -> LOMITConfig:
        return LOMITConfig(image_size=self.image_size, dim=self.dim, n_res=self.n_res,
                           n_down=self.n_down, mlp_dim=self.mlp_dim, mask_dim=self.mask_dim,
                           use_masks=self.use_masks, attention=self.attention)  # fmt: skip

    def weights(self) -> LossWeights:
        return LossWeights(cls=self.w_cls, style_content=self.w_style_content, x=self.w_x,
                           r1=self.w_r1, r2=self.w_r2, r3=self.w_r3, gp=self.w_gp)  # fmt: skip

    def settings(self) -> dict[str, Any]:
        return {"paper": "lomit", **asdict(self)}

    def phase_steps(self, steps: int) -> dict[str, int]:
        """How ``steps`` trainer steps split: class-head warm-up, reconstruction warm-up, GAN
        D steps and the G steps among them (the order :class:`LOMITStep` runs them in)."""
        cls = min(steps, self.cls_warmup)
        rec = min(steps - cls, self.rec_warmup)
        gan = steps - cls - rec
        return {"cls_warmup": cls, "rec_warmup": rec, "d": gan, "g": gan // self.g_every}


class SeparateClassifierCritic(nn.Module):
    """``x -> (D_src, D_cls)`` from two StarGAN networks: the critic's source head and the class
    head of a second network with its own trunk (``cls_trunk="separate"``, or ``"normalised"``:
    that trunk with batch norm).

    The paper's D shares one trunk between the WGAN-GP critic and the attribute classifier.
    Here Eq. 11 trains only ``classifier`` and Eq. 10 (with its gradient penalty) only
    ``critic``; the losses are unchanged, as they read ``D(x) -> (src, cls)``. Built to test
    whether the shared trunk's weak class head (Eq. 11 near 2.5-2.9 nats an image over the 10
    attributes on the cpu budget, 5.4 at the base rates) holds translation accuracy down: in
    the probes of ``notebooks/lomit/cpu.yaml`` its own trunk learned no faster and CA did not
    rise; with batch norm and lr 1e-3 (``"normalised"``, ``cls_lr``) it fits the training faces
    but still cannot tell a smile on held-out ones, and the critic alone (its WGAN estimate
    -3 to -4.6 against the shared D's -0.4 to -0.5) blurs G's faces within 250 GAN steps.
    """

    def __init__(self, critic: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        self.critic, self.classifier = critic, classifier  # critic.cls: unused, never updated

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.critic(x)[0], self.classifier(x)[1]


def build_discriminator(config: TrainConfig, num_classes: int) -> nn.Module:
    """StarGAN's discriminator; weights ~ N(0, 0.02) (appendix 7.2: "normal distribution").

    ``config.cls_trunk == "separate"`` / ``"normalised"``: a :class:`SeparateClassifierCritic`
    of two of them (the classifier's trunk with batch norm for ``"normalised"``)."""
    from maskstyle.gan.discriminators import StarGANDiscriminator

    layers = config.d_layers
    if config.image_size % 2**layers:
        raise ValueError(
            f"image_size {config.image_size} is not divisible by 2**d_layers = {2**layers}: "
            f"lower d_layers (e.g. {max(1, config.image_size.bit_length() - 2)})"
        )

    def stargan(norm: str = "none") -> nn.Module:
        d = StarGANDiscriminator(config.image_size, num_classes, config.d_dim, layers, norm=norm)
        for module in d.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        return d

    if config.cls_trunk == "separate":
        return SeparateClassifierCritic(stargan(), stargan())
    if config.cls_trunk == "normalised":
        return SeparateClassifierCritic(stargan(), stargan("batch"))
    return stargan()


def discriminator_param_groups(discriminator: nn.Module, config: TrainConfig) -> list[dict]:
    """D's parameters for Adam: one group at ``lr``, or with ``cls_lr`` set, the separate
    classifier's parameters in a second group at ``cls_lr``."""
    if config.cls_lr is None:
        return [{"params": list(discriminator.parameters())}]
    if not isinstance(discriminator, SeparateClassifierCritic):  # TrainConfig checked cls_trunk
        raise ValueError(f"cls_lr = {config.cls_lr} needs a SeparateClassifierCritic, got "
                         f"{type(discriminator).__name__}: build D with build_discriminator")
    return [{"params": list(discriminator.critic.parameters())},
            {"params": list(discriminator.classifier.parameters()), "lr": config.cls_lr}]


def build_data(config: TrainConfig, split: str = "train", progress: bool = False,
               n: int | None = None):  # fmt: skip
    """The domain faces of a run: the face world (seeded; ``n`` faces, default
    ``config.faces``; the test split uses seed + 10000) or CelebA (``data_root``)."""
    from maskstyle.models.lomit.data import CelebADomains, FaceWorldDomains

    if config.data_root is not None:
        return CelebADomains(config.data_root, split=split, size=config.image_size)
    seed = config.seed if split == "train" else config.seed + 10_000
    return FaceWorldDomains(n or config.faces, config.image_size, seed, progress=progress,
                            background=config.background, framing=config.framing)  # fmt: skip


class LOMITStep:
    """``step_fn`` for the Trainer: D every step, G after every ``g_every`` D updates."""

    def __init__(self, model: LOMIT, discriminator: nn.Module, g_opt, d_opt,
                 config: TrainConfig, device: torch.device) -> None:  # fmt: skip
        from maskstyle.gan.step import AlternatingGANStep

        weights = config.weights()
        self.device = device
        self.discriminator, self.d_opt = discriminator, d_opt
        self.warmup, self.w_cls = config.cls_warmup, weights.cls
        self.model, self.g_opt = model, g_opt
        self.rec_warmup, self.w_x = config.rec_warmup, weights.x

        def d_loss(batch):
            return discriminator_losses(model, discriminator, batch, weights)

        def g_loss(batch):
            return generator_losses(model, discriminator, batch, weights, config.r1_reduction)

        self.gan = AlternatingGANStep(d_loss=d_loss, g_loss=g_loss, d_optimizer=d_opt,
                                      g_optimizer=g_opt, discriminators=[discriminator],
                                      n_critic=1, g_every=config.g_every)  # fmt: skip

    def classifier_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """One warm-up update of the critic's class head and trunk: Eq. 11 on both real faces."""
        self.d_opt.zero_grad(set_to_none=True)
        loss = batch["x1"].new_zeros(())
        for x, y in ((batch["x1"], batch["y1"]), (batch["x2"], batch["y2"])):
            # Eq. 11: E[-log D_cls(y_x | x)] on real images
            loss = loss + classification_loss(self.discriminator(x)[1], y)
        (self.w_cls * loss).backward()
        self.d_opt.step()
        return {"d_cls_real": loss.detach()}

    def reconstruction_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """One warm-up update of the generator: Eq. 9 alone (both faces rebuilt from their own
        content, mask and styles); the critic rests."""
        self.g_opt.zero_grad(set_to_none=True)
        e1, e2 = self.model.encode_pair(batch["x1"], batch["x2"])
        loss = batch["x1"].new_zeros(())
        for x, e in ((batch["x1"], e1), (batch["x2"], e2)):
            # Eq. 9: ||x11 - x1||_1
            x_same = self.model.decode(e.content, e.mask, e.style_f, e.style_b)
            loss = loss + image_reconstruction(x_same, x)
        (self.w_x * loss).backward()
        self.g_opt.step()
        return {"g_rec": loss.detach()}

    def __call__(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        batch = {k: v.to(self.device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        if step < self.warmup:
            return self.classifier_step(batch)
        if step < self.warmup + self.rec_warmup:
            return self.reconstruction_step(batch)
        # G after the 5th, 10th, ... D update of the GAN phase
        return self.gan(batch, step + 1 - self.warmup - self.rec_warmup)


def generator_schedule(config: TrainConfig):
    """G's lr factor at trainer step ``t`` (LambdaLR): the appendix's schedule, times
    ``rec_lr / lr`` in the reconstruction warm-up (an autoencoder takes a larger lr than the
    GAN that follows it)."""
    first, last = config.cls_warmup, config.cls_warmup + config.rec_warmup

    def factor(t: int) -> float:
        base = lr_factor(t, config.decay_start, config.decay_every)
        if config.rec_lr is not None and first <= t < last:
            return base * config.rec_lr / config.lr
        return base

    return factor


# TrainConfig fields that only the GAN phase reads (Eqs. 10-16 weights, G's cadence): two runs
# that differ in nothing else run identical warm-ups, step for step.
GAN_PHASE_FIELDS = frozenset({"w_r1", "w_r2", "w_r3", "w_gp", "w_style_content", "g_every",
                              "r1_reduction"})  # fmt: skip


def branch_from_warmups(source: str | os.PathLike, out_dir: str | os.PathLike,
                        config: TrainConfig) -> Path | None:  # fmt: skip
    """Start the run in ``out_dir`` from ``source``'s checkpoint at the end of the warm-ups.

    The class-head and reconstruction warm-ups (``cls_warmup + rec_warmup`` steps) read none of
    :data:`GAN_PHASE_FIELDS`, so a run that differs from ``source`` only there (an ablation of
    R1, R2 or R3) would repeat ``source``'s warm-ups exactly: same data order, same updates. Its
    checkpoint at that step is copied (:func:`maskstyle.train.branch_checkpoint`) with this
    run's settings, with the loss history up to it, and training continues from there. Returns
    the copied checkpoint, or ``None`` (the run trains its warm-ups itself) when there are no
    warm-ups, ``out_dir`` already holds a checkpoint (it resumes its own), or ``source`` has no
    checkpoint at that step. Settings that the warm-ups read and that differ are an error.
    """
    from maskstyle.train import (
        LossHistory,
        branch_checkpoint,
        latest_checkpoint,
        list_checkpoints,
        read_settings,
    )
    from maskstyle.train.settings import settings_differences, write_settings_file

    source, out_dir = Path(source), Path(out_dir)
    step = config.cls_warmup + config.rec_warmup
    if step == 0 or latest_checkpoint(out_dir / "checkpoints") is not None:
        return None
    at = dict(list_checkpoints(source / "checkpoints")).get(step) if source.is_dir() else None
    if at is None:
        return None
    differences = settings_differences(read_settings(at), config.settings())
    shared = sorted(set(differences) - GAN_PHASE_FIELDS)
    if shared:
        raise ValueError(
            f"cannot branch from {source}: its warm-ups differ from this run's in {shared} "
            f"({ {k: differences[k] for k in shared} }); train this run from scratch (no "
            f"--branch-from), or branch from a run that differs only in {sorted(GAN_PHASE_FIELDS)}"
        )
    path = branch_checkpoint(at, out_dir / "checkpoints", settings=config.settings(),
                             note=f"{source.name} at step {step} (end of its warm-ups)")
    history = LossHistory.load(source / "history.csv")  # read only: the source keeps all rows
    history.path = out_dir / "history.csv"  # without a checkpoint, a history there is stale
    history.truncate(step)  # rewrites the new path
    write_settings_file(out_dir, config.settings())
    return path


def train_lomit(
    config: TrainConfig,
    steps: int,
    out_dir: str | os.PathLike,
    *,
    log_every: int = 10,
    checkpoint_every: int = 1000,
    progress: bool | str = True,
    fresh: bool = False,
    device: str | torch.device = "cpu",
    faces=None,
    keep_last: int | None = 3,
    branch_from: str | os.PathLike | None = None,
):
    """Train for ``steps`` D updates; returns ``(model, discriminator, history)``.

    ``branch_from``: another run whose warm-ups this one shares (:func:`branch_from_warmups`).
    """
    from maskstyle.models.lomit.data import DomainPairs
    from maskstyle.train import ResumableLoader, ResumableSampler, Trainer
    from maskstyle.utils.seed import seed_everything

    if branch_from is not None:
        if fresh:
            raise ValueError("fresh=True and branch_from together: the fresh run would discard "
                             "the branched checkpoint; pass one of them")
        branched = branch_from_warmups(branch_from, out_dir, config)
        if branched is not None:
            print(f"branched from {Path(branch_from).name}: starting at {branched.name}",
                  flush=True)
    seed_everything(config.seed)
    device = torch.device(device)
    faces = faces if faces is not None else build_data(config, progress=bool(progress))
    pairs = DomainPairs(faces, seed=config.seed, flip=config.flip)
    model = LOMIT(config.model_config()).to(device)
    discriminator = build_discriminator(config, faces.labels.shape[1]).to(device)
    g_opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=BETAS)
    d_opt = torch.optim.Adam(discriminator_param_groups(discriminator, config), lr=config.lr,
                             betas=BETAS)  # fmt: skip
    schedule = lambda t: lr_factor(t, config.decay_start, config.decay_every)  # noqa: E731
    schedulers = {"g_lr": torch.optim.lr_scheduler.LambdaLR(g_opt, generator_schedule(config)),
                  "d_lr": torch.optim.lr_scheduler.LambdaLR(d_opt, schedule)}  # fmt: skip
    loader = ResumableLoader(DataLoader(pairs, batch_size=config.batch_size, drop_last=True,
                                        sampler=ResumableSampler(pairs, seed=config.seed)))
    step_fn = LOMITStep(model, discriminator, g_opt, d_opt, config, device)
    trainer = Trainer(
        models={"lomit": model, "discriminator": discriminator},
        optimizers={"g": g_opt, "d": d_opt},
        schedulers=schedulers,
        step_fn=step_fn,
        data=loader,
        total_steps=steps,
        out_dir=out_dir,
        log_every=log_every,
        checkpoint_every=checkpoint_every,
        keep_last=keep_last,
        progress=progress,
        settings=config.settings(),
        fresh=fresh,
        extra={"data": getattr(faces, "provenance", type(faces).__name__)},
    )
    with warnings.catch_warnings():  # G's scheduler steps before G's first update (step 5)
        warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
        history = trainer.run()
    model.eval()
    discriminator.eval()
    model.data_provenance = getattr(faces, "provenance", type(faces).__name__)
    return model, discriminator, history


def _newest_checkpoint(out_dir: str | os.PathLike) -> Path:
    """The newest checkpoint file of the run in ``out_dir``; a clear error if it has none."""
    from maskstyle.train import latest_checkpoint

    out_dir = Path(out_dir)
    path = latest_checkpoint(out_dir / "checkpoints")
    if path is None:
        raise FileNotFoundError(
            f"no checkpoint in {out_dir / 'checkpoints'}: run `python -m "
            f"maskstyle.models.lomit.train --out {out_dir} ...` first"
        )
    return path


def load_trained(
    out_dir: str | os.PathLike, expected: dict[str, Any] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[LOMIT, TrainConfig, int]:  # fmt: skip
    """The trained LOMIT of the run in ``out_dir`` (newest checkpoint), its config and step.

    ``expected``: settings the caller needs (checked with :func:`maskstyle.train.check_settings`).
    """
    from maskstyle.train import check_settings, load_checkpoint, read_settings

    out_dir = Path(out_dir)
    settings = check_settings(out_dir, expected) if expected else read_settings(out_dir)
    if settings is None:
        raise FileNotFoundError(f"{out_dir} has no recorded settings: train it first")
    config = config_from_mapping(TrainConfig, settings)
    model = LOMIT(config.model_config())
    resumed = load_checkpoint(_newest_checkpoint(out_dir), {"lomit": model}, restore_rng=False)
    return model.to(device).eval(), config, resumed.step


def load_trained_critic(out_dir: str | os.PathLike, config: TrainConfig, num_classes: int,
                        device: str | torch.device = "cpu") -> nn.Module:  # fmt: skip
    """The critic ``D`` (source and class heads) of the newest checkpoint of the run in
    ``out_dir``, trained with ``config`` on ``num_classes`` attributes."""
    from maskstyle.train import load_checkpoint

    discriminator = build_discriminator(config, num_classes)
    load_checkpoint(_newest_checkpoint(out_dir), {"discriminator": discriminator},
                    restore_rng=False)  # fmt: skip
    return discriminator.to(device).eval()


def _weights_line(config: TrainConfig, steps: int) -> str:
    n = config.phase_steps(steps)
    head = f"{n['cls_warmup']} class-head warm-up steps, then " if n["cls_warmup"] else ""
    head += f"{n['rec_warmup']} reconstruction warm-up steps, then " if n["rec_warmup"] else ""
    return (f"LOMIT trained here: {head}{n['d']} D steps ({n['g']} G steps), "
            f"{config.profile} profile")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train LOMIT (or the global AdaIN baseline).")
    parser.add_argument("--steps", type=int, required=True, help="D updates (G: every g_every)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--keep-last", type=int, default=3, help="checkpoints kept (0: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--fresh", action="store_true", help="discard an earlier run in --out")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--branch-from", type=Path, default=None,
                        help="a run whose warm-ups this one shares (it differs only in "
                             "GAN-phase weights): start from its checkpoint at their end")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0: torch's default); 1 avoids OpenMP spinning "
                             "when small networks share a loaded CPU")  # fmt: skip
    add_config_arguments(parser, TrainConfig)  # one flag per field (--no-<flag> for booleans)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Command-line run; writes ``OUT/summary.json`` (data, weights, final losses)."""
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    config = config_from_args(TrainConfig, args)
    model, _, history = train_lomit(
        config, args.steps, args.out, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every, progress=not args.no_progress,
        fresh=args.fresh, device=args.device, keep_last=args.keep_last or None,
        branch_from=args.branch_from,
    )  # fmt: skip
    frame = history.to_frame()
    summary = {
        "steps": args.steps,
        "settings": config.settings(),
        "data": model.data_provenance,
        "weights": _weights_line(config, args.steps),
        "final": {k: float(frame[k].iloc[-1]) for k in frame.columns
                  if k not in ("step", "wall_time")},
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
