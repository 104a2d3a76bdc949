"""``nas-harness list``: every available algorithm with its parameters, defaults and presets."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(subparsers: Any) -> None:
    """Register ``list`` on the ``nas-harness`` sub-command parser."""
    parser = subparsers.add_parser(
        "list",
        help="list the search algorithms and their parameters",
        description="List every available search algorithm (built-in, entry points and "
                    "--plugin files) with its parameters, their defaults and where each "
                    "default comes from, and its named presets (published settings, usable "
                    "as -a FAMILY:PRESET) with their sources. Set a parameter on `run` with "
                    "--param NAME=VALUE.",
    )
    parser.add_argument("--plugin", action="append", default=[], metavar="FILE",
                        help="also load algorithms from this Python file (repeatable)")
    parser.add_argument("--sources", action="store_true",
                        help="show where each default comes from")
    parser.set_defaults(handler=_list_handler)


def format_algorithms(show_sources: bool = False) -> str:
    """The text ``nas-harness list`` prints."""
    from nas_harness.algorithms.params import describe_params
    from nas_harness.algorithms.registry import available_algorithms, presets_of

    lines: list[str] = []
    for name, cls in available_algorithms().items():
        doc = (cls.__doc__ or "").strip().splitlines()
        lines.append(f"{name}: {doc[0] if doc else cls.__qualname__}")
        missing = cls.unavailable()
        if missing:
            lines.append(f"    ({missing})")
        specs = describe_params(cls.Params)
        if not specs:
            lines.append("    (no parameters)")
        width = max((len(s.name) for s in specs), default=0)
        for spec in specs:
            lines.append(f"    {spec.name:<{width}}  {spec.type_name} = {spec.default!r}"
                         f"  {spec.help}")
            if show_sources and spec.source:
                lines.append(f"    {'':<{width}}  source: {spec.source}")
            if show_sources and spec.tunable:
                values = spec.values()
                space = (",".join(map(str, values)) if values is not None
                         else f"{spec.low}..{spec.high}{' (log)' if spec.log else ''}")
                lines.append(f"    {'':<{width}}  tuned over: {space}")
        for preset_name, preset in presets_of(cls).items():
            settings = " ".join(f"{k}={v}" for k, v in preset.params.items())
            lines.append(f"  preset {name}:{preset_name}  {settings}")
            lines.append(f"      source: {preset.source}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _list_handler(args: argparse.Namespace) -> int:
    from nas_harness.algorithms.registry import load_plugin

    for path in args.plugin:
        load_plugin(path)
    print(format_algorithms(args.sources), end="")
    return 0
