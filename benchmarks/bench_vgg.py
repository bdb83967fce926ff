"""VGG19Features: one pass for several layers vs one pass per layer, and bf16 autocast.

Prints ratios measured in this one run (random weights: speed does not depend on them).
Usage: ``python benchmarks/bench_vgg.py [--size 256] [--repeats 3]``.
"""

from __future__ import annotations

import argparse

import torch

from maskstyle.metrics.timing import time_call
from maskstyle.nn.vgg import DEFAULT_LAYERS, VGG19Features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    x = torch.rand(1, 3, args.size, args.size)
    joint = VGG19Features(DEFAULT_LAYERS, weights="random")
    single = [VGG19Features((layer,), weights="random") for layer in DEFAULT_LAYERS]

    def separate(image: torch.Tensor) -> list[torch.Tensor]:
        return [net(image) for net in single]

    with torch.inference_mode():
        t_joint = time_call(joint, x, warmup=1, repeats=args.repeats)
        t_separate = time_call(separate, x, warmup=1, repeats=args.repeats)

        def bf16(image: torch.Tensor) -> dict[str, torch.Tensor]:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return joint(image)

        t_bf16 = time_call(bf16, x, warmup=1, repeats=args.repeats)

    print(f"VGG19 relu1_1..relu4_1 at {args.size} px, batch 1 ({joint.provenance})")
    print(f"  one pass, 4 layers : {t_joint}")
    print(f"  4 passes, 1 layer  : {t_separate}")
    print(f"  one pass, bf16     : {t_bf16}")
    print(f"  ratio separate / joint = {t_separate.median / t_joint.median:.2f}")
    print(f"  ratio bf16 / fp32      = {t_bf16.median / t_joint.median:.2f}")


if __name__ == "__main__":
    main()
