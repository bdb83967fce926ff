"""Fast semantic style transfer vs masked Gatys: the paper's headline timing (Sec. 5.2).

Measured in one run, on this machine's CPU, at ``--size`` px (default 256) and layer
``--layer`` (default relu3_1):

- ours: encode content and style, ``--iterations`` (500) region-wise reconstruction
  iterations (Eq. 5, all regions at once), decode - median of ``--repeats`` runs after a
  warm-up run;
- masked Gatys (guided, per-region Gram matrices): ``--gatys-iters`` (500) L-BFGS
  evaluations with content and style losses at the same layer, same resolution and masks.

With ``--gatys-iters N`` below 500 the Gatys time is EXTRAPOLATED from a measured per-
iteration cost ((t(N) - t(2)) / (N - 2), after a warm-up) and the script says so; both the
measured and the extrapolated numbers are printed. The default measures the real thing.

Weights: ImageNet VGG19 is not on this machine, so by default the encoder is randomly
initialised (``--weights random``) and the decoder untrained: timings do not depend on the
weights' values, but no image made here is a result. Every line of output names them.

    python benchmarks/bench_fast_semantic_style.py [--gatys-iters 20]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

import maskstyle  # noqa: F401  (makes torchvision importable)
from maskstyle.baselines.gatys import gatys_transfer
from maskstyle.models.fast_semantic_style import FastSemanticStyleTransfer
from maskstyle.nn.vgg import VGG19Features
from maskstyle.nn.vgg_decoder import VGGDecoder

PAPER_ITERATIONS = 500


def face_world_pair(
    size: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, str]:
    """A face-world content face and a painted portrait with their 19-class masks."""
    try:
        from maskstyle.data.synth import painted_portrait, render_face

        face, portrait = render_face(0, size=size), painted_portrait(1, size=size)
        return (
            face["image"][None].float(),
            portrait["image"][None].float(),
            face["mask"][None].long(),
            portrait["mask"][None].long(),
            "face world: render_face(0) as content, painted_portrait(1) as style",
        )
    except Exception as error:  # the face world is optional for a timing run
        g = torch.Generator().manual_seed(0)
        ys, xs = torch.meshgrid(
            torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij"
        )
        radius = (xs**2 + ys**2).sqrt()
        mask = (radius * 6).long().clamp(max=8)[None]  # 9 concentric "regions"
        content = torch.rand(1, 3, size, size, generator=g)
        style = torch.rand(1, 3, size, size, generator=g)
        why = f"{type(error).__name__}: {error}"[:120]
        return (
            content,
            style,
            mask,
            mask.flip(-1),
            f"synthetic rings + noise (face world failed: {why})",
        )


def time_ours(pipeline, content, style, c_mask, s_mask, layer, iterations, repeats, track):
    options = dict(layers=layer, iterations=iterations, track_losses=track)
    pipeline(content, style, c_mask, s_mask, **options)  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = pipeline(content, style, c_mask, s_mask, **options)
        runs.append((time.perf_counter() - start, result.seconds))
    runs.sort(key=lambda run: run[0])
    return runs[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--layer", default="relu3_1")
    parser.add_argument("--iterations", type=int, default=PAPER_ITERATIONS)
    parser.add_argument("--gatys-iters", type=int, default=PAPER_ITERATIONS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--weights", default="random", help="'random', 'imagenet' or a path")
    parser.add_argument(
        "--track-losses",
        action="store_true",
        help="also evaluate Eq. 4 at every iteration (diagnostics; off in the paper's timing)",
    )
    args = parser.parse_args()
    if args.gatys_iters < 3:
        parser.error("--gatys-iters must be at least 3 (two points are needed to extrapolate)")

    content, style, c_mask, s_mask, data = face_world_pair(args.size)
    encoder = VGG19Features((args.layer,), weights=args.weights)
    decoder = VGGDecoder(args.layer)
    pipeline = FastSemanticStyleTransfer(decoder, encoder)
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print(f"data: {data}; {args.size} px; regions in content: {len(c_mask.unique())}")
    print(f"weights: {encoder.provenance}; {decoder.provenance} (timing only, no results)")
    tracking = "every iteration" if args.track_losses else "first and last iteration only"
    print(f"layer {args.layer}; ours {args.iterations} reconstruction iterations "
          f"(Eq. 5, relaxation auto; loss evaluated at {tracking})")  # fmt: skip

    wall, parts = time_ours(
        pipeline, content, style, c_mask, s_mask, args.layer, args.iterations, args.repeats,
        args.track_losses,
    )  # fmt: skip
    print(f"ours (median of {args.repeats}): {wall:.3f} s = encode {parts['encode']:.3f} + "
          f"reconstruct {parts['reconstruct']:.4f} + decode {parts['decode']:.3f}")  # fmt: skip
    no_mask, _ = time_ours(
        pipeline, content, style, None, None, args.layer, args.iterations, 1, args.track_losses
    )
    print(f"ours without masks: {no_mask:.3f} s")

    def gatys(iterations: int) -> float:
        result = gatys_transfer(
            content, style, c_mask, s_mask, encoder=encoder, content_layers=(args.layer,),
            style_layers=(args.layer,), iterations=iterations, optimizer="lbfgs",
        )  # fmt: skip
        if result.evaluations != iterations:
            raise RuntimeError(f"L-BFGS stopped after {result.evaluations} of {iterations}")
        return result.seconds

    gatys(2)  # warm-up
    if args.gatys_iters >= PAPER_ITERATIONS:
        measured = gatys(args.gatys_iters)
        gatys_time = measured * PAPER_ITERATIONS / args.gatys_iters
        print(f"masked Gatys, {args.gatys_iters} L-BFGS iterations: {measured:.2f} s (measured)")
        label = "measured"
    else:
        base, measured = gatys(2), gatys(args.gatys_iters)
        per_iteration = (measured - base) / (args.gatys_iters - 2)
        gatys_time = measured + (PAPER_ITERATIONS - args.gatys_iters) * per_iteration
        print(f"masked Gatys, {args.gatys_iters} L-BFGS iterations: {measured:.2f} s (measured); "
              f"{per_iteration:.3f} s per iteration")  # fmt: skip
        print(f"masked Gatys, {PAPER_ITERATIONS} iterations: {gatys_time:.1f} s "
              f"(EXTRAPOLATED from {args.gatys_iters} measured iterations)")  # fmt: skip
        label = "EXTRAPOLATED"
    ratio = gatys_time / wall
    print(f"ratio masked Gatys ({PAPER_ITERATIONS} it, {label}) / ours ({args.iterations} it): "
          f"{ratio:.0f}x   [paper: 83-86x on a GTX Titan X; goal here >= 500x]")  # fmt: skip


if __name__ == "__main__":
    main()
