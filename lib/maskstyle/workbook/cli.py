"""``maskstyle run``: re-run a series of notebooks headless and collect its results.

maskstyle run --list
maskstyle run all --profile smoke
maskstyle run lrnet --profile paper --set data_root=/data/CelebAMask-HQ
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maskstyle.workbook.paths import PROFILES, SMOKE, repo_root


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand to the root ``maskstyle`` parser."""
    parser = subparsers.add_parser(
        "run",
        help="run notebook series with papermill and write results/",
        description="Execute each series' notebooks in order (papermill, kernel python3) "
        "and write results/<series>/<profile>/ plus results/README.md.",
    )
    parser.add_argument("series", nargs="*", help="series names, or 'all'")
    parser.add_argument("--profile", choices=PROFILES, default=SMOKE)
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a notebook parameter (must be declared in its parameters cell)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed passed to every notebook")
    parser.add_argument("--out", type=Path, default=None, help="results root (default results/)")
    parser.add_argument(
        "--notebooks", type=Path, default=None, help="notebooks root (default notebooks/)"
    )
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    parser.add_argument("--force", action="store_true", help="re-run finished notebooks too")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per cell (default: the profile's)"
    )
    parser.add_argument("--list", action="store_true", help="list series and parameters")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run_command)


def list_series(notebooks_root: Path) -> str:
    """Text of ``maskstyle run --list``: series, notebooks, parameters with defaults."""
    from maskstyle.workbook.series import discover_series, load_profile

    lines = []
    for series in discover_series(notebooks_root).values():
        lines.append(f"{series.name}  ({series.folder})")
        if series.error:
            lines.append(f"  cannot run: {series.error}")
            continue
        profiles = {name: load_profile(series, name) for name in sorted(series.profile_files)}
        for name, prof in profiles.items():
            if prof.description:
                lines.append(f"  {name} profile: {prof.description}")
        for nb in series.notebooks:
            lines.append(f"  {nb.name}")
            for name, default in series.parameters[nb.name].items():
                extra = "".join(
                    f"   [{pname}: {over[name]!r}]"
                    for pname, prof in profiles.items()
                    if name in (over := {**prof.shared, **prof.per_notebook.get(nb.name, {})})
                )
                lines.append(f"    {name} = {default!r}{extra}")
    return "\n".join(lines) if lines else f"no series in {notebooks_root}"


def run_command(args: argparse.Namespace) -> int:
    from maskstyle.workbook.runner import WorkbookError, parse_sets, plan_batch, run_batch

    notebooks_root = args.notebooks or repo_root() / "notebooks"
    try:
        if args.list:
            print(list_series(notebooks_root))
            return 0
        jobs = plan_batch(
            args.series,
            args.profile,
            notebooks_root=notebooks_root,
            out_root=args.out,
            sets=parse_sets(args.sets),
            seed=args.seed,
            execution_timeout=args.timeout,
        )
    except (WorkbookError, FileNotFoundError, ValueError) as err:
        print(f"maskstyle run: error: {err}", file=sys.stderr)
        return 2
    out_root = args.out or repo_root() / "results"
    try:
        report = run_batch(
            jobs,
            fail_fast=args.fail_fast,
            force=args.force,
            progress=not args.no_progress,
            out_root=out_root,
        )
    except KeyboardInterrupt:
        print("maskstyle run: interrupted; run again to resume", file=sys.stderr)
        return 130
    for result in report.results:
        ran = "ran" if result.ran else "reused"
        label = f"{result.job.series}/{result.job.notebook.name}"
        detail = f"  {result.error}" if result.error else ""
        note = ran if result.status == "ok" else ""
        print(f"{result.status:8s} {note:7s} {label}{detail}")
    print(f"results index: {Path(out_root) / 'README.md'}")
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """``maskstyle run`` on its own (used by tests; the root CLI is ``maskstyle.cli``)."""
    parser = argparse.ArgumentParser(prog="maskstyle")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", *(argv or [])])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
