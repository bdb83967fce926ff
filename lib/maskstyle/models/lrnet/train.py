"""Training LRNet (Section 5.1): Adam, learning rate 1e-4, batch 1, the losses of Eqs. 5-9.

:func:`train_lrnet` hands one update to :class:`maskstyle.train.Trainer` (resumable
checkpoints, NaN guard, a loss-history CSV). Each update blends ``x_A`` onto ``x_B``, runs
the cycle pass, evaluates the four losses (:func:`~maskstyle.models.lrnet.losses.lrnet_losses`)
and steps the decoder (the VGG19 encoder is frozen). The history holds the *unweighted*
terms ``rec``, ``cycle``, ``grad``, ``style`` and the weighted ``total``; Fig. 8 plots each
term times its weight (``LAMBDAS``).

The loss network is the encoder itself: one frozen VGG19 returning relu1_1 and relu2_1
(the paper's "pre-trained VGG19" for Eqs. 5 and 8 and its encoder are the same network).

Command line (single process, or ``torchrun``: decoder gradients are averaged over ranks)::

    python -m maskstyle.models.lrnet.train --steps 200 --out runs/lrnet/train --size 64

Everything that defines a run is one :class:`LRNetTrainConfig`: its fields are the command
line's flags (:func:`parse_args`), its :meth:`~LRNetTrainConfig.settings` what the checkpoints
store and a resume compares, and :func:`training_args` builds the flags from the same fields.
``--data-root DIR`` trains on real pairs instead of the face world (FPB layout or
CelebAMask-HQ, :func:`~maskstyle.models.lrnet.real_data.lrnet_pairs`).

writes ``OUT/checkpoints``, ``OUT/history.csv``, ``OUT/decoder.pt`` and ``OUT/summary.json``
(which data, which weights, which branches); :func:`load_trained_lrnet` rebuilds the model.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from maskstyle.models.lrnet.data import collate_pairs
from maskstyle.models.lrnet.losses import LAMBDAS, PERCEPTUAL_LAYERS, LossWeights, lrnet_losses
from maskstyle.models.lrnet.model import BRANCHES, LRNet, check_branches
from maskstyle.train.config_cli import add_config_arguments, config_argv, config_from_args
from maskstyle.train.settings import read_run_summary

LEARNING_RATE = 1e-4
BATCH_SIZE = 1


@dataclass(frozen=True)
class LRNetTrainConfig:
    """Everything that defines a trained LRNet: the run's settings, its command line
    (:func:`parse_args`), what its checkpoints store and what a resume compares."""

    size: int = 64  # image side in px (Sec. 5.1 trains at 256)
    pairs: int = 100  # face-world or CelebAMask-HQ pairs (70% train)
    data_root: str | None = None  # FPB or CelebAMask-HQ copy (None: the face world)
    dataset: str = "auto"  # auto | face_world | fpb | celebamask_hq (with data_root)
    fpb_pairs: str | None = None  # FPB-algorithm pairs (save_generated_pairs) mixed in
    branches: tuple[str, ...] = BRANCHES  # Sec. 5.2: ("localin",) = (a), ("reshuffle",) = (b)
    use_coords: bool = True  # Sec. 4.3: match patches with 3D coordinates too
    composite: bool = True  # paste the decoded face into x_B (our reading of Eq. 5)
    decoder_width: int = 128  # the "deconvolution layers" (Fig. 6): first conv's width
    decoder_depth: int = 1  # 3x3 conv blocks before the upsampling
    weights: str = "random"  # the frozen VGG19 encoder: random | imagenet | a path
    lr: float = LEARNING_RATE  # Sec. 5.1: Adam, 1e-4
    batch_size: int = BATCH_SIZE  # Sec. 5.1: 1
    seed: int = 0
    profile: str = "unspecified"  # which workbook profile asked for this run

    def __post_init__(self) -> None:
        """Normalise what notebooks pass (paths, lists) and reject unusable branches."""
        object.__setattr__(self, "branches", check_branches(self.branches))
        for name in ("data_root", "fpb_pairs"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(value))

    def settings(self) -> dict[str, Any]:
        """The settings dict the checkpoints carry (the loss weights of Eq. 9 included)."""
        return {
            "branches": list(self.branches),
            "composite": self.composite,
            "decoder_width": self.decoder_width,
            "decoder_depth": self.decoder_depth,
            "encoder_weights": self.weights,
            "use_coords": self.use_coords,
            "size": self.size,
            "pairs": self.pairs,
            "data_root": self.data_root,
            "dataset": self.dataset,
            "fpb_pairs": self.fpb_pairs,
            "loss_weights": list(LAMBDAS),
            "lr": self.lr,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "profile": self.profile,
        }


def build_lrnet(
    weights: str = "random", seed: int = 0, branches: Sequence[str] = BRANCHES, **kwargs
) -> LRNet:
    """An LRNet whose frozen VGG19 also serves the losses (relu1_1 and relu2_1)."""
    from maskstyle.nn.vgg import VGG19Features

    encoder = VGG19Features(layers=PERCEPTUAL_LAYERS, weights=weights, seed=seed)
    return LRNet(weights=weights, seed=seed, branches=branches, encoder=encoder, **kwargs)


def train_lrnet(
    model: LRNet,
    dataset: Dataset,
    steps: int,
    out_dir: str | os.PathLike,
    lr: float = LEARNING_RATE,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
    use_coords: bool = True,
    weights: LossWeights = LAMBDAS,
    log_every: int = 10,
    checkpoint_every: int = 1000,
    progress: bool = False,
    device: str | torch.device = "cpu",
    settings: dict | None = None,
    fresh: bool = False,
):
    """Train ``model``'s decoder for ``steps`` updates on ``dataset``; returns the history.

    ``dataset`` yields :class:`~maskstyle.models.lrnet.data.FaceWorldBlendPairs` samples.
    Resumes from ``out_dir/checkpoints`` if a run is already there and its ``settings``
    (everything that defines the model, :meth:`LRNetTrainConfig.settings`) match; ``fresh=True``
    starts over.
    """
    from maskstyle.train import ResumableLoader, ResumableSampler, Trainer

    if not all(layer in getattr(model.encoder, "layers", ()) for layer in PERCEPTUAL_LAYERS):
        raise ValueError(
            f"the losses need {PERCEPTUAL_LAYERS} from the encoder: build the model with "
            "maskstyle.models.lrnet.train.build_lrnet"
        )
    import torch.distributed as dist

    from maskstyle.train.distributed import get_world_size, is_distributed

    model.to(device)
    features = model.encoder
    optimizer = torch.optim.Adam(model.decoder.parameters(), lr=lr)
    loader = ResumableLoader(
        DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=ResumableSampler(dataset, seed=seed),
            collate_fn=collate_pairs,
        )
    )

    def step_fn(batch: dict, step: int) -> dict[str, torch.Tensor]:
        batch = {k: v.to(device) for k, v in batch.items()}
        coords_a = batch["coords_a"] if use_coords else None
        coords_b = batch["coords_b"] if use_coords else None
        optimizer.zero_grad(set_to_none=True)
        total, terms, _ = lrnet_losses(
            model, features, batch["x_a"], batch["x_b"], batch["regions_a"],
            batch["regions_b"], coords_a, coords_b, weights,
        )  # fmt: skip
        total.backward()
        if is_distributed():  # average decoder gradients over ranks (what DDP would do)
            for p in model.decoder.parameters():
                dist.all_reduce(p.grad)
                p.grad /= get_world_size()
        optimizer.step()
        return {k: v.detach() for k, v in terms.items()}

    trainer = Trainer(
        settings=settings,
        fresh=fresh,
        models={"decoder": model.decoder},
        optimizers={"adam": optimizer},
        step_fn=step_fn,
        data=loader,
        total_steps=steps,
        out_dir=out_dir,
        log_every=log_every,
        checkpoint_every=checkpoint_every,
        progress=progress,
    )
    history = trainer.run()
    model.decoder_provenance = (
        f"trained {trainer.step} steps on {getattr(dataset, 'provenance', 'a dataset')} ({out_dir})"
    )
    model.eval()
    return history


def load_trained_lrnet(
    out_dir: str | os.PathLike,
    device: str | torch.device = "cpu",
    expected: dict | None = None,
) -> LRNet:
    """Rebuild the LRNet a :func:`main` run saved in ``out_dir`` (summary + decoder.pt).

    ``expected``: settings the caller needs (a subset of :meth:`LRNetTrainConfig.settings`),
    checked by :func:`maskstyle.train.check_settings` (a difference raises
    :class:`~maskstyle.train.SettingsMismatch` naming the keys and the fix).
    """
    out_dir = Path(out_dir)
    summary, weights_path = read_run_summary(
        out_dir, "decoder.pt", "python -m maskstyle.models.lrnet.train"
    )
    settings = summary.get("settings", {})
    if expected:
        from maskstyle.train import check_settings

        check_settings(out_dir, expected, keys=list(expected))
    model = build_lrnet(
        summary["encoder_weights"], summary["seed"], summary["branches"],
        composite=settings.get("composite", False),
        decoder_width=settings.get("decoder_width", 128),
        decoder_depth=settings.get("decoder_depth", 1),
    )  # fmt: skip
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    model.decoder.load_state_dict(state)
    model.decoder_provenance = summary["weights"]
    return model.to(device).eval()


def training_args(
    out: str | os.PathLike, steps: int, *, fresh: bool = False, **config: Any
) -> list[str]:
    """The ``python -m maskstyle.models.lrnet.train`` arguments of one model folder (what
    notebooks pass to ``workbook.launch_training``): ``config`` holds
    :class:`LRNetTrainConfig` fields (checked here, before a process starts); about 200
    history rows and 4 checkpoints per run."""
    args = [
        "--steps", steps, "--out", out, "--log-every", max(1, steps // 200),
        "--checkpoint-every", max(1, steps // 4),
        *config_argv(LRNetTrainConfig(**config)),
    ]  # fmt: skip
    args += ["--fresh"] if fresh else []
    return [str(a) for a in args]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The run's length and logging, then one flag per :class:`LRNetTrainConfig` field
    (``--no-coords`` is ``--no-use-coords``)."""
    parser = argparse.ArgumentParser(description="Train LRNet on blend pairs.")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="start over, ignore checkpoints")
    add_config_arguments(parser, LRNetTrainConfig, aliases={"use_coords": ["--no-coords"]})
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict | None:
    """Command-line training run; rank 0 writes ``decoder.pt`` and ``summary.json``."""
    from maskstyle.models.lrnet.real_data import lrnet_pairs
    from maskstyle.train.distributed import cleanup, init_distributed, is_main_process
    from maskstyle.utils.seed import seed_everything

    args = parse_args(argv)
    config = config_from_args(LRNetTrainConfig, args)
    context = init_distributed()
    try:
        seed_everything(config.seed)
        model = build_lrnet(
            config.weights, config.seed, config.branches, composite=config.composite,
            decoder_width=config.decoder_width, decoder_depth=config.decoder_depth,
        )  # fmt: skip
        dataset = lrnet_pairs(
            config.data_root, config.pairs, config.size, config.seed, "train", config.dataset,
            coords="mesh" if config.use_coords else "none",
        )  # fmt: skip
        if config.fpb_pairs is not None:
            from torch.utils.data import ConcatDataset

            from maskstyle.models.lrnet.data import GeneratedPairs

            generated = GeneratedPairs(config.fpb_pairs, config.size)
            provenance = f"{dataset.provenance} + {generated.provenance}"
            dataset = ConcatDataset([dataset, generated])
            dataset.provenance = provenance
        settings = config.settings()
        history = train_lrnet(
            model, dataset, args.steps, args.out, lr=config.lr, batch_size=config.batch_size,
            seed=config.seed, use_coords=config.use_coords, log_every=args.log_every,
            checkpoint_every=args.checkpoint_every, progress=not args.no_progress,
            device=context.device, settings=settings, fresh=args.fresh,
        )  # fmt: skip
        if not is_main_process():
            return None
        frame = history.to_frame()
        summary = {  # settings, plus the keys load_trained_lrnet reads at the top level
            "settings": settings,
            "steps": args.steps,
            "seed": config.seed,
            "branches": list(config.branches),
            "use_coords": config.use_coords,
            "encoder_weights": config.weights,
            "size": config.size,
            "pairs": config.pairs,
            "data_root": config.data_root,
            "data": dataset.provenance,
            "weights": model.provenance["decoder"] + "; encoder " + model.provenance["encoder"],
            "final": {
                k: float(frame[k].iloc[-1]) for k in frame.columns if k not in ("step", "wall_time")
            },
        }
        torch.save(model.decoder.state_dict(), Path(args.out) / "decoder.pt")
        (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary
    finally:
        cleanup()


if __name__ == "__main__":
    main()
