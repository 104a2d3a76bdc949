"""Where the raw sources, the fetched sources and the built table live.

* ``NAS_HARNESS_DATA``: a ``natsbench_sss`` directory of raw source files (read-only use);
* ``NAS_HARNESS_CACHE``: the cache (default ``$XDG_CACHE_HOME/nas-harness`` or
  ``~/.cache/nas-harness``), holding ``sources/`` (what ``nas-harness data fetch``
  downloaded) and ``table/`` (the built table: one Parquet file and its JSON sidecar);
* ``NAS_HARNESS_FETCH_BASE``: replaces ``https://raw.githubusercontent.com`` in fetch URLs.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA = "NAS_HARNESS_DATA"
ENV_CACHE = "NAS_HARNESS_CACHE"
ENV_FETCH_BASE = "NAS_HARNESS_FETCH_BASE"
TABLE_NAME = "nats_sss"


def env_data_dir() -> Path | None:
    """The directory named by ``NAS_HARNESS_DATA``, or None when unset or empty."""
    value = os.environ.get(ENV_DATA, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir(override: str | Path | None = None) -> Path:
    """The cache directory: ``override``, ``NAS_HARNESS_CACHE``, or the XDG default."""
    if override is not None:
        return Path(override).expanduser()
    value = os.environ.get(ENV_CACHE, "").strip()
    if value:
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "nas-harness"


def fetched_sources_dir(cache: str | Path | None = None) -> Path:
    """Where ``nas-harness data fetch`` puts the downloaded source files."""
    return cache_dir(cache) / "sources"


def table_files(cache: str | Path | None = None) -> tuple[Path, Path]:
    """The built table's Parquet file and its JSON sidecar."""
    folder = cache_dir(cache) / "table"
    return folder / f"{TABLE_NAME}.parquet", folder / f"{TABLE_NAME}.json"
