"""The ``nas-harness`` command line: one sub-command module per concern.

Each concern registers its own sub-commands (``add_commands(subparsers)``) so this file stays
a table of contents; the modules import their heavy dependencies only inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks.errors import HarnessError
from nas_harness import __version__

# (module, what it adds) -- each module exposes add_commands(subparsers)
COMMAND_MODULES: tuple[str, ...] = (
    "nas_harness.cli.data",        # data fetch | build | info
    "nas_harness.cli.algorithms",  # list
    "nas_harness.cli.run",         # run | reproduce
    "nas_harness.cli.analysis",    # report | check | bless
    "nas_harness.cli.tune",        # tune
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="nas-harness",
        description="Benchmark NAS algorithms on NATS-Bench's size search space.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn harness errors into one clear line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except HarnessError as exc:
        print(f"nas-harness: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nas-harness: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
