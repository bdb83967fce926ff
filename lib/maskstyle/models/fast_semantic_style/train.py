"""Train a fast-semantic-style decoder from the command line (Eq. 6; Sec. 4).

    python -m maskstyle.models.fast_semantic_style.train --layer relu3_1 --steps 200 \\
        --size 64 --out runs/fast_semantic_style/smoke/decoder_relu3_1

Paper profile: ``--size 256 --batch-size 2 --steps 80000 --lr 1e-3 --tv-weight 1e-6
--content-dir COCO --style-dir PainterByNumbers --weights imagenet``. Without folders the
face world is used (synthetic; results say so). Resumes from ``--out/checkpoints``; writes
``history.csv`` and ``summary.json`` (steps, last losses, data and weights provenance).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from maskstyle.models.fast_semantic_style.data import (
    content_samples,
    face_world_pairs,
    folder_pairs,
)
from maskstyle.models.fast_semantic_style.training import decoder_psnr, train_decoder
from maskstyle.nn.vgg import VGG19Features
from maskstyle.nn.vgg_decoder import VGGDecoder
from maskstyle.utils.seed import seed_everything


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a VGG19 feature decoder by Eq. 6.")
    parser.add_argument("--layer", default="relu3_1")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--tv-weight", type=float, default=1e-6)
    parser.add_argument("--weights", default="random", help="VGG19: imagenet, random or a path")
    parser.add_argument("--content-dir", default=None)
    parser.add_argument("--style-dir", default=None)
    parser.add_argument("--n-faces", type=int, default=64, help="face-world set size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--pairs",
        default="all",
        choices=("all", "matched"),
        help="patch-swap every content with every style (paper) or i with i",
    )
    parser.add_argument(
        "--normalise-input",
        action="store_true",
        help="fix the decoder's input_scale to 1 / RMS of the first batch",
    )
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument(
        "--pixel-weight",
        type=float,
        default=0.0,
        help="weight of a pixel MSE on the plain content/style features (0: Eq. 6 only)",
    )
    parser.add_argument(
        "--lr-drop-fraction",
        type=float,
        default=0.0,
        help="multiply the learning rate by 0.1 from this fraction of --steps on (0: never)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument(
        "--eval-faces",
        type=int,
        default=16,
        help="held-out face-world faces for the PSNR of g(f(x)) in summary.json",
    )
    parser.add_argument(
        "--eval-seed",
        type=int,
        default=100000,
        help="render_face seeds eval_seed.. (disjoint from the training set's)",
    )
    parser.add_argument("--profile", default=None, help="the workbook profile (recorded)")
    parser.add_argument(
        "--fresh", action="store_true", help="discard checkpoints in --out made with other settings"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    seed_everything(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    if (args.content_dir is None) != (args.style_dir is None):
        raise SystemExit("give both --content-dir and --style-dir, or neither (face world)")
    if args.content_dir is None:
        data, description = face_world_pairs(
            args.n_faces, args.n_faces, args.size, args.batch_size, args.seed
        )
    else:
        data, description = folder_pairs(
            args.content_dir, args.style_dir, args.size, args.batch_size, args.seed
        )
    encoder = VGG19Features((args.layer,), weights=args.weights, seed=args.seed)
    decoder = VGGDecoder(args.layer, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # everything that defines the model; not the length, logging, threads or evaluation
    not_settings = ("out", "steps", "no_progress", "checkpoint_every", "log_every", "threads",
                    "fresh", "eval_faces", "eval_seed")  # fmt: skip
    settings = {k: v for k, v in vars(args).items() if k not in not_settings}
    history = train_decoder(
        decoder,
        encoder,
        data,
        total_steps=args.steps,
        out_dir=out,
        lr=args.lr,
        tv_weight=args.tv_weight,
        data_provenance=description,
        checkpoint_every=args.checkpoint_every,
        log_every=args.log_every,
        progress=not args.no_progress,
        pairs=args.pairs,
        normalise_input=args.normalise_input,
        channels_last=args.channels_last,
        settings=settings,
        fresh=args.fresh,
        lr_drop_at=round(args.lr_drop_fraction * args.steps),
        pixel_weight=args.pixel_weight,
    )
    frame = history.to_frame()
    summary = {
        "layer": args.layer,
        "steps": args.steps,
        "size": args.size,
        "batch_size": args.batch_size,
        "last": {k: float(frame[k].iloc[-1]) for k in ("feature", "tv", "pixel", "total")
                 if k in frame},  # fmt: skip
        "data": description,
        "settings": settings,
        "encoder": encoder.provenance,
        "decoder": decoder.provenance,
    }
    if args.eval_faces:
        held, held_text = content_samples(args.eval_faces, args.size, args.eval_seed)
        images = torch.stack([h["image"] for h in held])
        summary["psnr_held_out"] = decoder_psnr(decoder, encoder, images)
        summary["psnr_data"] = f"held out: {held_text}"
        print(f"{args.layer}: PSNR of g(f(x)) on {args.eval_faces} held-out faces "
              f"{summary['psnr_held_out']:.2f} dB", flush=True)  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
