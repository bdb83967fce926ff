"""Region-restricted neural patch swap: the library's two strategies vs a plain loop over
regions vs a loop over positions (the per-position matching of an "Algorithm 1"-style
description).

All compute the same matches (checked here); the script prints each one's time and the
ratios, measured in one run on VGG19 relu3_1 features of ``--size`` px images (random
VGG weights unless ``--weights`` says otherwise: timings do not depend on them).

- masked: ``match_patches(..., strategy="masked")`` - one similarity matrix for all
  regions, cross-region pairs set to -inf before the argmax (chunked for memory);
- per_region (the default): ``match_patches(..., strategy="per_region")`` - one product per
  region;
- loop over regions: the same written out here as a reference;
- per position: for each content patch, its similarities with its region's style patches.
  With ``--positions N`` only N positions are timed and the full cost is EXTRAPOLATED
  (printed as such).

    python benchmarks/bench_patch_swap.py [--size 256] [--positions 500]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

import maskstyle  # noqa: F401  (makes torchvision importable)
from maskstyle.nn.masks import resize_labels
from maskstyle.nn.patch_swap import match_patches, patch_labels
from maskstyle.nn.vgg import VGG19Features


def per_region(content, style, c_mask, s_mask, k=3):
    """Loop over the regions present in the content; one product per region."""
    filters = F.normalize(F.unfold(style, k), dim=1, eps=1e-8)[0]  # [D, L_s]
    patches = F.unfold(content, k)[0]  # [D, L_c]
    c_labels, s_labels = patch_labels(c_mask, k)[0], patch_labels(s_mask, k)[0]
    index = torch.full_like(c_labels, -1)
    for label in c_labels.unique().tolist():
        c_sel = (c_labels == label).nonzero()[:, 0]
        s_sel = (s_labels == label).nonzero()[:, 0]
        if len(s_sel) == 0:
            continue
        scores = filters[:, s_sel].T @ patches[:, c_sel]
        index[c_sel] = s_sel[scores.argmax(0)]
    return index[None]


def per_position(content, style, c_mask, s_mask, k=3, limit=None):
    """Loop over content positions; each matched against its region's style patches."""
    filters = F.normalize(F.unfold(style, k), dim=1, eps=1e-8)[0]
    patches = F.unfold(content, k)[0]
    c_labels, s_labels = patch_labels(c_mask, k)[0], patch_labels(s_mask, k)[0]
    by_region = {}
    for label in s_labels.unique().tolist():
        sel = (s_labels == label).nonzero()[:, 0]
        by_region[label] = (sel, filters[:, sel].T.contiguous())
    count = len(c_labels) if limit is None else min(limit, len(c_labels))
    index = torch.full((count,), -1, dtype=torch.long)
    for i in range(count):
        entry = by_region.get(int(c_labels[i]))
        if entry is not None:
            sel, region_filters = entry
            index[i] = sel[(region_filters @ patches[:, i]).argmax()]
    return index[None]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--layer", default="relu3_1")
    parser.add_argument("--positions", type=int, default=None, help="time only N positions")
    parser.add_argument("--weights", default="random")
    args = parser.parse_args()

    g = torch.Generator().manual_seed(0)
    images = torch.rand(2, 3, args.size, args.size, generator=g)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, args.size), torch.linspace(-1, 1, args.size),
                            indexing="ij")  # fmt: skip
    mask = ((xs**2 + ys**2).sqrt() * 6).long().clamp(max=8)[None]  # 9 ring-shaped regions
    encoder = VGG19Features((args.layer,), weights=args.weights)
    with torch.no_grad():
        feats = encoder(images)[args.layer]
    content, style = feats[:1], feats[1:]
    size = tuple(content.shape[-2:])
    c_mask = resize_labels(mask, size)
    s_mask = resize_labels(mask.flip(-1).transpose(-1, -2), size)
    print(f"features {tuple(content.shape)} ({args.layer} of {args.size} px noise images, "
          f"{encoder.provenance}); 3x3 patches, {len(c_mask.unique())} regions")  # fmt: skip

    def library(strategy):
        return lambda: match_patches(content, style, 3, 1, c_mask, s_mask, strategy=strategy)

    library("masked")()  # warm-up
    library("per_region")()
    masked, t_masked = timed(library("masked"))
    default, t_default = timed(library("per_region"))
    loop, t_loop = timed(lambda: per_region(content, style, c_mask, s_mask))
    pos, t_pos = timed(lambda: per_position(content, style, c_mask, s_mask, limit=args.positions))
    total = masked.shape[1]
    assert torch.equal(masked, default), "the two library strategies disagree"
    assert torch.equal(masked, loop), "per-region loop disagrees with the library"
    assert torch.equal(masked[:, : pos.shape[1]], pos), "per-position loop disagrees"
    print(f"library, masked (all regions in one product): {t_masked * 1e3:8.1f} ms")
    print(f"library, per_region (default):                {t_default * 1e3:8.1f} ms  "
          f"(masked / per_region = {t_masked / t_default:.2f})")  # fmt: skip
    print(f"reference loop over regions:                  {t_loop * 1e3:8.1f} ms")
    if pos.shape[1] < total:
        full = t_pos * total / pos.shape[1]
        print(f"loop over positions:                          {t_pos * 1e3:8.1f} ms for "
              f"{pos.shape[1]} of {total} positions (measured); {full:.2f} s for all "
              "(EXTRAPOLATED)")  # fmt: skip
    else:
        full = t_pos
        print(f"loop over positions:                          {t_pos * 1e3:8.1f} ms (measured)")
    print(
        f"loop over positions / per_region: {full / t_default:.1f}x; "
        f"loop over positions / masked: {full / t_masked:.1f}x; all give the same matches"
    )


if __name__ == "__main__":
    main()
