"""The ``nas-harness`` command line: :func:`main` and one module of sub-commands per concern."""

from nas_harness.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
