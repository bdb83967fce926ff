"""Training GeneGAN and its baselines (Sec. 3; official code's schedule and weights).

One :class:`TrainSettings` per run (every field that defines the model: architecture, data,
loss, optimiser, seed); the command line is generated from it, and the Trainer stores it in
every checkpoint and ``OUT/settings.json`` and compares it on resume (a different setting
raises :class:`maskstyle.train.SettingsMismatch`; ``--fresh`` starts over). The update is
:class:`maskstyle.gan.AlternatingGANStep` run by :class:`maskstyle.train.Trainer`
(atomic checkpoints, exact resume, NaN guard, ``history.csv``).

Official settings (``paper`` profile): RMSProp (decay 0.8, momentum 0), lr
``5e-5 * 0.8^(t / 10000)`` for G and D, weight decay 5e-5 on G's weights (as the code's
``0.5 * wd * mean(W^2)`` loss term), WGAN with weight clipping 0.01, 100 critic steps
every 500th iteration and 1 otherwise, batch 64, 64 px, 100k iterations.

Progress lines (step, losses, s/step, ETA) come from the Trainer when launched from a
notebook (``workbook.launch_training``), a tqdm bar in a terminal.

Every ``eval_every`` steps (with ``--classifier``) the model is scored on held-out
*validation* counterfactual pairs (:func:`~maskstyle.models.genegan.evaluate.selection_score`);
the best state is kept in ``OUT/best.pt`` (GAN training oscillates: the last step is
rarely the best). With ``ema > 0`` (not in the paper or the official code) an exponential
moving average of the weights (:func:`maskstyle.gan.weight_ema`) is kept beside the trained
weights, and each evaluation scores both: ``validation.csv`` has the average's metrics and
the trained weights' as ``raw_*`` columns, and ``best.pt`` keeps whichever of the two
scores higher (``best.json``'s ``weights``: ``"average"`` or ``"trained"``).

Writes ``OUT/settings.json``, ``checkpoints/``, ``history.csv``, ``validation.csv``,
``children.pt`` (the four children of two fixed training pairs at each evaluation, from the
average when there is one), ``model.pt`` (last; ``model_average.pt`` its EMA), ``best.pt``
and ``summary.json``.

    python -m maskstyle.models.genegan.train --out runs/genegan/glasses --steps 2000 \\
        --size 64 --gan-loss lsgan --optimizer adam --lr 2e-4 --critic 1 --clip 0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import pandas as pd
import torch

from maskstyle.models.genegan.losses import (
    GeneGANWeights,
    cyclic_discriminator_loss,
    cyclic_generator_loss,
    genegan_discriminator_loss,
    genegan_generator_loss,
    stacked_generator_loss,
)
from maskstyle.train import SettingsMismatch  # noqa: F401  (re-exported for callers)

VARIANTS = ("genegan", "stacked", "cyclic")


@dataclasses.dataclass
class TrainSettings:
    """Everything that defines a trained model (compared on resume)."""

    variant: str = "genegan"  # genegan | stacked (Fig. 2b) | cyclic (DiscoGAN, Fig. 2a)
    attribute: str = "Eyeglasses"  # CelebA name, or "lighting" (face world only)
    size: int = 64  # Sec. 3: 64 px
    width: float = 1.0  # channel multiplier; 1.0 = the paper's 128/256/512
    first_bn: bool = True  # paper: BN everywhere; official code: no BN on the first conv
    d_norm: str = "batch"  # critics: batch (official) | none | spectral | instance
    n_train: int = 1000  # face-world faces per set (ignored with data_root)
    data_root: str | None = None  # CelebA root: the paper's data
    batch_size: int = 64  # official code
    gan_loss: str = "wgan"  # official code; "nonsaturating" = the paper's log-loss (Eq. 3)
    optimizer: str = "rmsprop"  # Sec. 3: RMSProp, momentum 0 (code: decay 0.8)
    lr: float = 5e-5  # Sec. 3
    lr_d: float | None = None  # None: the same as lr (official)
    schedule: str = "official"  # official: lr * 0.8^(t / 10000); constant; linear (below)
    decay_start: int = 0  # schedule "linear": lr constant before this step, then linearly
    decay_end: int = 0  # down to 0 at this step (pix2pix / CycleGAN)
    critic: str = "official"  # official: 100 D steps every 500th step, else 1; or an int
    clip: float = 0.01  # WGAN weight clipping (0: off)
    gp_weight: float = 0.0  # WGAN-GP penalty weight (0: off)
    weight_decay: float = 5e-5  # on G's weights (official code)
    w_reconstruction: float = 1.0
    w_gan: float = 1.0
    w_nulling: float = 1.0
    w_parallelogram: float = 0.01  # on the 0..255 scale (Sec. 2.1.2, official code)
    ema: float = 0.0  # > 0: keep an EMA of the weights (gan.ema), validated beside them
    seed: int = 0

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.optimizer not in ("rmsprop", "adam"):
            raise ValueError(f"optimizer must be 'rmsprop' or 'adam', got {self.optimizer!r}")
        if self.schedule not in ("official", "constant", "linear"):
            raise ValueError(
                f"schedule must be 'official', 'constant' or 'linear', got {self.schedule!r}")
        if self.schedule == "linear" and not 0 <= self.decay_start < self.decay_end:
            raise ValueError(
                "schedule 'linear' needs 0 <= decay_start < decay_end (the steps where the lr "
                f"starts to fall and reaches 0), got {self.decay_start}, {self.decay_end}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must lie in [0, 1) (0: off; e.g. 0.995), got {self.ema}")
        if self.critic != "official" and not str(self.critic).isdigit():
            raise ValueError(
                f"critic must be 'official' or a number of D steps, got {self.critic!r}"
            )
        from maskstyle.gan.losses import GAN_LOSSES

        if self.gan_loss not in GAN_LOSSES:
            raise ValueError(f"gan_loss must be one of {GAN_LOSSES}, got {self.gan_loss!r}")

    @property
    def weights(self) -> GeneGANWeights:
        return GeneGANWeights(self.w_reconstruction, self.w_gan, self.w_nulling,
                              self.w_parallelogram)  # fmt: skip


def check_settings(out_dir: str | os.PathLike, settings: TrainSettings | dict) -> dict:
    """:func:`maskstyle.train.check_settings` for a GeneGAN run: a :class:`TrainSettings`
    compares every field, a dict only the keys it names. Raises
    :class:`maskstyle.train.SettingsMismatch`; returns the recorded settings."""
    from maskstyle.train import check_settings as check

    if isinstance(settings, TrainSettings):
        return check(out_dir, dataclasses.asdict(settings))
    return check(out_dir, settings, keys=list(settings))


def build_model(settings: TrainSettings):
    """The network of ``settings.variant`` (GeneGAN for genegan/stacked, CyclicGAN)."""
    if settings.variant == "cyclic":
        from maskstyle.models.genegan.baselines import CyclicGAN

        return CyclicGAN(settings.size, settings.width, settings.first_bn, settings.seed,
                         d_norm=settings.d_norm)  # fmt: skip
    from maskstyle.models.genegan.model import GeneGAN

    return GeneGAN(settings.size, settings.width, settings.first_bn, seed=settings.seed,
                   d_norm=settings.d_norm)  # fmt: skip


def build_sets(settings: TrainSettings, cache_dir: str | os.PathLike | None = None):
    from maskstyle.models.genegan.data import celeba_sets, face_world_sets

    if settings.data_root:
        return celeba_sets(settings.data_root, settings.attribute, settings.size)
    return face_world_sets(settings.attribute, settings.n_train, settings.size, settings.seed,
                           cache_dir=cache_dir)  # fmt: skip


def _loss_fns(settings: TrainSettings, model):
    kind, weights = settings.gan_loss, settings.weights
    g_fn = {"genegan": genegan_generator_loss, "stacked": stacked_generator_loss,
            "cyclic": cyclic_generator_loss}[settings.variant]  # fmt: skip
    d_fn = cyclic_discriminator_loss if settings.variant == "cyclic" else genegan_discriminator_loss
    decayed = [p for name, p in model.named_parameters()
               if not name.startswith("d_") and p.dim() > 1]  # fmt: skip

    def g_loss(batch):
        total, terms, _ = g_fn(model, batch[0], batch[1], weights, kind)
        if settings.weight_decay > 0:  # official: 0.5 * wd * mean(W^2) per G weight
            decay = 0.5 * settings.weight_decay * sum(p.square().mean() for p in decayed)
            total = total + decay
            terms["g_total"] = total
        return total, terms

    def d_loss(batch):
        return d_fn(model, batch[0], batch[1], kind, settings.gp_weight)

    return g_loss, d_loss


def _optimizers(settings: TrainSettings, model):
    from maskstyle.gan.optim import adam, exponential_schedule, linear_decay_schedule, rmsprop

    build = rmsprop if settings.optimizer == "rmsprop" else adam
    opt_g = build(model.generator_parameters(), lr=settings.lr)
    opt_d = build(model.discriminator_parameters(), lr=settings.lr_d or settings.lr)
    if settings.schedule == "constant":
        return opt_g, opt_d, {}
    if settings.schedule == "official":
        def schedule(opt):
            return exponential_schedule(opt, 0.8, 10000)
    else:  # linear
        def schedule(opt):
            return linear_decay_schedule(opt, settings.decay_start, settings.decay_end)
    return opt_g, opt_d, {"g": schedule(opt_g), "d": schedule(opt_d)}


RAW_KEYS = ("removal_success", "transplant_success", "removal_region_psnr", "background_psnr",
            "reconstruction_psnr", "reconstruction_edge_ratio", "score")
"""What ``validation.csv`` records of the trained (not averaged) weights when ``ema > 0``."""

OWN_FILES = ("validation.csv", "children.pt", "best.pt", "best.json", "model.pt",
             "model_average.pt", "summary.json")
"""What a run writes besides the Trainer's checkpoints, history and settings."""


