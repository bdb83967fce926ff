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
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from maskstyle.models.lrnet.data import collate_pairs
from maskstyle.models.lrnet.losses import LAMBDAS, PERCEPTUAL_LAYERS, LossWeights, lrnet_losses
from maskstyle.models.lrnet.model import BRANCHES, LRNet
from maskstyle.train.settings import read_run_summary

LEARNING_RATE = 1e-4
BATCH_SIZE = 1


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
    (everything that defines the model, :func:`lrnet_settings`) match; ``fresh=True``
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


def lrnet_settings(args: argparse.Namespace, branches: Sequence[str]) -> dict:
    """Everything that defines a trained LRNet (architecture, data, losses, optimiser, seed,
    profile): what its checkpoints carry and what a notebook that loads it checks."""
    return {
        "branches": list(branches),
        "composite": not args.no_composite,
        "decoder_width": args.decoder_width,
        "decoder_depth": args.decoder_depth,
        "encoder_weights": args.weights,
        "use_coords": not args.no_coords,
        "size": args.size,
        "pairs": args.pairs,
        "data_root": None if args.data_root is None else str(args.data_root),
        "dataset": args.dataset,
        "fpb_pairs": None if args.fpb_pairs is None else str(args.fpb_pairs),
        "loss_weights": list(LAMBDAS),
        "lr": args.lr,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "profile": args.profile,
    }


def load_trained_lrnet(
    out_dir: str | os.PathLike,
    device: str | torch.device = "cpu",
    expected: dict | None = None,
) -> LRNet:
    """Rebuild the LRNet a :func:`main` run saved in ``out_dir`` (summary + decoder.pt).

    ``expected``: settings the caller needs (a subset of :func:`lrnet_settings`), checked
    by :func:`maskstyle.train.check_settings` (a difference raises
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
    out: str | os.PathLike,
    steps: int,
    *,
    size: int,
    pairs: int,
    branches: Sequence[str] = BRANCHES,
    weights: str = "random",
    lr: float = LEARNING_RATE,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
    decoder_depth: int = 1,
    profile: str = "unspecified",
    use_coords: bool = True,
    composite: bool = True,
    fpb_pairs: str | os.PathLike | None = None,
    fresh: bool = False,
    data_root: str | os.PathLike | None = None,
) -> list[str]:
    """The ``python -m maskstyle.models.lrnet.train`` arguments of one model folder (what
    notebooks pass to ``workbook.launch_training``): about 200 history rows and 4
    checkpoints per run."""
    args = [
        "--steps", steps, "--out", out, "--size", size, "--pairs", pairs,
        "--branches", ",".join(branches), "--weights", weights, "--lr", lr,
        "--batch-size", batch_size, "--seed", seed, "--decoder-depth", decoder_depth,
        "--profile", profile, "--log-every", max(1, steps // 200),
        "--checkpoint-every", max(1, steps // 4),
    ]  # fmt: skip
    args += [] if use_coords else ["--no-coords"]
    args += [] if composite else ["--no-composite"]
    args += ["--fpb-pairs", fpb_pairs] if fpb_pairs is not None else []
    args += ["--fresh"] if fresh else []
    args += ["--data-root", data_root] if data_root is not None else []
    return [str(a) for a in args]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train LRNet on blend pairs.")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=64, help="image size (px)")
    parser.add_argument(
        "--pairs", type=int, default=100, help="face-world or CelebAMask-HQ pairs (70%% train)"
    )
    parser.add_argument(
        "--data-root", default=None, help="FPB or CelebAMask-HQ copy (default: the face world)"
    )
    parser.add_argument(
        "--dataset", default="auto", help="auto|face_world|fpb|celebamask_hq (with --data-root)"
    )
    parser.add_argument("--branches", default="localin,reshuffle")
    parser.add_argument("--no-coords", action="store_true", help="match without 3D coords")
    parser.add_argument("--weights", default="random", help="VGG19: random|imagenet|path")
    parser.add_argument("--lr", type=float, default=LEARNING_RATE)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--no-composite", action="store_true",
        help="return the decoder's whole image (default: paste the face into B, Eq. 5)",
    )  # fmt: skip
    parser.add_argument("--decoder-width", type=int, default=128)
    parser.add_argument("--decoder-depth", type=int, default=1)
    parser.add_argument(
        "--fpb-pairs", type=Path, default=None,
        help="FPB-algorithm pairs (save_generated_pairs) mixed into the training pairs",
    )  # fmt: skip
    parser.add_argument("--profile", default="unspecified", help="workbook profile (recorded)")
    parser.add_argument("--fresh", action="store_true", help="start over, ignore checkpoints")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict | None:
    """Command-line training run; rank 0 writes ``decoder.pt`` and ``summary.json``."""
    from maskstyle.models.lrnet.real_data import lrnet_pairs
    from maskstyle.train.distributed import cleanup, init_distributed, is_main_process
    from maskstyle.utils.seed import seed_everything

    args = parse_args(argv)
    context = init_distributed()
    try:
        seed_everything(args.seed)
        branches = tuple(b.strip() for b in args.branches.split(",") if b.strip())
        model = build_lrnet(
            args.weights, args.seed, branches, composite=not args.no_composite,
            decoder_width=args.decoder_width, decoder_depth=args.decoder_depth,
        )  # fmt: skip
        dataset = lrnet_pairs(
            args.data_root, args.pairs, args.size, args.seed, "train", args.dataset,
            coords="none" if args.no_coords else "mesh",
        )  # fmt: skip
        if args.fpb_pairs is not None:
            from torch.utils.data import ConcatDataset

            from maskstyle.models.lrnet.data import GeneratedPairs

            generated = GeneratedPairs(args.fpb_pairs, args.size)
            provenance = f"{dataset.provenance} + {generated.provenance}"
            dataset = ConcatDataset([dataset, generated])
            dataset.provenance = provenance
        settings = lrnet_settings(args, branches)
        history = train_lrnet(
            model, dataset, args.steps, args.out, lr=args.lr, batch_size=args.batch_size,
            seed=args.seed, use_coords=not args.no_coords, log_every=args.log_every,
            checkpoint_every=args.checkpoint_every, progress=not args.no_progress,
            device=context.device, settings=settings, fresh=args.fresh,
        )  # fmt: skip
        if not is_main_process():
            return None
        frame = history.to_frame()
        summary = {
            "settings": settings,
            "steps": args.steps,
            "seed": args.seed,
            "branches": list(branches),
            "use_coords": not args.no_coords,
            "encoder_weights": args.weights,
            "size": args.size,
            "pairs": args.pairs,
            "data_root": args.data_root,
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
