"""One entry point for any proxy by name: a built-in column or stored user scores."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.proxies.columns import BUILTIN, ProxyColumn, builtin_column
from nas_harness.benchmarks.proxies.store import list_stored, load_stored
from nas_harness.benchmarks.table import DatasetTable


def proxy_names(dataset: str, cache: str | Path | None = None) -> list[str]:
    """Every proxy with scores on ``dataset``: the built-ins present there, then stored ones."""
    name = get_dataset(dataset).name
    out = [p for p, spec in BUILTIN.items() if name in spec.datasets]
    return out + [s.name for s in list_stored(cache) if name in s.datasets]


def proxy_column(name: str, dataset: str, table: DatasetTable,
                 data_dir: str | Path | None = None,
                 cache: str | Path | None = None) -> ProxyColumn:
    """The column of proxy ``name`` on ``dataset`` (ProxyMissingError says why not, in one line)."""
    ds = get_dataset(dataset).name
    if name in BUILTIN:
        return builtin_column(name, ds, table, data_dir)
    return load_stored(name, ds, cache)


def signal_columns(names: Sequence[str], dataset: str, table: DatasetTable,
                   data_dir: str | Path | None = None,
                   cache: str | Path | None = None) -> dict[str, np.ndarray]:
    """The columns a protocol's free signals name (what the runner hands the oracle)."""
    return {name: proxy_column(name, dataset, table, data_dir, cache).values for name in names}