def _children_grid(model, settings: TrainSettings, xa: torch.Tensor, xb: torch.Tensor):
    from maskstyle.models.genegan.operations import evaluating

    with evaluating(model):
        if settings.variant == "cyclic":
            ae, bu = model.remove_net(xa), model.add_net(xb)
            au, be = model.add_net(ae), model.remove_net(bu)
        else:
            c = model.four_children(xa, xb)
            ae, bu, au, be = c["Ae"], c["Bu"], c["Au"], c["Be"]
    # per pair: parents Au, Be, crossbreeds Ae, Bu, reconstructions Au', Be' (official order)
    return torch.stack([xa, xb, ae, bu, au, be], dim=1)  # [pairs, 6, 3, H, W]


def train(
    settings: TrainSettings,
    out_dir: str | os.PathLike,
    steps: int,
    *,
    classifier_path: str | os.PathLike | None = None,
    eval_every: int = 100,
    eval_pairs: int = 64,
    log_every: int = 10,
    checkpoint_every: int = 500,
    fresh: bool = False,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | str = True,
) -> dict:
    """Train (or resume) ``settings``' model for ``steps`` updates in ``out_dir``; returns
    the summary written to ``out_dir/summary.json``."""
    from maskstyle.gan.step import AlternatingGANStep, official_genegan_d_steps
    from maskstyle.models.genegan.data import PairedLoader, counterfactual_set
    from maskstyle.models.genegan.evaluate import evaluate_edits, selection_score
    from maskstyle.train import Trainer

    out = Path(out_dir)
    if fresh:  # the Trainer discards checkpoints, history and settings; these are ours
        for name in OWN_FILES:
            (out / name).unlink(missing_ok=True)
    elif (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir()):
        check_settings(out, settings)  # fail before rendering data, not after
    out.mkdir(parents=True, exist_ok=True)

    sets = build_sets(settings, cache_dir)
    model = build_model(settings)
    opt_g, opt_d, schedulers = _optimizers(settings, model)
    g_loss, d_loss = _loss_fns(settings, model)
    loader = PairedLoader(sets, settings.batch_size, seed=settings.seed)
    ema = None
    if settings.ema > 0:
        from maskstyle.gan.ema import weight_ema

        ema = weight_ema(model, settings.ema)
    averaged = ema.module if ema is not None else None
    critic = settings.critic
    gan_step = AlternatingGANStep(
        d_loss=d_loss, g_loss=g_loss, d_optimizer=opt_d, g_optimizer=opt_g,
        discriminators=[model.d_with, model.d_without],
        n_critic=1 if critic == "official" else max(1, int(critic)),
        d_steps=official_genegan_d_steps if critic == "official" else None,
        clip=settings.clip or None, critic_data=loader,
    )  # fmt: skip

    classifier, validation = None, None
    if classifier_path is not None and not settings.data_root and settings.attribute != "lighting":
        from maskstyle.models.genegan.classifier import load_classifier

        classifier = load_classifier(classifier_path)
        validation = counterfactual_set(settings.attribute, eval_pairs, settings.size,
                                        settings.seed, role="validation")  # fmt: skip
    fixed = (torch.stack([sets.positive[i] for i in range(2)]),
             torch.stack([sets.negative[i] for i in range(2)]))  # fmt: skip
    children_path, best_path = out / "children.pt", out / "best.json"
    snapshots = torch.load(children_path, weights_only=True) if children_path.exists() else {}
    best = json.loads(best_path.read_text()) if best_path.exists() else None
    rows = pd.read_csv(out / "validation.csv").to_dict("records") if (
        out / "validation.csv").exists() else []  # fmt: skip

    def evaluate(step: int) -> None:
        nonlocal best, rows
        snapshots[step] = _children_grid(model if averaged is None else averaged, settings,
                                        *fixed)
        torch.save(snapshots, children_path)
        if classifier is None:
            return
        candidates = {"trained": model} | ({"average": averaged} if averaged is not None else {})
        scores = {}
        for name, candidate in candidates.items():
            scores[name] = evaluate_edits(candidate, classifier, validation)
            scores[name]["score"] = selection_score(scores[name])
        metrics = scores.get("average", scores["trained"])
        row = {"step": step, **metrics}
        if averaged is not None:  # the trained weights beside their average
            row |= {f"raw_{k}": scores["trained"][k] for k in RAW_KEYS
                    if k in scores["trained"]}  # the cyclic baseline has no reconstruction
        rows = [r for r in rows if r["step"] < step] + [row]
        pd.DataFrame(rows).to_csv(out / "validation.csv", index=False)
        winner = max(scores, key=lambda name: scores[name]["score"])
        if best is None or scores[winner]["score"] > best["score"]:
            best = {"step": step, "weights": winner, **scores[winner]}
            torch.save(candidates[winner].state_dict(), out / "best.pt")
            best_path.write_text(json.dumps(best, indent=1) + "\n")
        print(f"validation step {step}: removal {metrics['removal_success']:.2f}, transplant "
              f"{metrics['transplant_success']:.2f}, region PSNR "
              f"{metrics['removal_region_psnr']:.2f} (input {metrics['input_region_psnr']:.2f}),"
              f" score {metrics['score']:.3f} (best at step {best['step']})", flush=True)

    def step_fn(batch, index: int) -> dict[str, torch.Tensor]:
        terms = gan_step(batch, index)
        if ema is not None:
            ema.update_parameters(model)
        done = index + 1
        if done % eval_every == 0 or done == steps:
            evaluate(done)
        return terms

    trainer = Trainer(
        models={"model": model} | ({"ema": ema} if ema is not None else {}),
        optimizers={"g": opt_g, "d": opt_d}, schedulers=schedulers,
        step_fn=step_fn, data=loader, total_steps=steps, out_dir=out, log_every=log_every,
        checkpoint_every=checkpoint_every, progress=progress, fresh=fresh,
        settings=dataclasses.asdict(settings), extra={"data": sets.provenance},
    )  # fmt: skip
    history = trainer.run()
    torch.save(model.state_dict(), out / "model.pt")
    if averaged is not None:
        torch.save(averaged.state_dict(), out / "model_average.pt")
    frame = history.to_frame()
    final = {k: float(frame[k].dropna().iloc[-1]) for k in frame.columns
             if k not in ("step", "wall_time") and frame[k].notna().any()}  # fmt: skip
    arch = "CyclicGAN" if settings.variant == "cyclic" else "GeneGAN"
    selected = ""
    if ema is not None:
        which = "their EMA" if best and best.get("weights") == "average" else "the trained weights"
        selected = (f"; selected on validation from the trained weights and their EMA "
                    f"(decay {settings.ema:g}): {which}")
    summary = {
        "settings": dataclasses.asdict(settings),
        "steps": trainer.step,
        "data": sets.provenance,
        "weights": (f"{arch} ({settings.variant}) trained here: {trainer.step} steps, "
                    f"{settings.size} px, width {settings.width}, {settings.gan_loss} + "
                    f"{settings.optimizer} lr {settings.lr:g}{selected}"),
        "best": best,
        "selected_step": best["step"] if best else trainer.step,
        "final": final,
    }  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def load_trained(out_dir: str | os.PathLike, which: str = "best"):
    """The model a :func:`train` run saved: ``which="best"`` (validation-selected; falls
    back to the last state when no classifier scored the run) or ``"last"``."""
    out = Path(out_dir)
    path = out / "settings.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: train first (python -m {__name__} ...)")
    settings = TrainSettings(**json.loads(path.read_text()))
    weights = out / ("best.pt" if which == "best" and (out / "best.pt").exists() else "model.pt")
    if not weights.exists():
        raise FileNotFoundError(f"{weights} is missing: the run in {out} did not finish")
    model = build_model(settings)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


