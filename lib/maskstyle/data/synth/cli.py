"""``maskstyle faceworld render | check | figures``: the face world from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path


def _render(args: argparse.Namespace) -> int:
    from maskstyle.data.synth.dataset import SynthFaces
    from maskstyle.data.synth.writer import write_celebamask_hq

    if args.kind != "single":
        print(f"error: only kind 'single' can be written as CelebAMask-HQ, got {args.kind!r}")
        return 2
    data = SynthFaces(args.n, args.size, args.seed, args.kind)
    root = write_celebamask_hq(data, args.out, args.image_format, progress=True)
    print(f"wrote {args.n} faces ({args.size} px, seed {args.seed}) to {root}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from maskstyle.data.synth.check import check_rendered_set

    results = check_rendered_set(args.dir, recheck=args.recheck)
    width = max(len(name) for name, _, _ in results)
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name:<{width}}  {detail}")
    failed = [name for name, ok, _ in results if not ok]
    if failed:
        print(f"{args.dir}: {len(failed)} check(s) failed: {', '.join(failed)}")
        return 1
    print(f"{args.dir}: all {len(results)} checks passed")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from maskstyle.data.synth.figures import save_overview_figures

    for path in save_overview_figures(args.out, seed=args.seed, size=args.size):
        print(path)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``faceworld`` with its ``render``, ``check`` and ``figures`` subcommands."""
    parser = subparsers.add_parser("faceworld", help="render and check procedural face sets")
    sub = parser.add_subparsers(dest="faceworld_command", metavar="SUBCOMMAND", required=True)

    render = sub.add_parser("render", help="render a set in the CelebAMask-HQ layout")
    render.add_argument("--out", type=Path, required=True, help="output directory")
    render.add_argument("--n", type=int, default=16, help="number of faces")
    render.add_argument("--size", type=int, default=128, help="image size in px (32..512)")
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("--kind", default="single", choices=["single"])
    render.add_argument("--image-format", default="jpg", choices=["jpg", "png"])
    render.set_defaults(func=_render)

    check = sub.add_parser("check", help="verify a rendered set (exit 1 naming failures)")
    check.add_argument("dir", type=Path)
    check.add_argument("--recheck", type=int, default=2, help="faces to re-render and compare")
    check.set_defaults(func=_check)

    figures = sub.add_parser("figures", help="save the face-world overview figures")
    figures.add_argument("--out", type=Path, default=Path("results/face_world"))
    figures.add_argument("--seed", type=int, default=0)
    figures.add_argument("--size", type=int, default=128)
    figures.set_defaults(func=_figures)
