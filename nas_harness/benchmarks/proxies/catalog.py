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


def signal_checksums(names: Sequence[str], dataset: str,
                     cache: str | Path | None = None) -> dict[str, str]:
    """What each free signal's numbers are, for a run's identity: the sha256 of its file.

    MONET columns: the pinned sha256 of the CSV (verified whenever it is read); ``params`` and
    ``flops``: ``"table"`` (the table's checksum is in the identity already); stored scores:
    the stored file's sha256. Replacing stored scores thus makes runs that read them stale.
    """
    from nas_harness.benchmarks.data.sources import MANIFEST, MONET_CSV
    from nas_harness.benchmarks.proxies.columns import ProxyMissingError, absent_message
    from nas_harness.benchmarks.proxies.store import list_stored

    ds = get_dataset(dataset).name
    pinned = {f.relpath: f.sha256 for f in MANIFEST}
    stored = {s.name: s for s in list_stored(cache)}
    out = {}
    for name in names:
        if name in BUILTIN:
            spec = BUILTIN[name]
            if ds not in spec.datasets:
                raise ProxyMissingError(absent_message(name, ds))
            out[name] = pinned[MONET_CSV[ds]] if spec.column else "table"
        elif name in stored and ds in stored[name].datasets:
            out[name] = stored[name].sha256
        else:
            out[name] = load_stored(name, ds, cache).sha256  # raises, naming the fix
    return out
