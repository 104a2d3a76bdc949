"""The ``nas-harness`` command line: one sub-command module per concern.

Each concern registers its own sub-commands (``add_commands(subparsers)``) so this file stays
a table of contents; the modules import their heavy dependencies only inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from nas_harness import __version__
from nas_harness.benchmarks.errors import HarnessError

# (module, what it adds) -- each module exposes add_commands(subparsers)
COMMAND_MODULES: tuple[str, ...] = (
    "nas_harness.cli.data",        # data fetch | build | info
    "nas_harness.cli.algorithms",  # list
    "nas_harness.cli.run",         # run | reproduce
    "nas_harness.cli.analysis",    # report | check | bless
    "nas_harness.cli.tune",        # tune
    "nas_harness.cli.fronts",      # front | fronts
    "nas_harness.cli.proxies",     # proxies report | add | list | compute | guided
)

# How ``nas-harness --help`` groups the sub-commands, each with one example. A sub-command
# registered by a module but named in no group is listed under "other", so none is hidden.
COMMAND_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("data", (("data", "nas-harness data fetch"),)),
    ("run", (
        ("list", "nas-harness list --sources"),
        ("run", "nas-harness run -a evolution -d cifar10 --runs 10"),
        ("reproduce", "nas-harness reproduce"),
    )),
    ("analyse", (
        ("report", "nas-harness report experiments/paper.toml --out /tmp/paper-report"),
        ("check", "nas-harness check"),
        ("bless", "nas-harness bless"),
    )),
    ("tune", (("tune", "nas-harness tune -a evolution"),)),
    ("fronts", (
        ("front", "nas-harness front -d cifar10 --split test --cost flops"),
        ("fronts", "nas-harness fronts experiments/fronts.toml"),
    )),
    ("proxies", (("proxies", "nas-harness proxies report"),)),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="nas-harness",
        description="Benchmark NAS algorithms on NATS-Bench's size search space.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    from nas_harness.cli.run import DefaultsParser

    # every sub-command's --help shows its defaults
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=DefaultsParser,
                                help=argparse.SUPPRESS)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(sub)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.usage = "%(prog)s [-h] [--version] COMMAND ..."
    parser.epilog = grouped_commands(sub)
    return parser


def grouped_commands(sub: Any) -> str:
    """The sub-commands by group, each with its one-line help and one example."""
    helps = {action.dest: action.help or "" for action in sub._choices_actions}
    groups = [(title, [(name, example) for name, example in members if name in helps])
              for title, members in COMMAND_GROUPS]
    named = {name for _, members in groups for name, _ in members}
    other = [(name, f"nas-harness {name} --help") for name in helps if name not in named]
    if other:
        groups.append(("other", other))
    import textwrap

    width = max(len(name) for name in helps)
    indent = " " * (width + 6)
    lines = ["commands (`nas-harness COMMAND --help` lists a command's options):"]
    for title, members in groups:
        lines.append(f"\n  {title}:")
        for name, example in members:
            lines += textwrap.wrap(helps[name], 92, initial_indent=f"    {name:<{width}}  ",
                                   subsequent_indent=indent)
            lines.append(f"{indent}e.g. {example}")
    lines.append("\ndocumentation: docs/ in the repository (`mkdocs serve` shows it as a site)")
    return "\n".join(lines)


def _warning_line(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    """Show a ``UserWarning`` of the harness as one line (not Python's file:line format)."""
    print(f"nas-harness: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn harness errors into one clear line."""
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    previous = warnings.showwarning
    warnings.showwarning = _warning_line
    try:
        return int(args.handler(args) or 0)
    except HarnessError as exc:
        print(f"nas-harness: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk or the file system refused: say what, not where
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"nas-harness: error: {exc.strerror or exc}{where}; check free space and "
              "permissions there, then re-run the same command", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nas-harness: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":
    sys.exit(main())
