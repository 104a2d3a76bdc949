"""Execute one run: an algorithm against the oracle of one dataset, to a trajectory table.

A run is fully described by a :class:`RunTask` (small, picklable), so it can be executed in
any process, local or remote, and give the same bytes. The trajectory has one row per charged
query with the columns of :data:`nas_harness.benchmarks.records.TRAJECTORY_COLUMNS`; it is
serialised to
Parquet with fixed settings so equal trajectories are equal files, byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.search_loop import run_search
from nas_harness.benchmarks.oracle import Oracle
from nas_harness.benchmarks.protocol import Protocol
from nas_harness.benchmarks.records import (
    arch_strings,
    incumbents,
    repeated_string,
    table_from_columns,
)
from nas_harness.benchmarks.run_files import configuration_of
from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import DatasetTable
from nas_harness.seeding import RunSeeds, run_seeds

# protocol fields every sidecar has always recorded, even at their defaults
_CORE_PROTOCOL_FIELDS = ("budget", "fidelity", "max_flops_fraction")


def protocol_record(protocol: Protocol) -> dict[str, Any]:
    """The protocol's fields as JSON (the dataset aside): what a run's identity records.

    Derived from the Protocol dataclass itself, so a field added to it enters every run's
    identity without touching this code. A field beyond budget, fidelity and FLOPs fraction is
    recorded only when it differs from its default, so adding an optional field leaves the
    fingerprints of existing runs (which used the default) unchanged.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(protocol):
        if f.name == "dataset":
            continue
        value = getattr(protocol, f.name)
        if f.name not in _CORE_PROTOCOL_FIELDS and f.default is not dataclasses.MISSING \
                and value == f.default:
            continue
        out[f.name] = value
    return out