def command_args(settings: TrainSettings, out: str | os.PathLike, steps: int,
                 **options) -> list[str]:  # fmt: skip
    """The command-line arguments of this module for ``settings`` (+ ``options`` such as
    ``classifier=path, eval_every=50``; ``fresh=True`` adds ``--fresh``)."""
    args = ["--out", str(out), "--steps", str(steps)]
    for field in dataclasses.fields(TrainSettings):
        value = getattr(settings, field.name)
        if value is not None:
            args += ["--" + field.name.replace("_", "-"), str(value)]
    for name, value in options.items():
        if name == "fresh":
            args += ["--fresh"] if value else []
        elif value is not None:
            args += ["--" + name.replace("_", "-"), str(value)]
    return args


def launch(settings: TrainSettings, out: str | os.PathLike, steps: int, *,
           log_path: str | os.PathLike | None = None, launcher: str = "python",
           nproc_per_node: int = 1, **options) -> dict:  # fmt: skip
    """Train in a child process (``workbook.launch_training``: its output streams into the
    notebook and ``log_path``); returns ``out/summary.json``."""
    from maskstyle import workbook

    workbook.launch_training(
        __name__, command_args(settings, out, steps, **options), launcher=launcher,
        nproc_per_node=nproc_per_node, log_path=log_path,
    )  # fmt: skip
    return json.loads((Path(out) / "summary.json").read_text())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Train GeneGAN or a baseline (Sec. 2-3).")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, required=True)
    for field in dataclasses.fields(TrainSettings):
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        if isinstance(default, bool):
            parser.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"),
                                default=default, help=f"(default {default})")  # fmt: skip
        elif default is None:
            kind = float if field.name == "lr_d" else str
            parser.add_argument(flag, type=kind, default=None, help="(default None)")
        else:
            parser.add_argument(flag, type=type(default), default=default,
                                help=f"(default {default})")  # fmt: skip
    parser.add_argument("--classifier", type=Path, default=None,
                        help="attribute classifier (.pt) for validation-based selection")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--eval-pairs", type=int, default=64)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--fresh", action="store_true", help="delete this run's files first")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest on a shared 2-core machine)")
    return parser


def main(argv: list[str] | None = None) -> dict:
    from maskstyle.utils.seed import seed_everything

    args = _parser().parse_args(argv)
    names = [f.name for f in dataclasses.fields(TrainSettings)]
    settings = TrainSettings(**{n: getattr(args, n) for n in names})
    seed_everything(settings.seed)
    torch.set_num_threads(max(1, args.threads))
    return train(
        settings, args.out, args.steps, classifier_path=args.classifier,
        eval_every=args.eval_every, eval_pairs=args.eval_pairs, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every, fresh=args.fresh, cache_dir=args.cache_dir,
    )  # fmt: skip


if __name__ == "__main__":
    main()
