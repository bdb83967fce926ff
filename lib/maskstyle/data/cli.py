"""``maskstyle data``: list the dataset manifests and verify a local copy.

- ``maskstyle data list`` - one row per manifest: name, what it is, licence, papers.
- ``maskstyle data verify NAME --root DIR [--full]`` - per-rule report; exit 0 when every
  rule passes, 1 when one fails, 2 for an unknown name or a missing root.
"""

from __future__ import annotations

import argparse
import sys

from maskstyle.data.manifests import list_manifests, load_manifest, verify_dataset


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``data list`` and ``data verify`` to the root parser's subcommands."""
    data = subparsers.add_parser("data", help="real datasets: manifests and verification")
    data_sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    listing = data_sub.add_parser("list", help="list the dataset manifests")
    listing.set_defaults(func=run_list)

    verify = data_sub.add_parser("verify", help="check a local copy against its manifest")
    verify.add_argument("name", help="manifest name (see `maskstyle data list`)")
    verify.add_argument("--root", required=True, help="folder holding the dataset")
    verify.add_argument(
        "--full",
        action="store_true",
        help="exact counts and md5 checksums (default: structure only, counts as minimums)",
    )
    verify.set_defaults(func=run_verify)

    def show_help(_args: argparse.Namespace) -> int:
        data.print_help()
        return 2

    data.set_defaults(func=show_help)


def _one_line(text: object, width: int) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 3] + "..."


def run_list(_args: argparse.Namespace) -> int:
    rows = [("name", "what", "licence", "used by")]
    for name in list_manifests():
        m = load_manifest(name)
        papers = ", ".join(sorted({u["paper"] for u in m.get("used_by", [])}))
        rows.append((name, _one_line(m.get("what", m["title"]), 60),
                     _one_line(m["licence"], 40), papers))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    try:
        report = verify_dataset(args.name, args.root, full=args.full)
    except KeyError as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report.format())
    return 0 if report.ok else 1
