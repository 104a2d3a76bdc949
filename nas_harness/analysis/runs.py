"""Load a sweep's results for analysis: trajectories, the run inventory, one protocol.

The inventory comes from the sidecars (``<out>/<dataset>/<algorithm>/run-NNN.json``), so
failed runs (and any stored as complete without a query, status ``empty``) are reported, not
silently dropped, and a damaged file stops the report with one line naming it. All
runs of one report must share one protocol (budget, fidelity, FLOPs constraint, and per
dataset one time budget in simulated seconds or none), one master seed and one benchmark
table, and the runs of one label on one dataset one configuration (algorithm, parameters):
mixing them would put incomparable numbers on one axis or average two different things
under one name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError, ProtocolError
from nas_harness.benchmarks.protocol import Protocol
from nas_harness.benchmarks.run_files import (
    StoredRun,
    configuration_key,
    configuration_of,
    describe_difference,
    read_runs,
    read_trajectories,
)

# the trajectory columns a report (and the gate) reads: the run's keys, the query number, the
# incumbent and the simulated clock -- not the per-query architecture strings
REPORT_COLUMNS: tuple[str, ...] = ("run_id", "algorithm", "dataset", "run", "query",
                                   "incumbent_index", "incumbent_test_acc", "elapsed_s")

INVENTORY_COLUMNS: tuple[str, ...] = (
    "run_id", "algorithm", "algorithm_name", "dataset", "run", "status", "budget", "fidelity",
    "max_flops_fraction", "master_seed", "table_checksum", "params", "queries", "configuration",
    "library", "budget_seconds",
)


@dataclass(frozen=True)
class SweepResults:
    """What a report or the gate needs from a results directory.

    Attributes:
        runs_dir: the results root.
        trajectories: complete runs, one row per query (``TRAJECTORY_COLUMNS``).
        inventory: one row per sidecar (:data:`INVENTORY_COLUMNS`; ``params`` and ``library``,
            the versions of an adapter's optimizer library, as JSON text).
        budget: the common query budget.
        fidelity: the common fidelity.
        max_flops_fraction: the common FLOPs constraint (None: unconstrained).
        table_checksum: checksum of the table the runs were made with.
        budget_seconds: per dataset, the budget in simulated seconds the runs were made
            under (``--budget-seconds``); None when they used a query budget only.
    """

    runs_dir: Path
    trajectories: pd.DataFrame
    inventory: pd.DataFrame
    budget: int
    fidelity: str
    max_flops_fraction: float | None
    table_checksum: str
    budget_seconds: Mapping[str, float] | None = None

    @property
    def complete(self) -> pd.DataFrame:
        """The inventory rows of complete runs."""
        return self.inventory[self.inventory["status"] == "complete"].reset_index(drop=True)

    @property
    def failed(self) -> pd.DataFrame:
        """The inventory rows of runs that did not complete."""
        return self.inventory[self.inventory["status"] != "complete"].reset_index(drop=True)

    def protocol(self, dataset: str) -> Protocol:
        """The runs' protocol on ``dataset``."""
        seconds = None if self.budget_seconds is None else self.budget_seconds[dataset]
        return Protocol(dataset, budget=self.budget, fidelity=self.fidelity,
                        max_flops_fraction=self.max_flops_fraction, budget_seconds=seconds)

    def algorithm_params(self) -> dict[str, dict[str, Any]]:
        """Per algorithm label: registry name, full parameters and library versions."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.inventory.drop_duplicates("algorithm").itertuples(index=False):
            out[str(row.algorithm)] = {"name": row.algorithm_name,
                                       "params": json.loads(str(row.params)),
                                       "library": json.loads(str(row.library))}
        return dict(sorted(out.items()))


def _inventory_row(run: StoredRun) -> dict[str, Any]:
    record: Mapping[str, Any] = run.record or {}
    protocol = record.get("protocol", {})
    seed = record.get("seed", {})
    return {
        "run_id": record.get("run_id"),
        "algorithm": record.get("algorithm"),
        "algorithm_name": record.get("algorithm_name", record.get("algorithm")),
        "dataset": record.get("dataset"),
        "run": record.get("run"),
        "status": run.status,
        "budget": protocol.get("budget"),
        "fidelity": str(protocol.get("fidelity")),
        "max_flops_fraction": protocol.get("max_flops_fraction"),
        "master_seed": seed.get("entropy"),
        "table_checksum": record.get("table_checksum", ""),
        "params": json.dumps(record.get("params", {}), sort_keys=True),
        "queries": (record.get("result") or {}).get("queries", 0),
        "configuration": configuration_key(configuration_of(record)),
        "library": json.dumps(record.get("library", {}), sort_keys=True),
        "budget_seconds": protocol.get("budget_seconds"),
    }


def _one_configuration_per_label(complete: pd.DataFrame, runs_dir: Path) -> None:
    """Refuse a label whose complete runs on a dataset were made with different settings."""
    for (dataset, label), group in complete.groupby(["dataset", "algorithm"], sort=True):
        keys = group["configuration"].drop_duplicates().tolist()
        if len(keys) < 2:
            continue
        first, second = (json.loads(k) for k in keys[:2])
        have, other = describe_difference(first, second)
        raise ProtocolError(
            f"{runs_dir}/{dataset}/{label} holds runs of {len(keys)} configurations ({have} "
            f"vs {other}); a report shows one configuration per label: re-run one of them "
            "with another --label or --out (or --force to replace the other)"
        )


def _single(inventory: pd.DataFrame, column: str, runs_dir: Path) -> Any:
    values = inventory[column].drop_duplicates().tolist()
    if len(values) != 1:
        raise ProtocolError(
            f"the runs in {runs_dir} mix {column} values {values}; a report compares runs "
            "under one protocol, master seed and table: put each sweep in its own directory "
            "(or report one experiment: `nas-harness report EXPERIMENT.toml`)"
        )
    return values[0]


def _time_budgets(complete: pd.DataFrame, runs_dir: Path) -> dict[str, float] | None:
    """Per dataset, the runs' one budget in simulated seconds; None when none has one.

    A dataset whose runs mix time budgets (or a time budget and none), or a report with a
    time budget on some datasets and not others, would put different axes side by side.
    """
    budgets: dict[str, float | None] = {}
    for dataset, group in complete.groupby("dataset", sort=True):
        values = sorted({None if v is None or pd.isna(v) else float(v)
                         for v in group["budget_seconds"]}, key=lambda v: (v is not None, v))
        if len(values) != 1:
            shown = ", ".join("none (a query budget)" if v is None else f"{v:g} s"
                              for v in values)
            raise ProtocolError(
                f"the runs in {runs_dir}/{dataset} mix time budgets ({shown}); a report puts "
                "one time budget per dataset on its x-axis: put each sweep in its own "
                "directory (or re-run with one --budget-seconds)")
        budgets[str(dataset)] = values[0]
    if all(v is None for v in budgets.values()):
        return None
    if any(v is None for v in budgets.values()):
        untimed = ", ".join(d for d, v in budgets.items() if v is None)
        raise ProtocolError(
            f"the runs in {runs_dir} have a time budget on some datasets but a query budget on "
            f"{untimed}; a report uses one x-axis (seconds or queries): put each sweep in its "
            "own directory (or re-run those datasets with --budget-seconds)")
    return {d: float(v) for d, v in budgets.items() if v is not None}


def load_results(runs_dir: Path | str, *, table_checksum: str | None = None,
                 algorithms: Iterable[str] | None = None,
                 datasets: Iterable[str] | None = None,
                 runs: int | None = None,
                 columns: Sequence[str] | None = None) -> SweepResults:
    """Read every sidecar and complete trajectory under ``runs_dir``.

    Args:
        runs_dir: a sweep's output directory.
        table_checksum: when given, the checksum the runs must have been made with (the
            table the report reads reference lines and FLOPs from).
        algorithms: only these algorithm labels (default: all).
        datasets: only these datasets (default: all).
        runs: only run indices ``0..runs-1`` (default: all).
        columns: only these trajectory columns (default: all; :data:`REPORT_COLUMNS` are
            what a report reads, a third of the memory of all of them). ``run_id`` is always
            read.

    Raises:
        DataNotFoundError: no run under ``runs_dir``.
        ProtocolError: runs under different protocols (time budgets included: one per
            dataset, on every dataset or none).
        DataIntegrityError: runs made with another table.
    """
    root = Path(runs_dir)
    algorithms = None if algorithms is None else list(algorithms)
    datasets = None if datasets is None else list(datasets)
    stored = read_runs(root, datasets=datasets, algorithms=algorithms)
    rows = [_inventory_row(run) for run in stored]
    if not rows:
        raise DataNotFoundError(
            f"no run found under {root}; run a sweep first (`nas-harness run ... --out {root}` "
            "or `nas-harness reproduce`)"
        )
    inventory = pd.DataFrame(rows, columns=list(INVENTORY_COLUMNS))
    keep = pd.Series(True, index=inventory.index)
    if algorithms is not None:
        keep &= inventory["algorithm"].isin(algorithms)
    if datasets is not None:
        keep &= inventory["dataset"].isin([get_dataset(d).name for d in datasets])
    if runs is not None:
        keep &= inventory["run"] < runs
    inventory = inventory[keep].reset_index(drop=True)
    stored = [run for run, kept in zip(stored, keep, strict=True) if kept]
    if inventory.empty:
        raise DataNotFoundError(f"no run under {root} matches the algorithms, datasets and "
                                "runs asked for; run the sweep first")
    complete = inventory[inventory["status"] == "complete"]
    if complete.empty:
        raise DataNotFoundError(f"every run under {root} failed; see the tracebacks in their "
                                ".json sidecars")
    _one_configuration_per_label(complete, root)
    budget = int(_single(complete, "budget", root))
    fidelity = str(_single(complete, "fidelity", root))
    fraction = _single(complete, "max_flops_fraction", root)
    fraction = None if fraction is None or pd.isna(fraction) else float(fraction)
    checksum = str(_single(complete, "table_checksum", root))
    _single(complete, "master_seed", root)
    seconds = _time_budgets(complete, root)
    if table_checksum is not None and checksum != table_checksum:
        raise DataIntegrityError(
            f"the runs in {root} were made with benchmark table {checksum[:12]}..., but the "
            f"loaded table is {table_checksum[:12]}...; re-run the sweep with the current "
            "table (or point NAS_HARNESS_DATA/NAS_HARNESS_CACHE at the old one)"
        )
    trajectories = read_trajectories(
        stored, columns=None if columns is None else ["run_id", *columns]).to_pandas()
    return SweepResults(root, trajectories, inventory, budget, fidelity, fraction, checksum,
                        seconds)
