"""Face-world rendering speed: faces per second at 64, 128 and 256 px on one core.

Run: ``python benchmarks/bench_synth.py [--faces N]``. Prints faces/s per size (best of
three timed rounds over the same parameter draws, after one warm-up face) both by wall
clock and by this process's CPU time (``time.process_time``: what one core delivers, even
on a machine shared with other jobs; threads would add to it, so it can only understate
the speed), the ratio to the 100 faces/s target at 128 px, and
the cost of each layer at 128 px - all measured in this one run.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

import maskstyle  # noqa: F401  (makes torchvision importable, as everywhere in maskstyle)
from maskstyle.data.synth.canvas import Canvas
from maskstyle.data.synth.params import sample_params
from maskstyle.data.synth.renderer import LAYERS, render
from maskstyle.data.synth.scene import build_scene

TARGET_128 = 100.0


def faces_per_second(size: int, params: list) -> tuple[float, float]:
    """(wall-clock, CPU-time) faces per second, best of three rounds."""
    render(params[0], size)  # warm-up
    wall, cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        for p in params:
            render(p, size)
        wall.append(len(params) / (time.perf_counter() - start))
        cpu.append(len(params) / (time.process_time() - start_cpu))
    return max(wall), max(cpu)


def layer_costs(size: int, params: list) -> dict[str, float]:
    costs = {"scene": 0.0, **{name: 0.0 for name, _ in LAYERS}}
    for p in params:
        start = time.process_time()
        scene = build_scene(p, size)
        costs["scene"] += time.process_time() - start
        canvas = Canvas(size)
        for name, layer in LAYERS:
            start = time.process_time()
            layer(canvas, scene)
            costs[name] += time.process_time() - start
    return {name: 1000 * t / len(params) for name, t in costs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    params = [sample_params(i) for i in range(args.faces)]
    print(f"face world render speed, {args.faces} faces per round, one thread")
    print(f"  load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    speeds = {size: faces_per_second(size, params) for size in (64, 128, 256)}
    for size, (wall, cpu) in speeds.items():
        print(f"  {size:4d} px: {wall:7.1f} faces/s wall, {cpu:7.1f} faces/s CPU time"
              f"  ({1000 / cpu:6.2f} CPU ms/face)")  # fmt: skip
    wall, cpu = speeds[128]
    print(f"  128 px vs target {TARGET_128:.0f} faces/s: x{wall / TARGET_128:.2f} (wall), "
          f"x{cpu / TARGET_128:.2f} (CPU time)")  # fmt: skip
    print("per-layer CPU time at 128 px (ms/face):")
    for name, ms in sorted(layer_costs(128, params).items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28s} {ms:6.2f}")


if __name__ == "__main__":
    main()
