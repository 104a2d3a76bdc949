"""Built-in proxy columns and their provenance.

``ntk``, ``naswot`` and ``nasi`` are MONET's columns ``score``, ``score_naswot`` and
``score_nasi`` (github.com/vilhess/MONET, commit 336647a, ``benchmark_scores/*-NATS.csv``),
read from the same sha256-pinned files the table's test accuracies come from. MONET's
ImageNet16-120 file has no NASI column: that column is absent, never zero. ``params`` and
``flops`` are the table's own cost columns, listed as proxies so that every report shows the
baselines a proxy must beat. Larger is better for every built-in (checked on the data: each
has a positive rank correlation with accuracy on every dataset).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas_harness.benchmarks.datasets import DATASET_NAMES, get_dataset
from nas_harness.benchmarks.errors import DataIntegrityError, HarnessError
from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import DatasetTable


class ProxyMissingError(HarnessError, LookupError):
    """A proxy that has no scores on a dataset (absent, not zero), or no such proxy at all."""


@dataclass(frozen=True)
class BuiltinProxy:
    """Where a built-in proxy's numbers come from.

    Attributes:
        name: the proxy's name in the harness.
        column: MONET CSV column (empty for the table's own ``params``/``flops``).
        description: one line for ``proxies list`` and the docs.
        datasets: datasets that carry it.
        log_scale: whether a figure should use a log axis for it.
    """

    name: str
    column: str
    description: str
    datasets: tuple[str, ...] = DATASET_NAMES
    log_scale: bool = False


MONET_REF = "MONET (github.com/vilhess/MONET @336647a)"
BUILTIN: dict[str, BuiltinProxy] = {
    "ntk": BuiltinProxy("ntk", "score", f"{MONET_REF} NTK-based score, CSV column 'score'",
                        log_scale=True),
    "naswot": BuiltinProxy("naswot", "score_naswot",
                           f"{MONET_REF} NASWOT score (Mellor et al. 2021), 'score_naswot'"),
    "nasi": BuiltinProxy("nasi", "score_nasi",
                         f"{MONET_REF} NASI score (Shu et al. 2022), 'score_nasi'; absent on "
                         "ImageNet16-120 (MONET's file has no such column)",
                         datasets=("cifar10", "cifar100")),
    "params": BuiltinProxy("params", "", "parameter count (the table's params column): a "
                           "baseline", log_scale=True),
    "flops": BuiltinProxy("flops", "", "FLOPs in millions (the table's flops column): a "
                          "baseline", log_scale=True),
}
BASELINES = ("params", "flops")


@dataclass(frozen=True, eq=False)
class ProxyColumn:
    """One proxy's scores on one dataset, dense over all 32,768 indices (NaN = not scored).

    Attributes:
        name: the proxy.
        dataset: canonical dataset name.
        values: float64, read-only; NaN where the architecture has no score.
        source: where the numbers come from (a file, a column, a builder).
        sha256: sha256 of the file the numbers were read from ("" for table columns).
        log_scale: whether a figure should use a log axis.
    """

    name: str
    dataset: str
    values: np.ndarray
    source: str
    sha256: str = ""
    log_scale: bool = False

    def __post_init__(self) -> None:
        if self.values.shape != (SSS.size,):
            raise DataIntegrityError(f"proxy {self.name} on {self.dataset}: expected "
                                     f"{SSS.size} values, got shape {self.values.shape}")
        self.values.setflags(write=False)

    @property
    def scored(self) -> np.ndarray:
        """Which architectures carry a score."""
        return ~np.isnan(self.values)


def absent_message(name: str, dataset: str) -> str:
    """The one line that says a built-in proxy is absent on a dataset, and what to use."""
    spec = BUILTIN[name]
    others = [p for p, s in BUILTIN.items() if dataset in s.datasets]
    return (f"proxy {name!r} is absent on {dataset} (not zero: its source has no such column; "
            f"it exists on {', '.join(spec.datasets)}); use one of {', '.join(others)} there, "
            "or add your own scores with `nas-harness proxies add`")


def builtin_column(name: str, dataset: str, table: DatasetTable,
                   data_dir: str | Path | None = None) -> ProxyColumn:
    """A built-in proxy column; MONET columns are read from sha256-verified files.

    Raises:
        ProxyMissingError: unknown name, or the proxy is absent on ``dataset``.
        DataNotFoundError: the MONET file is not under ``data_dir``/``NAS_HARNESS_DATA``.
    """
    dataset = get_dataset(dataset).name
    if name not in BUILTIN:
        raise ProxyMissingError(f"unknown built-in proxy {name!r}; the built-ins are "
                                f"{', '.join(BUILTIN)}")
    spec = BUILTIN[name]
    if dataset not in spec.datasets:
        raise ProxyMissingError(absent_message(name, dataset))
    if not spec.column:
        values = np.asarray(getattr(table, name), dtype=np.float64).copy()
        return ProxyColumn(name, dataset, values, f"benchmark table column {name!r}",
                           log_scale=spec.log_scale)
    relpath, sha, column = monet_column(dataset, spec.column, data_dir)
    return ProxyColumn(name, dataset, column, f"{relpath} column {spec.column!r}", sha,
                       spec.log_scale)


_MONET_MEMO: dict[tuple[str, str, str], tuple[str, str, np.ndarray]] = {}


def monet_column(dataset: str, column: str, data_dir: str | Path | None = None
                 ) -> tuple[str, str, np.ndarray]:
    """``(relpath, sha256, values)`` of one MONET CSV column, checked like the table's build."""
    from nas_harness.benchmarks.data.build_public import check_index_column
    from nas_harness.benchmarks.data.sources import FIX_HINT, MONET_CSV, verify
    from nas_harness.benchmarks.data.store import HOW_TO_GET_DATA, resolve_source_dir

    root = resolve_source_dir(data_dir)
    if root is None:
        from nas_harness.benchmarks.errors import DataNotFoundError

        raise DataNotFoundError(f"the proxy columns need MONET's CSV files; {HOW_TO_GET_DATA}")
    relpath = MONET_CSV[dataset]
    key = (str(root.resolve()), relpath, column)
    if key in _MONET_MEMO:
        return _MONET_MEMO[key]
    sha = verify(root, [relpath])[relpath]
    import pandas as pd

    try:
        frame = pd.read_csv(root / relpath, usecols=["index", column])
    except ValueError as exc:
        raise DataIntegrityError(f"{relpath}: {exc}; {FIX_HINT}") from None
    check_index_column(relpath, frame["index"].to_numpy(), SSS.size)
    values = frame[column].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataIntegrityError(f"{relpath} column {column!r}: {bad.size} NaN/inf values, "
                                 f"first at index {int(bad[0])}; {FIX_HINT}")
    _MONET_MEMO[key] = (relpath, sha, values)
    return relpath, sha, values
