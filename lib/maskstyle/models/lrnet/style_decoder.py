"""The decoder of LRNet's *style blending* baseline (Section 5.3), trained on the face world.

Style blending (AdaIN, Huang & Belongie 2017) stylises ``x_A`` by B's relu4_1 statistics
and decodes the result: with an untrained decoder it paints noise, so the baseline would
lose for the wrong reason. :func:`train_style_decoder` trains
:class:`~maskstyle.nn.vgg_decoder.VGGDecoder` (relu4_1, AdaIN's decoder architecture) to
invert the frozen VGG19 on the faces the baseline is applied to (A and B of the training
pairs): pixel MSE to the input, plus optionally ``feature_weight`` x the MSE between the
re-encoded output and the input's relu4_1 features (AdaIN's content loss; default 0: it
doubles the cost of a step on this CPU and the pixel loss is what reconstruction PSNR
measures). AdaIN's style loss is left out: the decoder only has to invert features, the
stylisation is AdaIN's job.

:func:`reconstruction_psnr` measures how well it inverts held-out faces (the baseline can
be no sharper than this); ``summary.json`` records it with the settings.

Command line (writes ``OUT/decoder.pt``, ``OUT/summary.json``, ``OUT/history.csv``)::

    python -m maskstyle.models.lrnet.style_decoder --steps 300 --out runs/lrnet/style --size 64
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from maskstyle.train.settings import read_run_summary

STYLE_LAYER = "relu4_1"
FEATURE_WEIGHT = 0.0
LEARNING_RATE = 1e-3
BATCH_SIZE = 4


class FaceImages(Dataset):
    """Every ``x_A`` and ``x_B`` of a blend-pair set as one image set: ``{"image": [3, H, W]}``."""

    def __init__(self, pairs: Dataset) -> None:
        self.pairs = pairs
        self.provenance = f"x_A and x_B of {getattr(pairs, 'provenance', 'blend pairs')}"

    def __len__(self) -> int:
        return 2 * len(self.pairs)

    def __getitem__(self, i: int) -> dict:
        sample = self.pairs[i // 2]
        return {"image": sample["x_a" if i % 2 == 0 else "x_b"]}


def style_decoder_settings(
    size: int, pairs: int, weights: str, seed: int, lr: float, batch_size: int,
    feature_weight: float, data: str,
) -> dict:  # fmt: skip
    """Everything that defines a trained style decoder (the settings its checkpoints carry;
    the training length is not one of them: more steps continue the run)."""
    return {
        "model": f"VGGDecoder({STYLE_LAYER})", "size": size, "pairs": pairs,
        "encoder_weights": weights, "seed": seed, "lr": lr, "batch_size": batch_size,
        "feature_weight": feature_weight, "data": data,
    }  # fmt: skip


def decoder_loss(
    decoder: torch.nn.Module, encoder: torch.nn.Module, images: torch.Tensor,
    feature_weight: float = FEATURE_WEIGHT,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """Pixel MSE of the reconstruction + ``feature_weight`` x relu4_1 feature MSE."""
    with torch.no_grad():
        feats = encoder(images)[STYLE_LAYER]
    out = decoder(feats)
    pixel = F.mse_loss(out, images)
    if feature_weight == 0:  # skip the second encoder pass (and its backward)
        return {"pixel": pixel, "feature": torch.zeros_like(pixel), "total": pixel}
    feature = F.mse_loss(encoder(out)[STYLE_LAYER], feats)
    return {"pixel": pixel, "feature": feature, "total": pixel + feature_weight * feature}


@torch.no_grad()
def reconstruction_psnr(
    decoder: torch.nn.Module, encoder: torch.nn.Module, images: torch.Tensor
) -> float:
    """Mean PSNR (dB) of ``decoder(encoder(x))`` against ``x`` (``[N, 3, H, W]`` in [0, 1])."""
    from maskstyle.metrics import psnr

    out = torch.cat([decoder(encoder(x[None])[STYLE_LAYER]) for x in images]).clamp(0, 1)
    return float(psnr(out, images))


def train_style_decoder(
    steps: int,
    out_dir: str | os.PathLike,
    size: int = 64,
    pairs: int = 100,
    weights: str = "random",
    seed: int = 0,
    lr: float = LEARNING_RATE,
    batch_size: int = BATCH_SIZE,
    feature_weight: float = FEATURE_WEIGHT,
    log_every: int = 10,
    checkpoint_every: int = 1000,
    progress: bool = True,
    fresh: bool = False,
    eval_images: int = 32,
) -> dict:
    """Train the relu4_1 decoder on the face world's training pairs; return the summary.

    Resumes from ``out_dir/checkpoints`` when the settings match (``fresh=True`` starts
    over). The summary holds the settings, the final losses and ``val_psnr``: the
    reconstruction PSNR on ``eval_images`` faces of the validation pairs.
    """
    from maskstyle.models.lrnet.data import FaceWorldBlendPairs
    from maskstyle.nn.vgg import VGG19Features
    from maskstyle.nn.vgg_decoder import VGGDecoder
    from maskstyle.train import ResumableLoader, ResumableSampler, Trainer

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    out_dir = Path(out_dir)
    train = FaceImages(FaceWorldBlendPairs(pairs, size, seed, "train"))
    val = FaceImages(FaceWorldBlendPairs(pairs, size, seed, "val"))
    encoder = VGG19Features(layers=(STYLE_LAYER,), weights=weights, seed=seed)
    decoder = VGGDecoder(STYLE_LAYER, seed=seed)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    loader = ResumableLoader(
        DataLoader(train, batch_size=batch_size, sampler=ResumableSampler(train, seed=seed))
    )
    settings = style_decoder_settings(
        size, pairs, weights, seed, lr, batch_size, feature_weight, train.provenance
    )

    def step_fn(batch: dict, step: int) -> dict[str, torch.Tensor]:
        losses = decoder_loss(decoder, encoder, batch["image"], feature_weight)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimizer.step()
        return {k: v.detach() for k, v in losses.items()}

    trainer = Trainer(
        models={"decoder": decoder}, optimizers={"adam": optimizer}, step_fn=step_fn,
        data=loader, total_steps=steps, out_dir=out_dir, log_every=log_every,
        checkpoint_every=checkpoint_every, progress=progress, settings=settings, fresh=fresh,
    )  # fmt: skip
    history = trainer.run().to_frame()
    decoder.eval()
    images = torch.stack([val[i]["image"] for i in range(min(eval_images, len(val)))])
    summary = {
        "settings": settings,
        "steps": steps,
        "val_psnr": reconstruction_psnr(decoder, encoder, images),
        "val_images": len(images),
        "weights": f"VGGDecoder({STYLE_LAYER}) trained {steps} steps here (lr {lr}, batch "
        f"{batch_size}, seed {seed}) on {train.provenance}; encoder {encoder.provenance}",
        "final": {k: float(history[k].iloc[-1]) for k in ("pixel", "feature", "total")},
    }
    torch.save(decoder.state_dict(), out_dir / "decoder.pt")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def load_style_decoder(out_dir: str | os.PathLike):
    """The trained decoder of a :func:`train_style_decoder` run and its summary."""
    from maskstyle.nn.vgg_decoder import VGGDecoder

    summary, weights_path = read_run_summary(
        out_dir, "decoder.pt", "python -m maskstyle.models.lrnet.style_decoder --steps N"
    )
    decoder = VGGDecoder(STYLE_LAYER, seed=summary["settings"]["seed"])
    decoder.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    decoder.eval()
    decoder.provenance = summary["weights"]
    return decoder, summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the style-blending baseline's decoder.")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=64, help="image size (px)")
    parser.add_argument("--pairs", type=int, default=100, help="face-world pairs (70%% train)")
    parser.add_argument("--weights", default="random", help="VGG19: random|imagenet|path")
    parser.add_argument("--lr", type=float, default=LEARNING_RATE)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--feature-weight", type=float, default=FEATURE_WEIGHT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--fresh", action="store_true", help="start over, ignore checkpoints")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Command-line run: train, write ``decoder.pt`` and ``summary.json``."""
    from maskstyle.utils.seed import seed_everything

    args = parse_args(argv)
    seed_everything(args.seed)
    summary = train_style_decoder(
        args.steps, args.out, size=args.size, pairs=args.pairs, weights=args.weights,
        seed=args.seed, lr=args.lr, batch_size=args.batch_size,
        feature_weight=args.feature_weight, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every, fresh=args.fresh,
    )  # fmt: skip
    print(f"reconstruction PSNR on {summary['val_images']} validation faces: "
          f"{summary['val_psnr']:.2f} dB", flush=True)  # fmt: skip
    return summary


if __name__ == "__main__":
    main()
