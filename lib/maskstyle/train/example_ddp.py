"""Runnable example of the training toolkit, single-process or under ``torchrun``.

    python -m maskstyle.train.example_ddp --steps 20 --out runs/ddp-demo
    torchrun --nproc_per_node=2 -m maskstyle.train.example_ddp --steps 20 --out runs/ddp-demo

A tiny MLP regresses a fixed random "teacher" MLP on 64 synthetic Gaussian samples (no
real data, random initial weights: its numbers demonstrate the machinery, nothing else).
``--batch-size`` is the global batch; each of ``W`` ranks loads ``batch_size / W`` samples
through a :class:`~maskstyle.train.sampler.ResumableSampler`, so ``W`` ranks follow the same
loss curve as one process (up to float summation order). Rank 0 writes
``OUT/checkpoints``, ``OUT/history.csv`` and ``OUT/summary.json``; the summary records the
largest parameter difference between ranks at the end (0 when DDP keeps them in sync).
Run it again with more ``--steps`` and it resumes from the newest checkpoint.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from maskstyle.train.distributed import (
    all_gather_objects,
    cleanup,
    init_distributed,
    is_main_process,
    wrap_ddp,
)
from maskstyle.train.sampler import ResumableLoader, ResumableSampler
from maskstyle.train.trainer import Trainer
from maskstyle.utils.seed import seed_everything

NUM_SAMPLES, IN_FEATURES, HIDDEN = 64, 8, 16


def make_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(IN_FEATURES, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, 1))


def synthetic_dataset(seed: int) -> TensorDataset:
    """64 Gaussian inputs and the outputs of a random teacher MLP (plus a little noise)."""
    generator = torch.Generator().manual_seed(seed + 12345)
    inputs = torch.randn(NUM_SAMPLES, IN_FEATURES, generator=generator)
    teacher = nn.Sequential(nn.Linear(IN_FEATURES, 1))
    with torch.no_grad():
        teacher[0].weight.copy_(torch.randn(1, IN_FEATURES, generator=generator))
        teacher[0].bias.zero_()
        targets = teacher(inputs) + 0.05 * torch.randn(NUM_SAMPLES, 1, generator=generator)
    return TensorDataset(inputs, targets)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, required=True, help="total optimiser steps")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--batch-size", type=int, default=8, help="global batch size")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--log-every", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--fresh", action="store_true",
                        help="discard the checkpoints already in --out and train from scratch")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict | None:
    args = parse_args(argv)
    context = init_distributed()
    try:
        if args.batch_size % context.world_size:
            raise SystemExit(
                f"--batch-size {args.batch_size} must be divisible by the {context.world_size} "
                "processes"
            )
        seed_everything(args.seed)
        dataset = synthetic_dataset(args.seed)
        sampler = ResumableSampler(dataset, seed=args.seed)
        loader = DataLoader(dataset, batch_size=args.batch_size // context.world_size,
                            sampler=sampler)
        model = wrap_ddp(make_mlp().to(context.device))
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

        def step_fn(batch, step):
            inputs, targets = (t.to(context.device) for t in batch)
            loss = nn.functional.mse_loss(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            return {"mse": loss}

        trainer = Trainer(
            models={"mlp": model}, optimizers={"sgd": optimizer}, step_fn=step_fn,
            data=ResumableLoader(loader), total_steps=args.steps, out_dir=args.out,
            checkpoint_every=args.checkpoint_every, log_every=args.log_every,
            progress=not args.no_progress, fresh=args.fresh,
            settings={"model": "mlp", "data": "synthetic: 64 Gaussian samples, random teacher MLP",
                      "global_batch_size": args.batch_size, "lr": args.lr, "seed": args.seed},
            extra={"weights": f"random init, seed {args.seed}"},
        )
        history = trainer.run()
        flat = torch.cat([p.detach().cpu().flatten() for p in model.parameters()])
        all_params = all_gather_objects(flat)
        if not is_main_process():
            return None
        frame = history.to_frame()
        summary = {
            "world_size": context.world_size,
            "backend": context.backend,
            "steps": trainer.step,
            "global_batch_size": args.batch_size,
            "first_mse": float(frame["mse"].iloc[0]) if len(frame) else None,
            "final_mse": float(frame["mse"].iloc[-1]) if len(frame) else None,
            "max_param_diff_across_ranks": max(
                float((p - all_params[0]).abs().max()) for p in all_params),
            "data": "synthetic: 64 Gaussian samples, random teacher MLP (not a paper result)",
            "weights": f"random init, seed {args.seed}",
        }
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(json.dumps(summary))
        return summary
    finally:
        cleanup()


if __name__ == "__main__":
    main()
