"""Replacing a file atomically: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    The temporary file sits in the same directory (so the rename is atomic on one file
    system) and is removed whatever happens, so a failure leaves the old file and no litter.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
