"""The ``maskstyle`` command line.

Each subsystem contributes its own subcommands through a ``register(subparsers)`` function
(``maskstyle.data.cli``, ``maskstyle.data.synth.cli``, ``maskstyle.workbook.cli``); this
module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (module, what it adds) - each module defines register(subparsers) -> None.
_COMMAND_MODULES = (
    "maskstyle.data.cli",
    "maskstyle.data.synth.cli",
    "maskstyle.workbook.cli",
)


def build_parser() -> argparse.ArgumentParser:
    import maskstyle

    parser = argparse.ArgumentParser(
        prog="maskstyle",
        description="Replication workbook for mask-based style transfer and blending of faces.",
    )
    parser.add_argument("--version", action="version", version=f"maskstyle {maskstyle.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # that subsystem is not built (yet): skip it
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
