"""LRNet speed, measured in one run at 256 px on CPU (issue 5's performance targets).

Prints three ratios, each from timings taken in this run on this machine:

1. LRNet inference / style blending (AdaIN at VGG19 relu4_1 + its decoder + alpha
   blending), same pair, same resolution - target <= 1.0. Poisson blending (OpenCV
   ``seamlessClone``) is reported beside it without a target.
2. ``local_reshuffle`` over *all* 10 LRNet regions / one unrestricted ``patch_swap`` over
   the same relu2_1 features - target <= 1.0.
3. The speed-up of ``local_reshuffle`` over per-position matching as Algorithm 2 writes it
   (one matrix-vector product per position of A against its region's patches of B). That
   loop is timed on a uniform random sample of positions and extrapolated to all of them
   (running it on all 16,384 positions would take minutes); the sample size is printed.

Weights are random (no ImageNet VGG here): timings only, no image quality is claimed.
Data: one face-world blend pair (``maskstyle.data.synth.pairs.blend_pair``).

Run: ``python benchmarks/bench_lrnet.py [--size 256] [--repeat 3] [--positions 256]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

import maskstyle  # noqa: F401  (makes torchvision importable)
from maskstyle.baselines.blending import StyleBlending, poisson_blending
from maskstyle.data.synth.pairs import blend_pair
from maskstyle.models.lrnet.model import LRNet
from maskstyle.models.lrnet.regions import NUM_LRNET_REGIONS, to_lrnet_regions
from maskstyle.nn.local_reshuffle import local_reshuffle
from maskstyle.nn.masks import resize_labels
from maskstyle.nn.patch_swap import patch_swap


def timed(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall time of ``repeat`` calls after ``warmup`` untimed ones (seconds)."""
    with torch.no_grad():
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_position_seconds(
    feat_a: torch.Tensor,
    feat_b: torch.Tensor,
    mask_a: torch.Tensor,
    mask_b: torch.Tensor,
    positions: int,
    seed: int,
) -> tuple[float, int]:
    """Algorithm 2 position by position, on a random sample; returns (seconds/position, n)."""
    patches_a = F.unfold(feat_a, 3, padding=1)[0]  # [D, N]
    filters_b = F.normalize(F.unfold(feat_b, 3, padding=1)[0], dim=0)
    labels_a, labels_b = mask_a.flatten(), mask_b.flatten()
    # per-region candidate matrices built once (not timed): the loop itself is what we measure
    candidates = {}
    for r in labels_a.unique().tolist():
        idx = (labels_b == r).nonzero()[:, 0]
        if len(idx):
            candidates[r] = (idx, filters_b[:, idx].T.contiguous())
    g = torch.Generator().manual_seed(seed)
    sample = torch.randperm(labels_a.numel(), generator=g)[:positions].tolist()
    out = torch.empty(feat_a.shape[1], len(sample))
    values_b = feat_b[0].flatten(1)
    with torch.no_grad():
        start = time.perf_counter()
        for col, i in enumerate(sample):
            region = int(labels_a[i])
            if region not in candidates:
                continue
            idx, block = candidates[region]
            j = idx[torch.argmax(block @ patches_a[:, i])]
            out[:, col] = values_b[:, j]
        elapsed = time.perf_counter() - start
    return elapsed / len(sample), len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--positions", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    pair = blend_pair(args.seed, args.size)
    x_a, x_b = pair["a"]["image"][None], pair["b"]["image"][None]
    regions_a = to_lrnet_regions(pair["a"]["mask"][None])
    regions_b = to_lrnet_regions(pair["b"]["mask"][None])
    coords_a, coords_b = pair["a"]["coords"][None], pair["b"]["coords"][None]

    print(
        f"# LRNet benchmark - {args.size} px, CPU ({platform.processor() or platform.machine()}),"
    )
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads; face-world pair seed")
    print(f"# {args.seed}; random VGG19/decoder weights (timing only).")

    model = LRNet(weights="random", seed=0)
    fg = model.foreground(regions_a)
    style = StyleBlending(weights="random", seed=0)
    t_lrnet = timed(lambda: model(x_a, x_b, regions_a, regions_b, coords_a, coords_b), args.repeat)
    t_style = timed(lambda: style(x_a, x_b, fg), args.repeat)
    t_poisson = timed(lambda: poisson_blending(x_a, x_b, fg), args.repeat)

    with torch.no_grad():
        feats = model.encode(torch.cat([x_a, x_b]))
    feat_a, feat_b = feats[:1], feats[1:]
    size = tuple(feat_a.shape[-2:])
    mask_a, mask_b = resize_labels(regions_a, size), resize_labels(regions_b, size)
    t_reshuffle = timed(
        lambda: local_reshuffle(feat_a, feat_b, mask_a, mask_b, num_regions=NUM_LRNET_REGIONS),
        repeat=1,
    )
    t_swap = timed(lambda: patch_swap(feat_a, feat_b), repeat=1)
    t_position, sampled = per_position_seconds(
        feat_a, feat_b, mask_a, mask_b, args.positions, args.seed
    )
    t_loop = t_position * mask_a.numel()

    rows = [
        ("LRNet inference (both branches, 3D coords)", t_lrnet),
        ("style blending (AdaIN relu4_1 + decoder + alpha)", t_style),
        ("Poisson blending (cv2.seamlessClone NORMAL)", t_poisson),
        (f"local_reshuffle, all regions, {size[0]}x{size[1]}x{feat_a.shape[1]}", t_reshuffle),
        ("patch_swap, unrestricted, same features", t_swap),
        (f"per-position Algorithm 2 (extrapolated from {sampled})", t_loop),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1000:10.1f} ms")

    def verdict(ratio: float, goal: float | None) -> str:
        return "" if goal is None else ("  PASS (<= 1.0)" if ratio <= goal else "  FAIL (> 1.0)")

    ratios = [
        ("LRNet / style blending", t_lrnet / t_style, 1.0),
        ("LRNet / Poisson", t_lrnet / t_poisson, None),
        ("local_reshuffle (all regions) / patch_swap", t_reshuffle / t_swap, 1.0),
        ("per-position loop / local_reshuffle (speed-up)", t_loop / t_reshuffle, None),
    ]
    print()
    for name, ratio, goal in ratios:
        print(f"{name:<{width}}  {ratio:10.3f}{verdict(ratio, goal)}")


if __name__ == "__main__":
    main()