@dataclass(frozen=True)
class RunTask:
    """Everything that determines a run's result (and nothing else).

    Attributes:
        algorithm: the label of the algorithm in this sweep (its results directory); the
            registry name unless the sweep gave another one.
        algorithm_name: the registry name of the algorithm class.
        params: the algorithm's full parameters (defaults filled in), sorted ``(key, value)``
            pairs of JSON values.
        dataset: canonical dataset name.
        run: run index (0-based).
        budget: queries per run.
        fidelity: ``"90"`` or ``"12"``.
        max_flops_fraction: FLOPs constraint as a fraction of the largest model, or None.
        master_seed: entropy of the sweep's ``SeedSequence``.
        protocol_options: further :class:`Protocol` fields (sorted ``(name, value)`` pairs),
            for protocol fields beyond budget, fidelity and FLOPs fraction.
    """

    algorithm: str
    algorithm_name: str
    params: tuple[tuple[str, Any], ...]
    dataset: str
    run: int
    budget: int
    fidelity: str = "90"
    max_flops_fraction: float | None = 0.5
    master_seed: int = 0
    protocol_options: tuple[tuple[str, Any], ...] = ()
    _seeds: RunSeeds = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.protocol_options, Mapping):
            object.__setattr__(self, "protocol_options",
                               tuple(sorted(self.protocol_options.items())))
        object.__setattr__(self, "_seeds",
                           run_seeds(self.master_seed, self.algorithm, self.dataset, self.run))

    @property
    def run_id(self) -> str:
        """``<dataset>/<algorithm>/<run:03d>``: the run's name in files and tables."""
        return f"{self.dataset}/{self.algorithm}/{self.run:03d}"

    @property
    def protocol(self) -> Protocol:
        """The protocol the run is judged under."""
        return Protocol(self.dataset, budget=self.budget, fidelity=self.fidelity,
                        max_flops_fraction=self.max_flops_fraction,
                        **dict(self.protocol_options))

    @property
    def seeds(self) -> RunSeeds:
        """The run's seed material (from the master seed and the run's identity only)."""
        return self._seeds

    @property
    def params_dict(self) -> dict[str, Any]:
        """The parameters as a dict."""
        return dict(self.params)

    def identity(self, table_checksum: str) -> dict[str, Any]:
        """The JSON record of what determines the result, the table's checksum included."""
        return {
            "run_id": self.run_id,
            "algorithm": self.algorithm,
            "algorithm_name": self.algorithm_name,
            "params": self.params_dict,
            "dataset": self.dataset,
            "run": self.run,
            "protocol": protocol_record(self.protocol),
            "seed": self.seeds.to_dict(),
            "table_checksum": table_checksum,
            **self._signals_record(),
        }

    def _signals_record(self) -> dict[str, Any]:
        """``{"signals_sha256": {name: sha256}}`` under free signals, else nothing.

        Absent without free signals, so those runs keep their identity.
        """
        names = self.protocol.free_signals
        if not names:
            return {}
        from nas_harness.benchmarks.proxies.catalog import signal_checksums

        return {"signals_sha256": signal_checksums(names, self.dataset)}

    def configuration(self, table_checksum: str) -> dict[str, Any]:
        """What this run shares with the other runs of its label and dataset (no run index).

        A results directory ``<out>/<dataset>/<label>`` holds runs of one configuration only.
        """
        return configuration_of(self.identity(table_checksum))

    def fingerprint(self, table_checksum: str) -> str:
        """sha256 of :meth:`identity`: a stored run with another fingerprint is stale."""
        text = json.dumps(self.identity(table_checksum), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def warm_up() -> None:
    """Build this process's per-run caches (every architecture string of the space) now.

    Pool workers call this at start-up so the first run's timeout does not pay for it.
    """
    arch_strings(np.arange(SSS.size, dtype=np.int64))


def search(task: RunTask, table: DatasetTable, algorithm_cls: type[Algorithm],
           params: Any) -> pa.Table:
    """Run ``algorithm_cls(params)`` under the task's protocol and seeds; return the trajectory."""
    seeds = task.seeds
    protocol = task.protocol
    signals = None
    if protocol.free_signals:
        from nas_harness.benchmarks.proxies.catalog import signal_columns

        signals = signal_columns(protocol.free_signals, task.dataset, table)
    oracle = Oracle(table, protocol, rng=seeds.oracle_rng(), signals=signals)
    algorithm = algorithm_cls(oracle.context, seeds.algorithm_rng(), params)
    log = run_search(algorithm, oracle)
    return trajectory_table(task, table, log.index, log.valid_acc, log.feasible, log.duplicate,
                            log.elapsed)


def trajectory_table(task: RunTask, table: DatasetTable, index: np.ndarray,
                     valid_acc: np.ndarray, feasible: np.ndarray,
                     duplicate: np.ndarray, elapsed: np.ndarray | None = None) -> pa.Table:
    """The trajectory of a query log: one row per query with the incumbent so far.

    ``elapsed`` is the simulated clock after each query under a time budget (NaN otherwise).
    """
    n = len(index)
    if elapsed is None:
        elapsed = np.full(n, np.nan)
    inc = incumbents(index, valid_acc, feasible)
    has = inc.index >= 0
    inc_test = np.where(has, table.test_acc[np.maximum(inc.index, 0)], np.nan)
    columns = {
        "run_id": repeated_string(task.run_id, n),
        "algorithm": repeated_string(task.algorithm, n),
        "dataset": repeated_string(task.dataset, n),
        "run": np.full(n, task.run, dtype=np.int64),
        "query": np.arange(1, n + 1, dtype=np.int64),
        "arch_index": index.astype(np.int64, copy=False),
        "arch": arch_strings(index),
        "flops": table.flops[index].astype(np.float64, copy=False),
        "params": table.params[index].astype(np.int64, copy=False),
        "feasible": feasible.astype(bool, copy=False),
        "duplicate": duplicate.astype(bool, copy=False),
        "valid_acc": valid_acc.astype(np.float64, copy=False),
        "incumbent_index": inc.index.astype(np.int64, copy=False),
        "incumbent_valid_acc": inc.valid_acc.astype(np.float64, copy=False),
        "incumbent_test_acc": inc_test.astype(np.float64, copy=False),
        "elapsed_s": np.asarray(elapsed, dtype=np.float64),
    }
    return table_from_columns(columns)
