"""``--out FILE`` for the speed scripts: what a script prints also goes to a file.

The documentation includes that file at build time, so the numbers it quotes are the ones the
script measured, never typed by hand.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


class _Tee:
    """A text stream that writes to several streams."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def tee(out: str | Path | None) -> Iterator[None]:
    """Copy standard output to ``out`` (written only when the block finishes) if given."""
    if out is None:
        yield
        return
    path = Path(out)
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "w", encoding="utf-8") as handle, \
            contextlib.redirect_stdout(_Tee(sys.stdout, handle)):  # type: ignore[type-var]
        yield
    partial.replace(path)   # a run that fails midway leaves the previous file in place
