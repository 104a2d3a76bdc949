"""Progress for every phase: a tqdm bar on a terminal, plain lines anywhere else.

A sweep started from a script, CI or ``nohup`` has no terminal; it still says how far it is,
as a line every few seconds (and at the end) on stderr, so a log shows progress without the
bar's carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

PLAIN_EVERY_S = 5.0  # at most one plain progress line per this many seconds (besides the last)


def note(message: str, enabled: bool = True) -> None:
    """One progress line on stderr (``nas-harness: <message>``)."""
    if enabled:
        print(f"nas-harness: {message}", file=sys.stderr, flush=True)


class PlainProgress:
    """tqdm's ``update``/``close`` as plain lines: ``runs: 120/1500 (8%), 3.1 s``."""

    def __init__(self, total: int, desc: str, stream: TextIO | None = None,
                 every_s: float = PLAIN_EVERY_S) -> None:
        self.total, self.desc, self.every_s = total, desc, every_s
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self.start = self.last = time.monotonic()
        self.closed = False

    def _line(self) -> None:
        pct = 100 * self.n / self.total if self.total else 100.0
        print(f"{self.desc}: {self.n}/{self.total} ({pct:.0f}%), "
              f"{time.monotonic() - self.start:.1f} s", file=self.stream, flush=True)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items; print a line when the last one is old enough."""
        self.n += n
        now = time.monotonic()
        if now - self.last >= self.every_s and self.n < self.total:
            self.last = now
            self._line()

    def close(self) -> None:
        """Print the final count (once)."""
        if not self.closed:
            self.closed = True
            self._line()


def progress_bar(total: int, desc: str, enabled: bool = True) -> Any:
    """A tqdm bar on a terminal, :class:`PlainProgress` otherwise, a silent bar if disabled."""
    from tqdm import tqdm

    if enabled and not sys.stderr.isatty():
        return PlainProgress(total, desc)
    return tqdm(total=total, unit="run", desc=desc, file=sys.stderr, dynamic_ncols=True,
                disable=not enabled, smoothing=0.1)
