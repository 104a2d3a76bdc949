"""The canonical in-memory benchmark table: one record of numpy arrays per dataset.

Every column is a dense array over all 32,768 architecture indices, so a lookup is a numpy
fancy index. A table built from a partial source (the official 3-architecture sample) marks the
rows it has in ``available``; the others hold NaN (floats) or -1 (integers).

Building (from the public exports or an official archive) and storing (Parquet + JSON) live in
``nas_harness.benchmarks.data.build_public``, ``nas_harness.benchmarks.data.build_official`` and
``nas_harness.benchmarks.data.store``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.errors import DataIntegrityError, UnknownNameError

SCHEMA_VERSION = 1
HP12_SEEDS: tuple[int, ...] = (777, 888, 999)
FIDELITIES: tuple[str, ...] = ("90", "12")


@dataclass(frozen=True)
class DatasetTable:
    """All per-architecture numbers of one dataset.

    Attributes:
        dataset: canonical dataset name.
        valid_acc: hp=90 validation accuracy in % (seed 777; CIFAR-10: ``cifar10-valid``).
        test_acc: hp=90 test accuracy in % (what NATS-Bench reports); harness-only.
        params: number of parameters (integer count, not millions).
        flops: FLOPs in millions, as the official API reports them.
        available: rows that carry accuracies (all True for a full table).
        hp12_valid_acc: optional ``(n, 3)`` hp=12 validation accuracy per seed 777/888/999.
        hp12_train_time: optional hp=12 total training time in seconds (per seed 777).
        hp12_eval_time: optional hp=12 total evaluation time in seconds (per seed 777).
        latency: optional latency in seconds.
        hp12_time: optional ``(n, 3)`` seconds that NATS-Bench's ``simulate_train_eval(...,
            hp='12')`` charges for a query answered by seed 777/888/999: that seed's total
            training time plus its per-epoch validation time (NaN where the seed is absent).
    """

    dataset: str
    valid_acc: np.ndarray
    test_acc: np.ndarray
    params: np.ndarray
    flops: np.ndarray
    available: np.ndarray
    hp12_valid_acc: np.ndarray | None = None
    hp12_train_time: np.ndarray | None = None
    hp12_eval_time: np.ndarray | None = None
    latency: np.ndarray | None = None
    hp12_time: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.valid_acc)
        for name in ("test_acc", "params", "flops", "available"):
            if len(getattr(self, name)) != n:
                raise DataIntegrityError(f"{self.dataset}: column {name} has the wrong length")
        if self.hp12_valid_acc is not None and self.hp12_valid_acc.shape != (n, len(HP12_SEEDS)):
            raise DataIntegrityError(f"{self.dataset}: hp12_valid_acc must be ({n}, 3)")
        if self.hp12_time is not None and self.hp12_time.shape != (n, len(HP12_SEEDS)):
            raise DataIntegrityError(f"{self.dataset}: hp12_time must be ({n}, 3)")
        for arr in (self.valid_acc, self.test_acc, self.params, self.flops, self.available,
                    self.hp12_valid_acc, self.hp12_train_time, self.hp12_eval_time, self.latency,
                    self.hp12_time):
            if arr is not None:
                arr.setflags(write=False)

    @property
    def num_archs(self) -> int:
        """Number of rows (architectures)."""
        return len(self.valid_acc)

    @property
    def is_complete(self) -> bool:
        """Whether every architecture carries accuracies."""
        return bool(self.available.all())

    @property
    def fidelities(self) -> tuple[str, ...]:
        """The training budgets (``hp``) whose validation accuracy this table holds."""
        return ("90", "12") if self.hp12_valid_acc is not None else ("90",)

    @property
    def hp12_seeds(self) -> np.ndarray:
        """``(n, 3)`` bool: which of the seeds 777/888/999 ran at hp=12 (a NaN = absent)."""
        if self.hp12_valid_acc is None:
            return np.zeros((self.num_archs, len(HP12_SEEDS)), dtype=bool)
        return ~np.isnan(self.hp12_valid_acc)


@dataclass(frozen=True)
class TableProvenance:
    """Where a table came from: builder, source files with their sha256, schema version.

    ``synthetic`` marks a table built from a synthetic archive
    (:mod:`nas_harness.benchmarks.data.synthetic_archive`): its hp=12 accuracies and times are
    invented
    noise, fit for tests and speed measurements, never for results; ``data info``, every report
    and ``reproduce`` (which refuses it without ``--allow-synthetic``) say so.
    """

    builder: str
    sources: Mapping[str, str]
    schema_version: int = SCHEMA_VERSION
    partial: bool = False
    checksum: str = ""
    synthetic: bool = False


@dataclass(frozen=True)
class BenchmarkTable:
    """The tables of all datasets plus their provenance."""

    datasets: Mapping[str, DatasetTable]
    provenance: TableProvenance
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_names", tuple(self.datasets))

    def __getitem__(self, dataset: str) -> DatasetTable:
        """The table of one dataset (aliases accepted)."""
        name = get_dataset(dataset).name
        if name not in self.datasets:
            raise UnknownNameError(
                f"dataset {name!r} is not in this table (it has: {', '.join(self._names)}); "
                "rebuild it with `nas-harness data build --from DIR`"
            )
        return self.datasets[name]

    def __contains__(self, dataset: object) -> bool:
        try:
            return get_dataset(str(dataset)).name in self.datasets
        except UnknownNameError:
            return False

    @property
    def names(self) -> tuple[str, ...]:
        """Dataset names present in the table."""
        return self._names


def empty_column(n: int, dtype: type | np.dtype) -> np.ndarray:
    """A column with the 'missing' marker: NaN for floats, -1 for integers."""
    dt = np.dtype(dtype)
    return np.full(n, np.nan if dt.kind == "f" else -1, dtype=dt)
