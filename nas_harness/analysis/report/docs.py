"""Where the report's sections are explained: the documentation pages under ``docs/``.

A report written inside the project's repository (``results/``, the default) links each
section to ``docs/<page>.md`` by a path relative to the page, so the links work in a clone
and on a code host alike. A report written elsewhere has no such folder beside it: it names
the page instead, for the reader to find in the documentation site.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT = "nas-harness"
DOCS_PAGES: tuple[str, ...] = (
    "getting-started.md", "protocol.md", "algorithms/index.md", "adding-an-algorithm.md",
    "regression-gate.md", "official-archive.md", "data.md", "guarantees.md", "performance.md",
    "statistics.md", "results.md", "fronts.md", "proxies.md",
)
"""The documentation pages (relative to ``docs/``) a report section may point to."""

_NAME = re.compile(r'^name\s*=\s*"([^"]+)"', re.MULTILINE)


def repository_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` whose ``pyproject.toml`` is the project's."""
    for folder in (path, *path.parents):
        manifest = folder / "pyproject.toml"
        if manifest.is_file():
            found = _NAME.search(manifest.read_text(encoding="utf-8"))
            if found and found.group(1) == PROJECT:
                return folder
    return None


def docs_prefix(out_dir: Path) -> str | None:
    """The relative path from a report in ``out_dir`` to the repository's ``docs/`` folder.

    ``None`` when ``out_dir`` lies outside the project's repository.
    """
    out = out_dir.resolve()
    root = repository_root(out)
    if root is None:
        return None
    return Path(os.path.relpath(root / "docs", out)).as_posix()


def doc_href(page: str, prefix: str | None) -> str | None:
    """The link to a documentation page, or ``None`` (name the page) outside the repository."""
    if page not in DOCS_PAGES:
        raise ValueError(f"{page!r} is not a documentation page; one of {', '.join(DOCS_PAGES)}")
    return None if prefix is None else f"{prefix}/{page}"
