"""mkdocs hooks: the figures of ``results/`` on the site, and the pages' includes expanded.

Loaded by ``mkdocs.yml`` (``hooks:``). The figures keep their repository paths
(``results/figures/curves.png``), so a page links them as the README does; the includes are
:mod:`tools.docs.generate`'s.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:      # mkdocs runs from its own script directory
    sys.path.insert(0, str(ROOT))

from tools.docs.generate import expand  # noqa: E402

FIGURE_DIRS = ("results/figures", "results/libraries/figures")


def on_files(files: Any, config: Any) -> Any:
    """Serve the committed figures at their repository paths."""
    from mkdocs.structure.files import File

    for folder in FIGURE_DIRS:
        for png in sorted((ROOT / folder).glob("*.png")):
            files.append(File(png.relative_to(ROOT).as_posix(), str(ROOT),
                              config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Expand ``<!-- section: ... -->`` and ``<!-- generated: ... -->`` includes."""
    return expand(markdown, ROOT)
